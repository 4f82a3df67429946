"""Constructing a session, the first in a process and in steady state.

``--method custom``: a custom getter (never called: refresh is deferred).
``--method sts``: AssumeRole against the moto server (not called either: the
first fetch is deferred to the first read, so this is the cost of setting
the session up, STS client included).

Figures: ``first_ms`` (the first session after import, which includes
loading the Go library for gobrs, and boto3's import: gobrs imports boto3
lazily), ``import_first_ms`` (the import and the first session: the time
to a first session) and ``steady_ms`` (median of the next ``--n``
constructions; all sessions are kept referenced so that no destructor runs
inside the timing).
"""

from __future__ import annotations

import statistics
import time
from typing import Any, List

import common


def main() -> None:
    """Run the scenario."""
    args = common.parse_args(
        lambda p: (
            p.add_argument("--method", choices=["custom", "sts"], required=True),
            p.add_argument("--n", type=int, default=20),
        )
    )
    t_import = time.perf_counter()
    mod = common.load(args.lib)
    t_import = time.perf_counter() - t_import
    getter = common.Getter(lifetime=3600)

    def make() -> Any:
        return common.method_session(mod, args, getter)

    keep: List[Any] = []
    t0 = time.perf_counter()
    keep.append(make())
    first = time.perf_counter() - t0
    steady = []
    for _ in range(args.n):
        t0 = time.perf_counter()
        keep.append(make())
        steady.append(time.perf_counter() - t0)
    assert getter.calls == 0, "construction fetched credentials"
    common.emit(
        {
            "first_ms": first * 1e3,
            "import_first_ms": (t_import + first) * 1e3,
            "steady_ms": statistics.median(steady) * 1e3,
        }
    )


if __name__ == "__main__":
    main()
