"""Tests of gobrs.cache: the client and resource cache of a session.

These use plain boto3 sessions (creating a client makes no network call)
with gobrs's own ``client`` and ``resource`` methods; no gobrs session is
made, so libbrs.so is never loaded.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config

import gobrs.cache as gobrs_cache
from gobrs.cache import (
    CacheError,
    ClientCacheError,
    ClientCacheExistsError,
    ClientCacheKey,
    ClientCacheNotFoundError,
    LFUCache,
    LRUCache,
    ResourceCacheError,
    ResourceCacheKey,
    ResourceCacheNotFoundError,
    SessionCache,
)
from gobrs.session import BaseRefreshableSession

REGION = "us-east-1"
FAKE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JOIN = 30.0  # seconds; a deadlock guard, not a speed assertion


class CachedSession(boto3.session.Session):
    """A boto3 session with a SessionCache and the cached ``client`` and
    ``resource`` of gobrs's sessions."""

    _uncached_client = BaseRefreshableSession._uncached_client
    _uncached_resource = BaseRefreshableSession._uncached_resource
    client = BaseRefreshableSession.client
    resource = BaseRefreshableSession.resource

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cache = SessionCache(self)


@pytest.fixture
def session() -> CachedSession:
    return CachedSession(
        region_name=REGION,
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
    )


class CountingFactory:
    """Wraps boto3's client method: counts builds, can block or fail."""

    def __init__(self, session: boto3.session.Session, delay: float = 0.0) -> None:
        self._session = session
        self.delay = delay
        self.calls = 0
        self.started = threading.Event()
        self.release: threading.Event | None = None
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> BaseClient:
        with self._lock:
            self.calls += 1
        self.started.set()
        if self.release is not None:
            assert self.release.wait(JOIN), "test never released the factory"
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return boto3.session.Session.client(self._session, *args, **kwargs)


class CountingEvent(threading.Event):
    """An Event that counts the threads that have waited on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiters = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waiters += 1  # under the GIL; only compared in the tests
        return super().wait(timeout)


@pytest.fixture
def flights(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records every in-flight build; their ``done`` events count waiters."""

    made: list[Any] = []

    class RecordingFlight(gobrs_cache._Flight):
        __slots__ = ()

        def __init__(self) -> None:
            super().__init__()
            self.done = CountingEvent()
            made.append(self)

    monkeypatch.setattr(gobrs_cache, "_Flight", RecordingFlight)
    return made


def wait_for_waiters(flights: list[Any], n: int) -> None:
    deadline = time.monotonic() + JOIN
    while not flights or flights[0].done.waiters < n:
        assert time.monotonic() < deadline, "waiters never queued"
        time.sleep(0.005)


def run_threads(n: int, target: Callable[[int], None]) -> list[threading.Thread]:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN)
    assert not any(t.is_alive() for t in threads), "threads deadlocked"
    return threads


# --------------------------------------------------------- normalization ---


def test_same_call_returns_same_client(session: CachedSession) -> None:
    s3 = session.client("s3")
    assert isinstance(s3, BaseClient)
    assert session.client("s3") is s3
    assert len(session.cache.client.LRU) == 1


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (("s3",), {}),
        ((), {"service_name": "s3"}),
        (("s3",), {"region_name": REGION}),
        ((), {"region_name": REGION, "service_name": "s3"}),
        (("s3", REGION), {}),
        (("s3",), {"use_ssl": True}),
        (("s3",), {"api_version": "2006-03-01"}),
        (("s3",), {"region_name": None, "config": None}),
    ],
)
def test_equivalent_spellings_share_one_client(
    session: CachedSession, args: tuple, kwargs: dict
) -> None:
    first = session.client("s3")
    assert session.client(*args, **kwargs) is first
    assert len(session.cache.client.LRU) == 1


def test_different_calls_get_different_clients(session: CachedSession) -> None:
    s3 = session.client("s3")
    others = [
        session.client("sqs"),
        session.client("s3", region_name="eu-west-1"),
        session.client("s3", use_ssl=False),
        session.client("s3", endpoint_url="http://127.0.0.1:9"),
        session.client("s3", config=Config(retries={"max_attempts": 2})),
    ]
    assert all(o is not s3 for o in others)
    assert len({id(o) for o in others}) == len(others)
    assert others[1].meta.region_name == "eu-west-1"
    assert len(session.cache.client.LRU) == 6


def test_config_compared_by_value(session: CachedSession) -> None:
    a = session.client("s3", config=Config(retries={"max_attempts": 3}, connect_timeout=5))
    b = session.client("s3", config=Config(connect_timeout=5, retries={"max_attempts": 3}))
    c = session.client("s3", config=Config(retries={"max_attempts": 4}, connect_timeout=5))
    assert a is b
    assert c is not a
    # By position too (config is boto3's tenth parameter).
    pos = session.client(
        "s3", None, None, True, None, None, None, None, None,
        Config(connect_timeout=5, retries={"max_attempts": 3}),
    )
    assert pos is a


def test_config_region_fills_the_region(session: CachedSession) -> None:
    cfg = Config(region_name="eu-west-1")
    a = session.client("s3", config=cfg)
    assert a.meta.region_name == "eu-west-1"
    assert session.client("s3", region_name="eu-west-1", config=Config(region_name="eu-west-1")) is a
    assert session.client("s3") is not a


def test_config_mutated_after_use_is_a_new_key(session: CachedSession) -> None:
    cfg = Config(connect_timeout=5)
    a = session.client("s3", config=cfg)
    cfg.connect_timeout = 9
    b = session.client("s3", config=cfg)
    assert b is not a
    assert b.meta.config.connect_timeout == 9


def test_session_region_is_the_default(session: CachedSession) -> None:
    other = CachedSession(
        region_name="ap-south-1",
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
    )
    c = other.client("sqs")
    assert c.meta.region_name == "ap-south-1"
    assert other.client("sqs", region_name="ap-south-1") is c
    assert other.client("sqs", region_name=REGION) is not c
    key = other.cache.client.LRU.key("sqs")
    assert key.region_name == "ap-south-1"
    assert key.service_name == "sqs"


def test_explicit_credentials_are_part_of_the_key(session: CachedSession) -> None:
    s3 = session.client("s3")
    explicit = session.client(
        "s3", aws_access_key_id=FAKE_KEY_ID, aws_secret_access_key=FAKE_SECRET
    )
    assert explicit is not s3
    again = session.client(
        "s3", aws_secret_access_key=FAKE_SECRET, aws_access_key_id=FAKE_KEY_ID
    )
    assert again is explicit


def test_resources_are_cached_and_normalized(session: CachedSession) -> None:
    r = session.resource("s3")
    assert session.resource(service_name="s3", region_name=REGION) is r
    assert session.resource("s3", region_name="eu-west-1") is not r
    assert len(session.cache.resource.LRU) == 2
    key = session.cache.resource.LRU.key("s3")
    assert isinstance(key, ResourceCacheKey)
    assert session.cache.resource.LRU[key] is r


def test_policies_are_separate_caches(session: CachedSession) -> None:
    lru = session.client("s3")
    lfu = session.client("s3", eviction_policy="LFU")
    assert lfu is not lru
    assert session.client("s3", eviction_policy="LFU") is lfu
    assert session.client("s3", eviction_policy="LRU") is lru
    assert session.cache.client.LFU is session.cache.client["LFU"]
    assert session.cache.client.LRU is session.cache["client"]["LRU"]
    assert isinstance(session.cache.client.LRU, LRUCache)
    assert isinstance(session.cache.client.LFU, LFUCache)


def test_malformed_call_raises_boto3_error_and_caches_nothing(session: CachedSession) -> None:
    with pytest.raises(TypeError):
        session.client("s3", no_such_parameter=1)
    with pytest.raises(TypeError):
        session.client()
    with pytest.raises(Exception) as info:
        session.client("no-such-service-xyz")
    assert not isinstance(info.value, CacheError)
    assert len(session.cache.client.LRU) == 0


def test_config_calls_cache_by_value_without_aliasing(session: CachedSession) -> None:
    # A Config is mutable: its call is never remembered by identity (as an
    # alias of the key); every call normalizes it and compares by value.
    a = session.client("s3", config=Config(proxies={"https": "http://127.0.0.1:9"}))
    b = session.client("s3", config=Config(proxies={"https": "http://127.0.0.1:9"}))
    assert a is b
    assert session.cache.client.LRU._aliases == {}
    # Plain arguments are remembered, so the next such call is one lookup.
    session.client("s3", region_name=REGION)
    session.client("s3", region_name=REGION)
    assert list(session.cache.client.LRU._aliases) == [("s3",)]
    assert [kw for kw, _ in session.cache.client.LRU._aliases[("s3",)]] == [{"region_name": REGION}]


# -------------------------------------------------------------- eviction ---


def test_lru_evicts_least_recently_used(session: CachedSession) -> None:
    s3 = session.client("s3", max_size=2)
    sqs = session.client("sqs")
    assert session.client("s3") is s3  # s3 is now the most recent
    session.client("sns")  # evicts sqs
    lru = session.cache.client.LRU
    assert [k.service_name for k in lru] == ["s3", "sns"]
    assert lru.key("sqs") not in lru
    assert session.client("sqs") is not sqs  # rebuilt
    assert [k.service_name for k in lru.keys()] == ["sns", "sqs"]


def test_lfu_evicts_least_frequently_used(session: CachedSession) -> None:
    def c(name: str) -> BaseClient:
        return session.client(name, eviction_policy="LFU", max_size=3)

    for _ in range(3):
        c("s3")
    c("sqs")
    c("sqs")
    c("sns")
    c("sts")  # evicts sns, the least frequently used
    lfu = session.cache.client.LFU
    assert sorted(k.service_name for k in lfu) == ["s3", "sqs", "sts"]
    assert [k.service_name for k in lfu.keys()] == ["sts", "sqs", "s3"]
    # Equal frequency: the least recently used of them goes first.
    c("sts")
    c("sts")  # sts: 3 uses, sqs: 2 -> sqs next
    assert lfu.keys()[0].service_name == "sqs"


def test_lfu_get_counts_as_a_use(session: CachedSession) -> None:
    lfu = session.cache.client.LFU
    lfu.max_size = 2
    session.client("s3", eviction_policy="LFU")
    session.client("sqs", eviction_policy="LFU")
    lfu.get(lfu.key("s3"))
    lfu[lfu.key("s3")]
    session.client("sns", eviction_policy="LFU")
    assert sorted(k.service_name for k in lfu) == ["s3", "sns"]


def test_unbounded_by_default(session: CachedSession) -> None:
    assert session.cache.client.LRU.max_size is None
    regions = [f"us-test-{i}" for i in range(25)]
    for r in regions:
        session.client("s3", region_name=r)
    assert len(session.cache.client.LRU) == 25


def test_shrinking_max_size_evicts_down(session: CachedSession) -> None:
    lru = session.cache.client.LRU
    for name in ("s3", "sqs", "sns", "sts"):
        session.client(name)
    session.client("s3")
    lru.max_size = 2
    assert lru.max_size == 2
    assert [k.service_name for k in lru] == ["sts", "s3"]
    lru.max_size = None
    for name in ("sqs", "sns", "kms"):
        session.client(name)
    assert len(lru) == 5


def test_lfu_shrink_evicts_least_frequent(session: CachedSession) -> None:
    lfu = session.cache.client.LFU
    for name, uses in (("s3", 3), ("sqs", 1), ("sns", 2)):
        for _ in range(uses):
            session.client(name, eviction_policy="LFU")
    lfu.max_size = 1
    assert [k.service_name for k in lfu] == ["s3"]


def test_max_size_in_call_keeps_the_requested_object(session: CachedSession) -> None:
    for name in ("s3", "sqs", "sns"):
        session.client(name, eviction_policy="LFU")
    session.client("s3", eviction_policy="LFU")
    session.client("sqs", eviction_policy="LFU")
    # sns is the least used, and still the one asked for: it stays.
    sns = session.client("sns", eviction_policy="LFU", max_size=1)
    lfu = session.cache.client.LFU
    assert lfu.max_size == 1
    assert list(lfu.values()) == [sns]
    # A new key with a smaller cache: it is built, cached, and kept.
    kms = session.client("kms", eviction_policy="LFU", max_size=1)
    assert list(lfu.values()) == [kms]


def test_evicted_client_is_not_returned_from_an_alias(session: CachedSession) -> None:
    s3 = session.client("s3", max_size=1)
    session.client("sqs")
    assert session.client("s3") is not s3


def test_many_keyword_spellings_of_one_service(session: CachedSession) -> None:
    # One tuple of positional arguments ("s3",) with more keyword spellings
    # than an alias list holds: each call still gets its own client, every
    # repeat gets the same one, and a positional region is the same call.
    regions = [f"eu-test-{i}" for i in range(gobrs_cache._MAX_ALIASES + 4)]
    first = {r: session.client("s3", region_name=r) for r in regions}
    assert len({id(c) for c in first.values()}) == len(regions)
    for _ in range(2):
        for r in regions:
            assert session.client("s3", region_name=r) is first[r]
            assert session.client("s3", r) is first[r]
            assert session.client(service_name="s3", region_name=r) is first[r]
    spellings = session.cache.client.LRU._aliases[("s3",)]
    assert len(spellings) == gobrs_cache._MAX_ALIASES
    # Keyword order does not matter.
    a = session.client("s3", region_name=REGION, use_ssl=False)
    assert session.client("s3", use_ssl=False, region_name=REGION) is a
    assert session.client("s3", region_name=REGION, use_ssl=True) is not a


class _RaisesOnEq:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("== was called")

    __hash__ = object.__hash__


def test_argument_failing_equality_is_not_a_hit(session: CachedSession) -> None:
    s3 = session.client("s3", region_name=REGION)
    entry = gobrs_cache._hit(session.cache._client_aliases, ("s3",), {"region_name": REGION})
    assert entry is not None and entry.value is s3
    odd = {"region_name": _RaisesOnEq()}
    assert gobrs_cache._hit(session.cache._client_aliases, ("s3",), odd) is None
    assert gobrs_cache._hit(session.cache._client_aliases, (["s3"],), {}) is None  # unhashable
    assert gobrs_cache._hit(session.cache._client_aliases, ("sqs",), {}) is None  # never seen
    # Through client(), the call goes on to boto3, which rejects the region.
    with pytest.raises(Exception) as info:
        session.client("s3", **odd)
    assert "== was called" not in str(info.value)


def test_hits_record_use_for_the_policy(session: CachedSession) -> None:
    lru, lfu = session.cache.client.LRU, session.cache.client.LFU
    session.client("s3", max_size=2)
    session.client("sqs")
    for _ in range(3):
        session.client("s3")  # hits: s3 becomes the most recent
    assert [k.service_name for k in lru] == ["sqs", "s3"]
    session.client("sns", eviction_policy="LFU")
    session.client("kms", eviction_policy="LFU")
    for _ in range(3):
        session.client("sns", eviction_policy="LFU")
    assert [k.service_name for k in lfu] == ["kms", "sns"]


# ------------------------------------------------------------- dict-like ---


def test_dict_interface(session: CachedSession) -> None:
    lru = session.cache.client.LRU
    s3, sqs = session.client("s3"), session.client("sqs")
    k_s3, k_sqs = lru.key("s3"), lru.key(service_name="sqs", region_name=REGION)
    assert isinstance(k_s3, ClientCacheKey)
    assert k_s3 == lru.key("s3") and hash(k_s3) == hash(lru.key("s3"))
    assert len(lru) == 2 and bool(lru)
    assert k_s3 in lru and k_sqs in lru
    assert "s3" not in lru
    assert list(lru) == [k_s3, k_sqs]
    assert list(reversed(lru)) == [k_sqs, k_s3]
    assert lru.keys() == (k_s3, k_sqs)
    assert lru.values() == (s3, sqs)
    assert lru.items() == ((k_s3, s3), (k_sqs, sqs))
    assert lru.get(k_s3) is s3  # and s3 becomes the most recent
    assert lru.keys() == (k_sqs, k_s3)
    assert lru.get(lru.key("sns")) is None
    assert lru.get(lru.key("sns"), "x") == "x"
    assert lru[k_sqs] is sqs

    snapshot = lru.copy()
    assert type(snapshot) is LRUCache
    assert snapshot.items() == lru.items()

    assert lru.popitem() == (k_s3, s3)  # least recent after lru[k_sqs]
    assert lru.pop(k_sqs) is sqs
    assert len(lru) == 0
    assert lru.pop(k_sqs, None) is None
    with pytest.raises(ClientCacheNotFoundError) as info:
        lru.pop(k_sqs)
    assert info.value.param == "key"
    with pytest.raises(ClientCacheNotFoundError):
        lru.popitem()
    with pytest.raises(ClientCacheNotFoundError):
        lru[k_s3]
    with pytest.raises(ClientCacheNotFoundError):
        del lru[k_s3]

    # The copy is independent and still serves its own lookups.
    assert len(snapshot) == 2 and snapshot[k_s3] is s3
    snapshot.clear()
    assert len(snapshot) == 0
    assert session.client("s3") is not s3  # the original was emptied above


def test_setitem_and_delitem(session: CachedSession) -> None:
    lru = session.cache.client.LRU
    key = lru.key("s3")
    mine = boto3.session.Session.client(session, "s3")
    lru[key] = mine
    assert session.client("s3") is mine
    with pytest.raises(ClientCacheExistsError) as info:
        lru[key] = mine
    assert info.value.param == "key"
    with pytest.raises(ClientCacheError) as info:
        lru[lru.key("sqs")] = "not a client"  # type: ignore[assignment]
    assert info.value.param == "value"
    with pytest.raises(ClientCacheError) as info:
        lru["s3"] = mine  # type: ignore[index]
    assert info.value.param == "key"
    with pytest.raises(ClientCacheError):
        session.cache.client.LRU[session.cache.resource.LRU.key("s3")] = mine  # type: ignore[index]
    del lru[key]
    assert key not in lru
    assert session.client("s3") is not mine


def test_clear_and_session_clear(session: CachedSession) -> None:
    s3 = session.client("s3")
    session.client("sqs", eviction_policy="LFU")
    session.resource("s3")
    session.cache.clear()
    assert len(session.cache.client.LRU) == len(session.cache.client.LFU) == 0
    assert len(session.cache.resource.LRU) == 0
    assert session.client("s3") is not s3


def test_key_from_a_bad_call_is_an_error(session: CachedSession) -> None:
    with pytest.raises(ClientCacheError) as info:
        session.cache.client.LRU.key("s3", bogus=1)
    assert info.value.param == "args"


# ---------------------------------------------------------------- errors ---


@pytest.mark.parametrize("policy", ["lru", "Lfu", "", "MRU", 1, ["LRU"], b"LRU"])
def test_bad_eviction_policy(session: CachedSession, policy: Any) -> None:
    factory = CountingFactory(session)
    with pytest.raises(ClientCacheError) as info:
        session.cache.get_client(factory, ("s3",), {}, policy, None)
    assert info.value.param == "eviction_policy"
    assert "eviction_policy" in str(info.value)
    assert factory.calls == 0
    with pytest.raises(ResourceCacheError) as rinfo:
        session.resource("s3", eviction_policy=policy)
    assert rinfo.value.param == "eviction_policy"
    with pytest.raises(ClientCacheError):
        session.cache.client[policy]


@pytest.mark.parametrize("size", [0, -1, -10, 2.0, "3", True, [1]])
def test_bad_max_size(session: CachedSession, size: Any) -> None:
    factory = CountingFactory(session)
    with pytest.raises(ClientCacheError) as info:
        session.cache.get_client(factory, ("s3",), {}, None, size)
    assert info.value.param == "max_size"
    assert "max_size" in str(info.value)
    assert factory.calls == 0  # rejected before any build
    # The same on a hit, and through the setter.
    session.client("s3")
    with pytest.raises(ClientCacheError):
        session.client("s3", max_size=size)
    with pytest.raises(ClientCacheError):
        session.cache.client.LFU.max_size = size
    with pytest.raises(ResourceCacheError) as rinfo:
        session.resource("s3", max_size=size)
    assert rinfo.value.param == "max_size"
    assert session.cache.client.LRU.max_size is None


def test_error_classes() -> None:
    assert issubclass(ClientCacheExistsError, ClientCacheError)
    assert issubclass(ClientCacheNotFoundError, ClientCacheError)
    assert issubclass(ResourceCacheNotFoundError, ResourceCacheError)
    assert issubclass(ClientCacheError, CacheError)
    assert issubclass(ResourceCacheError, CacheError)
    assert not issubclass(ResourceCacheError, ClientCacheError)
    err = ClientCacheError("bad", param="max_size", value=-1)
    assert str(err) == "bad (param='max_size', value=-1)"
    assert repr(err) == "ClientCacheError('bad', param='max_size', value=-1)"


# --------------------------------------------------------------- secrets ---


def test_secrets_never_in_reprs(session: CachedSession) -> None:
    token = "FwoGZXIvYXdzEXAMPLETOKENVALUE"
    session.client(
        "s3",
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
        aws_session_token=token,
        config=Config(proxies={"https": "http://user:pa55word@127.0.0.1:9"}),
    )
    lru = session.cache.client.LRU
    text = " ".join([repr(session.cache), str(lru), *map(repr, lru.keys()), *(k.label for k in lru)])
    for secret in (FAKE_SECRET, token, FAKE_KEY_ID, "pa55word"):
        assert secret not in text
    assert "aws_secret_access_key='***'" in text
    assert "proxies='***'" in text


# ----------------------------------------------------------- concurrency ---


def test_concurrent_first_calls_build_once(session: CachedSession) -> None:
    factory = CountingFactory(session, delay=0.2)
    barrier = threading.Barrier(16)
    results: list[Any] = [None] * 16
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = session.cache.get_client(factory, ("sqs",), {}, None, None)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    run_threads(16, worker)
    assert errors == []
    assert factory.calls == 1
    assert all(r is results[0] for r in results)
    assert isinstance(results[0], BaseClient)
    assert session.client("sqs") is results[0]


def test_concurrent_first_calls_with_different_spellings(session: CachedSession) -> None:
    factory = CountingFactory(session, delay=0.1)
    spellings = [
        (("sqs",), {}),
        ((), {"service_name": "sqs"}),
        (("sqs",), {"region_name": REGION}),
        (("sqs", REGION), {}),
    ]
    barrier = threading.Barrier(16)
    results: list[Any] = [None] * 16

    def worker(i: int) -> None:
        args, kwargs = spellings[i % 4]
        barrier.wait()
        results[i] = session.cache.get_client(factory, args, kwargs, None, None)

    run_threads(16, worker)
    assert factory.calls == 1
    assert all(r is results[0] for r in results)


def test_failed_build_reaches_every_waiter_and_caches_nothing(
    session: CachedSession, flights: list[Any]
) -> None:
    factory = CountingFactory(session)
    factory.release = threading.Event()
    factory.error = RuntimeError("build failed")
    outcomes: list[Any] = [None] * 8

    def worker(i: int) -> None:
        try:
            session.cache.get_client(factory, ("sqs",), {}, None, None)
        except RuntimeError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    assert factory.started.wait(JOIN)
    wait_for_waiters(flights, 7)
    factory.release.set()
    for t in threads:
        t.join(JOIN)
    assert not any(t.is_alive() for t in threads)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert factory.calls == 1
    assert len(session.cache.client.LRU) == 0
    factory.error = None
    assert isinstance(session.cache.get_client(factory, ("sqs",), {}, None, None), BaseClient)
    assert factory.calls == 2


def test_slow_build_does_not_block_other_keys(session: CachedSession) -> None:
    s3 = session.client("s3")
    slow = CountingFactory(session)
    slow.release = threading.Event()
    builder = threading.Thread(
        target=lambda: session.cache.get_client(slow, ("sqs",), {}, None, None)
    )
    builder.start()
    assert slow.started.wait(JOIN)
    got: dict[str, Any] = {}

    def others() -> None:
        got["hit"] = session.client("s3")
        got["miss"] = session.client("sns")
        got["lfu"] = session.client("sqs", eviction_policy="LFU")
        got["len"] = len(session.cache.client.LRU)
        got["keys"] = session.cache.client.LRU.keys()

    t = threading.Thread(target=others)
    t.start()
    t.join(JOIN)
    try:
        # Done while the sqs build is still blocked: nothing waited on it.
        assert not t.is_alive(), "a hit waited for another key's build"
        assert builder.is_alive() and not slow.release.is_set()
        assert got["hit"] is s3
        assert isinstance(got["miss"], BaseClient)
        assert got["len"] == 2
    finally:
        slow.release.set()
        builder.join(JOIN)
    assert not builder.is_alive()
    assert len(session.cache.client.LRU) == 3


def test_reentrant_factory_does_not_deadlock(session: CachedSession) -> None:
    calls: list[int] = []

    def factory(*args: Any, **kwargs: Any) -> BaseClient:
        calls.append(1)
        if len(calls) == 1:
            # Asks the cache for its own key while building it.
            session.cache.get_client(factory, args, kwargs, None, None)
        return boto3.session.Session.client(session, *args, **kwargs)

    done: list[Any] = []
    t = threading.Thread(target=lambda: done.append(session.cache.get_client(factory, ("sqs",), {}, None, None)))
    t.start()
    t.join(JOIN)
    assert not t.is_alive()
    assert isinstance(done[0], BaseClient)
    assert session.client("sqs") is done[0]


def test_many_threads_mixed_load_keeps_invariants(session: CachedSession) -> None:
    names = ["s3", "sqs", "sns", "sts", "kms", "iam"]
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            for j in range(60):
                name = names[(i + j) % len(names)]
                policy = "LFU" if j % 3 == 0 else "LRU"
                c = session.client(name, eviction_policy=policy, max_size=3 if j % 7 else 4)
                assert c.meta.service_model.service_name == name
                if j % 11 == 0:
                    session.cache.client[policy].popitem() if len(session.cache.client[policy]) else None
        except ClientCacheNotFoundError:
            pass  # popitem raced with another popitem on an emptied cache
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    run_threads(8, worker)
    assert errors == []
    for policy in ("LRU", "LFU"):
        cache = session.cache.client[policy]
        assert len(cache) <= cache.max_size
        assert len(cache.keys()) == len(cache)
        for key, value in cache.items():
            assert session.client(*(key.service_name,), eviction_policy=policy) is value


# ------------------------------------------------------------------ fork ---


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_starts_empty_and_never_hangs(session: CachedSession) -> None:
    s3 = session.client("s3")
    lru = session.cache.client.LRU
    # Fork while another thread holds the cache's lock: the child must not
    # inherit a lock nobody will release.
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lru._lock:
            holding.set()
            release.wait(JOIN)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(JOIN)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            os.close(r)
            ok = len(lru) == 0
            c = session.client("s3")
            ok = ok and c is not s3 and session.client("s3") is c
            session.cache.client.LRU.max_size = 1
            os.write(w, b"ok" if ok else b"bad")
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    release.set()
    holder.join(JOIN)
    deadline = time.monotonic() + JOIN
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("forked child hung")
        time.sleep(0.02)
    out = os.read(r, 16)
    os.close(r)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert out == b"ok"
    assert session.client("s3") is s3  # the parent's cache is untouched


def test_interrupted_build_is_retried_by_a_waiter(
    session: CachedSession, flights: list[Any]
) -> None:
    # A KeyboardInterrupt in the building thread is for that thread: a
    # waiter builds the client itself instead of receiving the interrupt.
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def factory(*args: Any, **kwargs: Any) -> BaseClient:
        calls.append(1)
        if len(calls) == 1:
            started.set()
            assert release.wait(JOIN)
            raise KeyboardInterrupt
        return boto3.session.Session.client(session, *args, **kwargs)

    caught: list[BaseException] = []
    got: list[Any] = []

    def builder() -> None:
        try:
            session.cache.get_client(factory, ("sqs",), {}, None, None)
        except KeyboardInterrupt as exc:
            caught.append(exc)

    b = threading.Thread(target=builder)
    b.start()
    assert started.wait(JOIN)
    w = threading.Thread(
        target=lambda: got.append(session.cache.get_client(factory, ("sqs",), {}, None, None))
    )
    w.start()
    wait_for_waiters(flights, 1)
    release.set()
    b.join(JOIN)
    w.join(JOIN)
    assert not b.is_alive() and not w.is_alive()
    assert len(caught) == 1
    assert len(got) == 1 and isinstance(got[0], BaseClient)
    assert len(calls) == 2
    assert session.client("sqs") is got[0]
