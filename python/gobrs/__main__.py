"""``python -m gobrs``: the ``gobrs`` command (gobrs.cli)."""

import sys

from .cli import main

sys.exit(main())
