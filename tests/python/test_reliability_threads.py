"""Concurrency under load: 32 Python threads read credentials and make
calls to the moto server for a bounded time (10 s; GOBRS_STRESS_SECONDS
changes it) while the credentials expire every three seconds.

Asserted: zero errors; the getter is called once per expiry (never while
the previous set was still short of its advisory window, never twice at
once); every request is signed with a set the getter issued, and no thread
ever goes back to an older set.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Tuple

import pytest
from botocore.config import Config

from gobrs import RefreshableSession
from helpers import signed_access_key

pytestmark = pytest.mark.timeout(180)

THREADS = 32
SECONDS = float(os.environ.get("GOBRS_STRESS_SECONDS", "10"))
LIFETIME = 3.0
ADVISORY = 1.0
MANDATORY = 0.5
#: how early (s) a refresh may start because of clock rounding
SLACK = 0.05


class RecordingGetter:
    """Issues numbered credentials living LIFETIME seconds; records when
    each was asked for and whether calls ever overlapped."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued: List[Tuple[float, datetime, str]] = []  # (wall time of the call, expiry, key)
        self.active = 0
        self.overlaps = 0

    def __call__(self) -> Dict[str, Any]:
        with self.lock:
            self.active += 1
            self.overlaps += self.active > 1
            n = len(self.issued) + 1
        try:
            time.sleep(0.05)  # long enough for readers to pile up behind it
            now = datetime.now(timezone.utc)
            expiry = now + timedelta(seconds=LIFETIME)
            key = f"ASIAGOBRSSTRESS{n:05d}"
            with self.lock:
                self.issued.append((now.timestamp(), expiry, key))
            return {"access_key": key, "secret_key": f"secret-{n}", "token": f"token-{n}", "expiry_time": expiry}
        finally:
            with self.lock:
                self.active -= 1


def test_32_threads_across_expiries(endpoint: str) -> None:
    getter = RecordingGetter()
    s = RefreshableSession(
        method="custom",
        custom_credentials_method=getter,
        region_name="us-east-1",
        advisory_timeout=ADVISORY,
        mandatory_timeout=MANDATORY,
    )
    # one client for all (the session's client cache hands out the same
    # one anyway): boto3 clients are thread-safe once made
    client = s.client("sts", endpoint_url=endpoint, config=Config(max_pool_connections=THREADS))
    signed: Dict[int, List[str]] = {}

    def before_send(request: Any, **_: Any) -> None:
        signed.setdefault(threading.get_ident(), []).append(signed_access_key(request))

    client.meta.events.register("before-send.sts.*", before_send)
    read: List[List[str]] = [[] for _ in range(THREADS)]
    errors: List[BaseException] = []
    calls = [0] * THREADS
    barrier = threading.Barrier(THREADS)
    stop = time.monotonic() + SECONDS + 1  # the barrier costs a little

    def worker(i: int) -> None:
        barrier.wait()
        creds = s.get_credentials()
        while time.monotonic() < stop:
            try:
                if i % 4 == 0:
                    read[i].append(s.credentials["access_key"])
                else:
                    read[i].append(creds.get_frozen_credentials().access_key)
                client.get_caller_identity()
                calls[i] += 1
            except BaseException as exc:  # counted and reported
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    idents: List[int] = []
    for t in threads:
        t.start()
        idents.append(t.ident or 0)
    for t in threads:
        t.join(SECONDS + 120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not errors, errors[:3]

    issued = getter.issued
    keys = [key for _, _, key in issued]
    generation = {key: n for n, key in enumerate(keys)}
    # the credentials expired several times during the run
    assert len(issued) >= 3, issued
    assert getter.overlaps == 0
    # once per expiry: no call before the previous set's advisory window
    # (a quarter of its life here, the windows being scaled down)
    for (_, prev_expiry, _), (called, _, _) in zip(issued, issued[1:], strict=False):
        window = min(ADVISORY, LIFETIME / 4)
        assert called >= prev_expiry.timestamp() - window - SLACK, (called, prev_expiry)
    # every request was signed with an issued set, each thread only ever
    # moving forward through them
    for i in range(THREADS):
        assert calls[i] > 0
        mine = signed.get(idents[i], [])
        assert len(mine) == calls[i]
        for seen in (read[i], mine):
            gens = [generation[k] for k in seen]
            assert gens == sorted(gens), f"thread {i} went back to older credentials"
    s.close()
