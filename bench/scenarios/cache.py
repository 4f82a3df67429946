"""Client cache: the cost of a hit, and the first call from 8 threads.

Hit: ``session.client("s3", region_name=..., endpoint_url=...)`` again
after the first call made and cached the client, the keywords written out
as a caller writes them; and ``session.client("s3")``, the plain call.

First call: on each of ``--trials`` fresh sessions, 8 threads waiting on a
barrier call ``session.client(...)`` with the same arguments at once.
Exceptions are counted, not raised; so are the distinct client objects
handed out (1 means every thread got the cached client).

Figures: ``hit_us``, ``hit_plain_us``, ``errors`` (total over the trials), ``distinct_max``
(the most distinct clients in one trial), ``first_call_ms`` (median wall
time of a trial's burst).
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any, Dict, List, Tuple

import common

THREADS = 8


def first_call_burst(session: Any, kw: Dict[str, Any], errors: List[str]) -> Tuple[float, List[Any]]:
    """THREADS threads call ``session.client("s3", **kw)`` at once (a
    barrier); return the burst's wall time and the clients they got, and
    append the name of each exception raised to ``errors``."""
    barrier = threading.Barrier(THREADS)
    got: List[Any] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait()
        try:
            c = session.client("s3", **kw)
        except Exception as exc:  # counted, not raised
            with lock:
                errors.append(type(exc).__name__)
            return
        with lock:
            got.append(c)

    threads = [threading.Thread(target=call) for _ in range(THREADS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, got


def main() -> None:
    """Run the scenario."""
    args = common.parse_args(
        lambda p: (p.add_argument("--n", type=int, default=5000), p.add_argument("--trials", type=int, default=5))
    )
    mod = common.load(args.lib)
    endpoint = args.moto or "http://127.0.0.1:9"
    getter = common.Getter(lifetime=3600)
    kw = {"region_name": common.REGION, "endpoint_url": endpoint}

    session = common.custom_session(mod, getter, **common.session_kwargs(args))
    first = session.client("s3", **kw)
    assert session.client("s3", region_name=common.REGION, endpoint_url=endpoint) is first, "not cached"
    hit = common.batches(lambda: session.client("s3", region_name=common.REGION, endpoint_url=endpoint), args.n, 7)
    plain = session.client("s3")
    assert session.client("s3") is plain, "the client was not cached"
    hit_plain = common.batches(lambda: session.client("s3"), args.n, 7)

    errors: List[str] = []
    distinct: List[int] = []
    bursts: List[float] = []
    for _ in range(args.trials):
        fresh = common.custom_session(mod, getter, **common.session_kwargs(args))
        seconds, got = first_call_burst(fresh, kw, errors)
        bursts.append(seconds)
        distinct.append(len({id(c) for c in got}))
    common.emit(
        {
            "hit_us": statistics.median(hit) * 1e6,
            "hit_plain_us": statistics.median(hit_plain) * 1e6,
            "errors": len(errors),
            "error_types": sorted(set(errors)),
            "distinct_max": max(distinct),
            "first_call_ms": statistics.median(bursts) * 1e3,
        }
    )


if __name__ == "__main__":
    main()
