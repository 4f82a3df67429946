"""A real workload: 4 threads making S3 calls to moto while the credentials
expire every 20 s.

The session assumes a role from moto with ``DurationSeconds=20``,
``advisory_timeout=5``, ``mandatory_timeout=2`` and ``defer_refresh=False``
(the same windows in both libraries), so a refresh falls due about every
15 s. Four threads share one S3 client from the session's client cache and
call ``head_object`` on a small object for ``--seconds``. Each call is timed
together with the per-request credential read that follows it (which is how
a thread notices that the credentials changed: the first thread to see a new
access key marks a refresh).

Figures: ``calls_per_s`` (one value per 5 s slice), ``refresh_worst_ms``
(one value per refresh: the slowest call that overlaps the second before
or after it), ``call_p50_ms`` and ``call_p99_ms`` (all calls), ``refreshes``,
``errors``.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Dict, List, Tuple

import common

THREADS = 4
BUCKET = "gobrs-bench-workload"
KEY = "object"
SLICE = 5.0
AROUND = 1.0


def main() -> None:
    """Run the scenario."""
    args = common.parse_args(lambda p: p.add_argument("--seconds", type=float, default=60.0))
    mod = common.load(args.lib)
    session = common.sts_session(
        mod,
        args.lib,
        args.moto,
        duration_seconds=20,
        **common.session_kwargs(args, defer_refresh=False, advisory_timeout=5, mandatory_timeout=2),
    )
    s3 = session.client("s3", endpoint_url=args.moto, region_name=common.REGION)
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"gobrs")

    lock = threading.Lock()
    seen: Dict[str, float] = {common.read(session).access_key: 0.0}
    calls: List[Tuple[float, float]] = []
    errors: List[str] = []
    start = time.perf_counter()
    stop = start + args.seconds

    def worker() -> None:
        mine: List[Tuple[float, float]] = []
        while True:
            t0 = time.perf_counter()
            if t0 >= stop:
                break
            try:
                s3.head_object(Bucket=BUCKET, Key=KEY)
                key = common.read(session).access_key
            except Exception as exc:  # counted, not raised
                with lock:
                    errors.append(type(exc).__name__)
                continue
            t1 = time.perf_counter()
            mine.append((t0, t1))
            if key not in seen:
                with lock:
                    seen.setdefault(key, t1)
        with lock:
            calls.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start

    refreshes = sorted(t for t in seen.values() if t > 0)
    worst = []
    for r in refreshes:
        near = [t1 - t0 for t0, t1 in calls if t1 >= r - AROUND and t0 <= r + AROUND]
        if near:
            worst.append(max(near) * 1e3)
    slices = int(elapsed // SLICE)
    per_slice = [0] * slices
    for t0, _ in calls:
        i = int((t0 - start) // SLICE)
        if i < slices:
            per_slice[i] += 1
    latencies = sorted(t1 - t0 for t0, t1 in calls)
    stats = common.summarize(latencies)
    common.emit(
        {
            "calls_per_s": [n / SLICE for n in per_slice],
            "calls_total_per_s": len(calls) / elapsed,
            "refresh_worst_ms": worst,
            "call_p50_ms": stats["p50"] * 1e3,
            "call_p99_ms": stats["p99"] * 1e3,
            "call_max_ms": stats["max"] * 1e3,
            "refreshes": len(refreshes),
            "errors": len(errors),
            "error_types": sorted(set(errors)),
        }
    )


if __name__ == "__main__":
    main()
