"""Differential scenarios of the credentials object (what botocore and
user code read from ``session.get_credentials()``) and of threads reading
one session at once: boto3-refresh-session and gobrs end alike."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import pytest
from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials

from difftest import Impl, assert_same, cases, instant

ACCESS_KEY = "ASIADIFFCREDS0000001"


class Counting:
    """A getter that counts its calls; each answer lives ``lifetime`` s."""

    def __init__(self, lifetime: float = 7200.0, fail: bool = False) -> None:
        self.lifetime = lifetime
        self.fail = fail
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self) -> Dict[str, Any]:
        with self.lock:
            self.calls += 1
            n = self.calls
        if self.fail:
            raise ConnectionResetError("the vault hung up")
        expiry = datetime.now(timezone.utc) + timedelta(seconds=self.lifetime)
        return {"access_key": f"{ACCESS_KEY[:-4]}{n:04d}", "secret_key": "diff-secret", "token": "diff-token",
                "expiry_time": expiry.isoformat()}  # fmt: skip


def session(impl: Impl, getter: Any = None, **kwargs: Any) -> Any:
    return impl.session("custom", custom_credentials_method=getter or Counting(), **kwargs)


# -- the credentials object --------------------------------------------------------------

READS = {
    "is-refreshable": lambda c: isinstance(c, RefreshableCredentials),
    "frozen-type": lambda c: type(c.get_frozen_credentials()) is ReadOnlyCredentials,
    "frozen-fields": lambda c: tuple(c.get_frozen_credentials())[:3],
    "access-key": lambda c: c.access_key,
    "secret-key": lambda c: c.secret_key,
    "token": lambda c: c.token,
    "method": lambda c: c.method,
    "refresh-needed-fresh": lambda c: (c.get_frozen_credentials(), c.refresh_needed())[1],
    "refresh-needed-within-an-hour": lambda c: (c.get_frozen_credentials(), c.refresh_needed(3600))[1],
    "refresh-needed-within-3-hours": lambda c: (c.get_frozen_credentials(), c.refresh_needed(3 * 3600))[1],
    "expiry-is-aware": lambda c: (c.get_frozen_credentials(), c._expiry_time.tzinfo is not None)[1],
    "seconds-remaining": lambda c: (c.get_frozen_credentials(), round(c._seconds_remaining() / 600))[1],
    "same-object-each-time": lambda c: c.get_frozen_credentials() == c.get_frozen_credentials(),
}


@pytest.mark.parametrize("reader", cases(READS))
def test_credentials_object(reader: Any) -> None:
    assert_same(lambda impl: reader(session(impl).get_credentials()))


SESSION_READS = {
    "credentials-keys": lambda s: sorted(s.credentials),
    "refreshable-credentials": lambda s: {**s.refreshable_credentials(), "expiry_time": None},
    "credentials-equals-refreshable": lambda s: (
        s.credentials["access_key"] == s.refreshable_credentials()["access_key"]
    ),
    "whoami": lambda s: s.whoami()["method"],
    "region": lambda s: s.region_name,
    "refresh-method": lambda s: s.refresh_method,
    "get-credentials-stable": lambda s: s.get_credentials() is s.get_credentials(),
    "expiry-hours-ahead": lambda s: round(
        (instant(s.credentials["expiry_time"]) - datetime.now(timezone.utc)) / timedelta(hours=1)
    ),  # fmt: skip
    "botocore-session-credentials": lambda s: s._session.get_credentials() is s.get_credentials(),
}


@pytest.mark.parametrize("reader", cases(SESSION_READS))
def test_session_reads(reader: Any) -> None:
    assert_same(lambda impl: reader(session(impl)))


def test_getter_called_once_for_many_reads() -> None:
    def scenario(impl: Impl) -> Any:
        getter = Counting()
        s = session(impl, getter)
        for _ in range(20):
            s.get_credentials().get_frozen_credentials()
            s.refreshable_credentials()
        return getter.calls

    assert_same(scenario)


def test_eager_session_fetches_at_construction() -> None:
    def scenario(impl: Impl) -> Any:
        getter = Counting()
        session(impl, getter, defer_refresh=False)
        return getter.calls

    assert_same(scenario)


def test_deferred_session_fetches_at_first_read() -> None:
    def scenario(impl: Impl) -> Any:
        getter = Counting()
        s = session(impl, getter)
        before = getter.calls
        s.get_credentials().get_frozen_credentials()
        return before, getter.calls

    assert_same(scenario)


def test_client_signs_with_the_session_credentials(endpoint: str) -> None:
    def scenario(impl: Impl) -> Any:
        s = session(impl)
        seen: List[str] = []
        client = s.client("sts", endpoint_url=endpoint)
        client.meta.events.register("before-send.*", lambda request, **_: seen.append(
            request.headers["Authorization"].decode().split("Credential=")[1].split("/")[0]))  # fmt: skip
        client.get_caller_identity()
        return seen

    assert_same(scenario)


# -- threads --------------------------------------------------------------------------------


@pytest.mark.parametrize("threads", [2, 8, 32])
def test_threads_share_one_fetch(threads: int) -> None:
    def scenario(impl: Impl) -> Any:
        getter = Counting()
        s = session(impl, getter)
        start = threading.Barrier(threads)

        def read(_: int) -> str:
            start.wait()
            return s.get_credentials().get_frozen_credentials().access_key  # type: ignore[no-any-return]

        with ThreadPoolExecutor(threads) as pool:
            keys = set(pool.map(read, range(threads)))
        return keys, getter.calls

    assert_same(scenario)


@pytest.mark.parametrize("threads", [2, 8])
def test_threads_all_get_the_getter_failure(threads: int) -> None:
    def scenario(impl: Impl) -> Any:
        s = session(impl, Counting(fail=True))
        start = threading.Barrier(threads)

        def read(_: int) -> str:
            start.wait()
            try:
                s.get_credentials().get_frozen_credentials()
            except ConnectionResetError as exc:
                return type(exc).__name__
            return "no error"

        with ThreadPoolExecutor(threads) as pool:
            return sorted(set(pool.map(read, range(threads))))

    assert_same(scenario)


def test_threads_making_clients(endpoint: str) -> None:
    def scenario(impl: Impl) -> Any:
        s = session(impl)
        start = threading.Barrier(4)

        def call(_: int) -> str:
            start.wait()
            client = s.client("sts", endpoint_url=endpoint)
            return client.get_caller_identity()["Account"]  # type: ignore[no-any-return]

        with ThreadPoolExecutor(4) as pool:
            return sorted(set(pool.map(call, range(4))))

    assert_same(scenario)


def test_sessions_in_threads_are_independent() -> None:
    def scenario(impl: Impl) -> Any:
        getters = [Counting() for _ in range(4)]

        def build(i: int) -> str:
            return session(impl, getters[i]).credentials["access_key"]  # type: ignore[no-any-return]

        with ThreadPoolExecutor(4) as pool:
            keys = list(pool.map(build, range(4)))
        return keys, [g.calls for g in getters]

    assert_same(scenario)
