"""Refreshes across real (short) credential lifetimes, seen by real calls to
the moto server: every client and resource signs with the current
credentials, including clients made before a refresh."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.config import Config

from helpers import OnceThenRaise, custom_session, record_access_keys, sleep_until, wait_until

S3_CONFIG = Config(s3={"addressing_style": "path"})


def short_session(getter: Any, **kwargs: Any):
    # short-lived credentials get both windows scaled down so that the
    # advisory one is a quarter of their life (2.5 s credentials: reusable
    # for ~1.9 s, then refreshed)
    return custom_session(getter, advisory_timeout=2, mandatory_timeout=1, **kwargs)


def test_clients_made_before_a_refresh_sign_with_new_credentials(make_getter, endpoint) -> None:
    # the second set lives 8 s (reusable for 6 s): the three calls made with
    # it never reach its advisory window however slow the machine is
    getter = make_getter(lifetimes=[2.5, 8, 3600])
    s = short_session(getter)
    sts = s.client("sts", endpoint_url=endpoint)
    s3 = s.client("s3", endpoint_url=endpoint, config=S3_CONFIG)
    sts_keys = record_access_keys(sts)
    s3_keys = record_access_keys(s3)

    sts.get_caller_identity()
    s3.list_buckets()
    assert getter.calls == 1
    sleep_until(getter.issued[0]["expiry_time"])  # the first set has expired
    sts.get_caller_identity()
    s3.list_buckets()
    assert getter.calls == 2
    # a client made after the refresh (a distinct one: the same call
    # would return the cached ``sts`` client)
    late = s.client("sts", endpoint_url=endpoint, config=Config(user_agent_extra="late"))
    assert late is not sts
    late_keys = record_access_keys(late)
    late.get_caller_identity()
    sleep_until(getter.issued[1]["expiry_time"])  # the second set has expired
    sts.get_caller_identity()
    s3.create_bucket(Bucket="gobrs-refresh-bucket")
    late.get_caller_identity()

    k1, k2, k3 = (getter.access_key(n) for n in (1, 2, 3))
    assert sts_keys == [k1, k2, k3]
    assert s3_keys == [k1, k2, k3]
    assert late_keys == [k2, k3]
    assert s.credentials["access_key"] == k3
    assert getter.calls == 3


def test_resources_sign_with_new_credentials(make_getter, endpoint) -> None:
    getter = make_getter(lifetimes=[2.5, 3600])
    s = short_session(getter)
    s3 = s.resource("s3", endpoint_url=endpoint, config=S3_CONFIG)
    keys = record_access_keys(s3.meta.client)
    bucket = s3.create_bucket(Bucket="gobrs-resource-refresh")
    sleep_until(getter.issued[0]["expiry_time"])
    bucket.put_object(Key="a", Body=b"1")
    assert keys == [getter.access_key(1), getter.access_key(2)]


def test_advisory_window_failure_keeps_the_current_credentials(endpoint, caplog) -> None:
    caplog.set_level("WARNING", logger="gobrs")
    getter = OnceThenRaise(RuntimeError("source unavailable"), lifetime=16)

    # 16 s life: the advisory window is its last 4 s; the mandatory window
    # opens at expiry
    s = custom_session(getter, advisory_timeout=4, mandatory_timeout=0)
    sts = s.client("sts", endpoint_url=endpoint)
    keys = record_access_keys(sts)
    sts.get_caller_identity()
    # read until a read inside the advisory window has started the refresh
    # (reads there never wait for it) and the refresh has failed ...
    first = getter.first["access_key"]
    assert wait_until(
        lambda: (
            s.credentials["access_key"] == first and getter.calls >= 2 and "credential refresh failed" in caplog.text
        ),
        timeout=60,
    )
    # ... after which the old credentials are still used
    sts.get_caller_identity()
    assert keys == [first] * 2
    # once they have expired, the failure is raised
    sleep_until(getter.first["expiry_time"])
    with pytest.raises(RuntimeError, match="source unavailable"):
        sts.get_caller_identity()


def test_background_refresh_renews_without_readers(make_getter) -> None:
    getter = make_getter(lifetime=2.0)
    s = short_session(getter, background_refresh=True)
    first = s.credentials["access_key"]
    assert getter.calls == 1
    # nobody reads; the Go thread renews ahead of the advisory window
    assert wait_until(lambda: getter.calls >= 3, timeout=10)
    assert s.credentials["access_key"] != first
    s.close()
    settled = getter.calls
    time.sleep(2.5)
    assert getter.calls == settled, "the getter was called after close()"


def test_background_refresh_is_pushed_to_readers(make_getter, monkeypatch) -> None:
    """With background refresh, renewed credentials are pushed into the
    Python-side copy: readers see every new set without ever crossing into
    Go again after the first read."""

    from gobrs.credentials import GoRefreshableCredentials

    crossings = []
    real_load = GoRefreshableCredentials._load

    def counting_load(self: Any, refresh: bool) -> Any:
        crossings.append(refresh)
        return real_load(self, refresh)

    monkeypatch.setattr(GoRefreshableCredentials, "_load", counting_load)
    getter = make_getter(lifetime=6.0)  # renewed 0.2-0.45 s before each copy runs out
    s = short_session(getter, background_refresh=True)
    creds = s.get_credentials()
    keys = {creds.get_frozen_credentials().access_key}
    assert len(crossings) == 1 and getter.calls == 1
    # two background renewals, each well before the copy's own deadline
    assert wait_until(lambda: keys.add(creds.get_frozen_credentials().access_key) or len(keys) >= 3, timeout=30)
    assert keys == {getter.access_key(n) for n in (1, 2, 3)}
    assert len(crossings) == 1, "a reader crossed into Go although the refresh was pushed"
    s.close()


def test_background_refresh_failure_is_logged_and_raised_to_the_next_waiting_read(caplog) -> None:
    """A background refresh that fails is logged without secrets; the read
    that must wait (credentials expired) gets the getter's own exception."""

    caplog.set_level("WARNING", logger="gobrs")

    class VaultSealed(Exception):
        pass

    getter = OnceThenRaise(VaultSealed("sealed"), lifetime=2)
    s = short_session(getter, background_refresh=True)
    assert s.credentials["access_key"] == getter.first["access_key"]
    assert wait_until(lambda: getter.calls >= 2), "no background refresh"
    assert wait_until(lambda: "credential refresh failed" in caplog.text)
    assert getter.first["secret_key"] not in caplog.text and getter.first["token"] not in caplog.text

    def raises_sealed() -> bool:
        try:
            s.get_credentials().get_frozen_credentials()
        except VaultSealed:
            return True
        return False

    assert wait_until(raises_sealed), "the waiting read did not get the getter's exception"
    s.close()


def test_advisory_refresh_does_not_block_the_caller_that_starts_it(make_getter) -> None:
    # docs/compat.md: botocore's refreshing caller waits for its advisory
    # refresh; gobrs starts it and returns the current credentials at once.
    getter = make_getter(lifetimes=[8.0, 3600.0])
    entered, release = threading.Event(), threading.Event()

    def gated(**kwargs: Any) -> Any:
        if getter.calls >= 1:  # the refresh: hold it until the test says
            entered.set()
            release.wait(60)
        return getter(**kwargs)

    # 8 s credentials, advisory window 2 s (opens after 6 s), mandatory at expiry
    s = custom_session(gated, advisory_timeout=2, mandatory_timeout=0)
    first = s.credentials["access_key"]
    got: list = []

    def reader_main() -> None:
        # reads until one of them, inside the advisory window, has started
        # the refresh (which stays held)
        while not entered.is_set():
            got.append(s.credentials["access_key"])
            time.sleep(0.05)  # pacing only

    reader = threading.Thread(target=reader_main)
    reader.start()
    reader.join(60)  # the refresh is held until after this: a reader that waited for it is still there
    try:
        assert entered.is_set(), "no refresh was started"
        assert not reader.is_alive(), "the caller in the advisory window waited for the refresh"
        assert set(got) == {first}
    finally:
        release.set()
        reader.join()
    assert wait_until(lambda: s.credentials["access_key"] == getter.access_key(2))
    s.close()
