"""Compile a C program the way the C tests do (C11, all warnings errors),
for the Python tests that check the C interface from outside."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def compile_c(src: Path, exe: Path, *flags: str) -> None:
    """Compile ``src`` into ``exe`` with ``$CC`` (default ``cc``); ``flags``
    follow the source (include paths, libraries)."""

    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-Wall", "-Wextra", "-Werror", "-std=c11", "-D_GNU_SOURCE", "-o", str(exe), str(src), *flags]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, " ".join(cmd) + "\n" + proc.stdout + proc.stderr
