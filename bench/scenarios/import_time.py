"""Import time of the package in a fresh interpreter.

Figures: ``import_ms`` — wall time of ``import boto3_refresh_session`` or
``import gobrs`` (boto3 and botocore included: neither is imported before).
"""

from __future__ import annotations

import sys
import time

import common


def main() -> None:
    """Run the scenario."""
    args = common.parse_args()
    assert "boto3" not in sys.modules, "boto3 was imported before the measurement"
    t0 = time.perf_counter()
    common.load(args.lib)
    t1 = time.perf_counter()
    common.emit({"import_ms": (t1 - t0) * 1e3})


if __name__ == "__main__":
    main()
