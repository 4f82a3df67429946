"""Leaks: creating and dropping many sessions leaves the process's memory
(RSS) and thread count flat, and every Go session is closed, whether by
``close()`` or by the garbage collector.

Measured from the outside (/proc/self/status) after a warm-up batch, so that
one-time costs (the Go runtime, botocore's data files) are not counted.

10,000 Go sessions run through the ctypes layer (:class:`gobrs._lib.
NativeSession`, the object a Python session owns) in about two seconds.
A full boto3 session costs ~17 ms to build (boto3's own cost), so the
full-session test uses a few hundred by default; set GOBRS_LEAK_SESSIONS
(e.g. 10000) for a long run.
"""

from __future__ import annotations

import gc
import os
import weakref
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import pytest

from gobrs import RefreshableSession, _lib

pytestmark = pytest.mark.timeout(600)

NATIVE_SESSIONS = 10_000
FULL_SESSIONS = int(os.environ.get("GOBRS_LEAK_SESSIONS", "400"))
#: RSS may move by this much without a leak (allocator and Go heap noise:
#: measured ~2 MB; leaking every one of 10,000 Go sessions costs ~45 MB)
RSS_SLACK_KB = 12 * 1024
#: threads the Go runtime may add under load (it keeps idle ones)
THREAD_SLACK = 3


def status() -> Dict[str, int]:
    """VmRSS (kB) and Threads of this process."""

    out: Dict[str, int] = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "Threads"):
                out[key] = int(value.split()[0])
    return out


def handler(request: int) -> Dict[str, str]:
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    return {"access_key": "ASIAGOBRSLEAKS000001", "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}


def native_batch(n: int, finalizers: List[Any]) -> None:
    """n Go sessions: each read once; half closed, half left to the
    collector; a third with a background refresh goroutine."""

    for i in range(n):
        config = {"method": "custom", "background_refresh": i % 3 == 0}
        native = _lib.NativeSession(config, handler, "custom_credentials_method")
        assert native.credentials()[0] == "ASIAGOBRSLEAKS000001"
        finalizers.append(native._finalizer)
        if i % 2:
            native.close()
        del native
    gc.collect()


def test_native_sessions_leave_memory_and_threads_flat() -> None:
    finalizers: List[Any] = []
    native_batch(1000, finalizers)
    before = status()
    native_batch(NATIVE_SESSIONS, finalizers)
    after = status()
    assert not [f for f in finalizers if f.alive], "some Go sessions were never closed"
    assert after["VmRSS"] - before["VmRSS"] < RSS_SLACK_KB, (before, after)
    assert after["Threads"] - before["Threads"] <= THREAD_SLACK, (before, after)


def getter() -> Dict[str, Any]:
    return {
        "access_key": "ASIAGOBRSLEAKS000002",
        "secret_key": "s",
        "token": "t",
        "expiry_time": datetime.now(timezone.utc) + timedelta(hours=1),
    }


def full_batch(n: int, finalizers: List[Any], sessions: List[Any]) -> None:
    """n CustomRefreshableSessions: read, some with a client (which holds
    the credentials), half closed, the rest collected."""

    for i in range(n):
        s = RefreshableSession(method="custom", custom_credentials_method=getter, region_name="us-east-1")
        assert s.credentials["access_key"] == "ASIAGOBRSLEAKS000002"
        client = s.client("sts", endpoint_url="http://127.0.0.1:9") if i % 20 == 0 else None
        finalizers.append(s.get_credentials()._native._finalizer)
        sessions.append(weakref.ref(s))
        if i % 2:
            s.close()
        del s, client
    gc.collect()


def test_full_sessions_are_collected_and_memory_stays_flat() -> None:
    finalizers: List[Any] = []
    sessions: List[Any] = []
    gc.collect()
    tracked = len(_lib._tracked)
    full_batch(50, finalizers, sessions)
    before = status()
    full_batch(FULL_SESSIONS, finalizers, sessions)
    after = status()
    assert not [ref for ref in sessions if ref() is not None], "sessions were not collected"
    assert not [f for f in finalizers if f.alive], "some Go sessions were never closed"
    assert after["VmRSS"] - before["VmRSS"] < RSS_SLACK_KB, (before, after)
    assert after["Threads"] - before["Threads"] <= THREAD_SLACK, (before, after)
    assert len(_lib._tracked) <= tracked  # the fork registry forgets collected credentials
