"""A real workload: 4 threads making S3 calls to moto while the credentials
expire every 20 s.

The credentials come from a custom getter that makes a real AssumeRole call
to moto (with its own boto3 STS client) and returns them with a 20 s
lifetime: AWS STS refuses durations under 900 s, and so do botocore and
gobrs before sending, while gobrs's shrinking of short windows would put a
900 s credential's refresh 11 minutes away. Both libraries get the same getter
and the same windows: ``advisory_timeout=5``, ``mandatory_timeout=2``,
``defer_refresh=False``, so a refresh falls due about every 15 s. Four
threads share one S3 client from the session's client cache and call
``head_object`` on a small object for ``--seconds``.

Figures: ``calls_per_s`` (one value per 5 s slice), ``refresh_worst_ms``
(one value per refresh: the slowest call that overlaps the refresh or the
second before or after it), ``refresh_ms`` (one value per refresh: the
getter's own wall time), ``call_p50_ms``, ``call_p99_ms``, ``call_max_ms``
(all calls), ``refreshes`` (getter calls after the first), ``errors``.
"""

from __future__ import annotations

import threading
import time
from typing import Dict, List, Tuple

import common

THREADS = 4
BUCKET = "gobrs-bench-workload"
KEY = "object"
SLICE = 5.0
AROUND = 1.0


class AssumeRoleGetter:
    """A custom getter that assumes ``common.ROLE_ARN`` from moto and
    returns the credentials with a ``lifetime``-second expiry, recording
    the perf_counter interval of every call."""

    def __init__(self, moto_url: str, lifetime: float) -> None:
        import boto3

        self.sts = boto3.client("sts", endpoint_url=moto_url, region_name=common.REGION)
        self.lifetime = lifetime
        self.intervals: List[Tuple[float, float]] = []

    def __call__(self) -> Dict[str, str]:
        t0 = time.perf_counter()
        c = self.sts.assume_role(RoleArn=common.ROLE_ARN, RoleSessionName="bench-workload")["Credentials"]
        out = {
            "access_key": c["AccessKeyId"],
            "secret_key": c["SecretAccessKey"],
            "token": c["SessionToken"],
            "expiry_time": common.iso_in(self.lifetime),
        }
        self.intervals.append((t0, time.perf_counter()))
        return out


def main() -> None:
    """Run the scenario."""
    args = common.parse_args(lambda p: p.add_argument("--seconds", type=float, default=60.0))
    if not args.moto:
        raise SystemExit("this scenario needs --moto URL")
    mod = common.load(args.lib)
    getter = AssumeRoleGetter(args.moto, lifetime=20)
    session = common.custom_session(
        mod, getter, **common.session_kwargs(args, defer_refresh=False, advisory_timeout=5, mandatory_timeout=2)
    )
    s3 = session.client("s3", endpoint_url=args.moto, region_name=common.REGION)
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"gobrs")
    first_key = common.read(session).access_key

    lock = threading.Lock()
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
            except Exception as exc:  # counted, not raised
                with lock:
                    errors.append(type(exc).__name__)
                continue
            mine.append((t0, time.perf_counter()))
        with lock:
            calls.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert common.read(session).access_key != first_key or len(getter.intervals) == 1

    refreshes = [iv for iv in getter.intervals[1:] if iv[0] < stop]
    worst = []
    for r0, r1 in refreshes:
        near = [t1 - t0 for t0, t1 in calls if t1 >= r0 - AROUND and t0 <= r1 + AROUND]
        if near:
            worst.append(max(near) * 1e3)
    slices = int(elapsed // SLICE)
    per_slice = [0] * slices
    for t0, _ in calls:
        i = int((t0 - start) // SLICE)
        if i < slices:
            per_slice[i] += 1
    stats = common.summarize([t1 - t0 for t0, t1 in calls])
    common.emit(
        {
            "calls_per_s": [n / SLICE for n in per_slice],
            "calls_total_per_s": len(calls) / elapsed,
            "refresh_worst_ms": worst,
            "refresh_ms": [(r1 - r0) * 1e3 for r0, r1 in refreshes],
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
