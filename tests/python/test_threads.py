"""Threads: one getter call for many readers, no overlapping calls, the GIL
released while Go works."""

from __future__ import annotations

import threading
import time

from helpers import custom_session, run_threads


def test_sixteen_threads_across_an_expiry_make_one_getter_call(make_getter) -> None:
    getter = make_getter(lifetimes=[1.0, 3600], delay=0.2)
    s = custom_session(getter, advisory_timeout=2, mandatory_timeout=1)
    creds = s.get_credentials()
    assert creds.get_frozen_credentials().access_key == getter.access_key(1)
    assert getter.calls == 1
    time.sleep(1.1)  # the first set has expired
    results = run_threads(16, lambda _: creds.get_frozen_credentials())
    assert getter.calls == 2
    assert [r.access_key for r in results] == [getter.access_key(2)] * 16


def test_sixteen_threads_at_first_use_make_one_getter_call(make_getter) -> None:
    getter = make_getter(delay=0.2)
    s = custom_session(getter)
    results = run_threads(16, lambda _: s.credentials["access_key"])
    assert results == [getter.access_key(1)] * 16
    assert getter.calls == 1


def test_getter_never_overlaps_itself(make_getter) -> None:
    getter = make_getter(lifetime=0.6, delay=0.05)
    s = custom_session(getter, advisory_timeout=1, mandatory_timeout=0.5)
    creds = s.get_credentials()
    stop = time.monotonic() + 2.0

    def reader(_: int) -> int:
        n = 0
        while time.monotonic() < stop:
            creds.get_frozen_credentials()
            n += 1
        return n

    results = run_threads(8, reader)
    assert all(isinstance(r, int) and r > 0 for r in results), results
    assert getter.calls >= 3
    assert getter.max_active == 1


def test_go_calls_release_the_gil(make_getter) -> None:
    # While a reader waits in Go for a slow getter, other Python threads run.
    getter = make_getter(delay=1.0)
    s = custom_session(getter)
    ticks = 0
    done = threading.Event()

    def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.01)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        s.credentials
    finally:
        done.set()
        t.join()
    assert ticks >= 10
    assert getter.threads[0] != threading.main_thread().ident
