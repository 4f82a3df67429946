"""One refresh: an STS AssumeRole to the moto server.

Each refresh is forced (see ``common.force_refresh``): the anchor runs
botocore's protected refresh, an AssumeRole made in Python on the calling
thread; gobrs runs it in Go while the calling thread waits.

Figures: ``wall_ms`` and ``cpu_ms`` — medians over ``--n`` refreshes of the
wall time and of the CPU time of the calling thread (``time.thread_time``).
"""

from __future__ import annotations

import statistics
import time

import common


def main() -> None:
    """Run the scenario."""
    args = common.parse_args(lambda p: p.add_argument("--n", type=int, default=25))
    mod = common.load(args.lib)
    session = common.sts_session(mod, args.moto, **common.session_kwargs(args))
    first = common.read(session).access_key
    for _ in range(3):  # warm up: connections, code paths
        common.force_refresh(args.lib, session)
    wall, cpu = [], []
    for _ in range(args.n):
        w0, c0 = time.perf_counter(), time.thread_time()
        common.force_refresh(args.lib, session)
        c1, w1 = time.thread_time(), time.perf_counter()
        wall.append(w1 - w0)
        cpu.append(c1 - c0)
    assert common.read(session).access_key != first, "the credentials did not change"
    common.emit({"wall_ms": statistics.median(wall) * 1e3, "cpu_ms": statistics.median(cpu) * 1e3})


if __name__ == "__main__":
    main()
