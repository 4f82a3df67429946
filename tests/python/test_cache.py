"""The client and resource cache layer (gobrs.cache): boto3-client-cache's
own caches behind a fast path for hits.

These tests pin what the fast path must never change: a hit returns what
boto3-client-cache holds under ``ClientCacheKey(*args, **kwargs)``, records
the use there, never returns an evicted or replaced object, and stays
correct under threads and ``fork``. tests/python/test_dropin_cache.py runs
the same scenarios against boto3-refresh-session.
"""

from __future__ import annotations

import os
import threading
from typing import Any, List

import boto3
import boto3_client_cache
import pytest
from botocore.client import BaseClient
from botocore.config import Config

import gobrs.cache as gobrs_cache
from gobrs import RefreshableSession
from gobrs.cache import (
    CachedSession,
    ClientCacheKey,
    ClientCacheNotFoundError,
    LFUClientCache,
    LRUClientCache,
    ResourceCacheKey,
)
from helpers import REGION, fork_run, good, run_threads

JOIN = 30.0  # seconds; a deadlock guard, not a speed assertion


@pytest.fixture
def session() -> Any:
    s = RefreshableSession(method="custom", custom_credentials_method=good, region_name=REGION)
    yield s
    s.close()


def test_session_is_a_boto3_client_cache_session(session: Any) -> None:
    assert isinstance(session, boto3_client_cache.Session) and isinstance(session, CachedSession)
    assert type(session.cache) is boto3_client_cache.SessionCache
    assert type(session.cache.client.LRU) is LRUClientCache
    assert type(session.cache["client"]["LFU"]) is LFUClientCache
    assert session.cache.client.LRU.max_size == 10  # boto3-client-cache's default


def test_hit_returns_what_the_cache_holds(session: Any) -> None:
    s3 = session.client("s3")
    assert session.client("s3") is s3  # the fast path
    assert session.cache.client.LRU[ClientCacheKey("s3")] is s3
    # boto3-client-cache keys calls as written: another spelling, another key
    assert session.client("s3", region_name=REGION) is not s3
    assert session.client(service_name="s3") is s3  # service_name is moved first by the key
    r = session.resource("s3")
    assert session.resource("s3") is r
    assert session.cache.resource.LRU[ResourceCacheKey("s3")] is r


def test_hits_record_recency_in_the_lru_cache(session: Any) -> None:
    a, b, c = (session.client(n, max_size=3) for n in ("s3", "sqs", "sns"))
    assert session.client("s3") is a  # the fast path moves s3 to the end
    session.client("sts")  # evicts the least recent: sqs
    keys = session.cache.client.LRU.keys()
    assert keys == (ClientCacheKey("sns"), ClientCacheKey("s3"), ClientCacheKey("sts"))
    assert session.client("sqs") is not b


def test_hits_record_frequency_in_the_lfu_cache(session: Any) -> None:
    session.client("s3", eviction_policy="LFU", max_size=2)
    session.client("sqs", eviction_policy="LFU")
    for _ in range(3):
        session.client("sqs", eviction_policy="LFU")  # fast path: sqs more frequent
    session.client("sns", eviction_policy="LFU")  # evicts s3, the least frequent
    assert ClientCacheKey("s3") not in session.cache.client.LFU
    assert ClientCacheKey("sqs") in session.cache.client.LFU


def test_evicted_or_removed_object_is_never_returned(session: Any) -> None:
    lru = session.cache.client.LRU
    s3 = session.client("s3")
    del lru[ClientCacheKey("s3")]
    again = session.client("s3")
    assert again is not s3 and lru[ClientCacheKey("s3")] is again
    lru.clear()
    assert session.client("s3") not in (s3, again)
    lru.max_size = 1
    sqs = session.client("sqs")  # evicts s3
    assert session.client("sqs") is sqs and ClientCacheKey("s3") not in lru


def test_object_replaced_under_its_key_is_what_a_hit_returns(session: Any) -> None:
    lru = session.cache.client.LRU
    first = session.client("s3")
    other = boto3.session.Session.client(session, "s3")  # boto3's own, uncached
    lru.pop(ClientCacheKey("s3"))
    lru[ClientCacheKey("s3")] = other
    assert session.client("s3") is other is not first


def test_another_spelling_rebuilding_the_key_is_seen_by_the_fast_path(session: Any) -> None:
    lru = session.cache.client.LRU
    first = session.client("s3")
    del lru[ClientCacheKey("s3")]
    rebuilt = session.client(service_name="s3")  # same key, other spelling
    assert rebuilt is not first
    assert session.client("s3") is rebuilt


def test_config_calls_take_the_slow_path_and_key_by_value(session: Any) -> None:
    config = Config(retries={"max_attempts": 2})
    c = session.client("s3", config=config)
    assert session.client("s3", config=Config(retries={"max_attempts": 2})) is c
    config.retries = {"max_attempts": 3}  # a different key now, as boto3-client-cache sees it
    assert session.client("s3", config=config) is not c
    assert session._client_hits.get(None, {}).get(("s3",)) is None  # never aliased


def test_max_size_and_bad_policy_go_through_boto3_client_cache(session: Any) -> None:
    c = session.client("s3")
    assert session.client("s3", max_size=10) is c
    with pytest.raises(gobrs_cache.ClientCacheError):
        session.client("s3", eviction_policy="lru")
    with pytest.raises(gobrs_cache.ResourceCacheError):
        session.resource("s3", eviction_policy=["LRU"])


def test_unhashable_or_failing_arguments_fall_back(session: Any) -> None:
    class Odd:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no comparing")

        __hash__ = None  # type: ignore[assignment]

    with pytest.raises(TypeError):  # botocore: "unhashable type"
        session.client("s3", region_name=Odd())
    assert session.client("s3") is session.client("s3")


def test_fast_path_table_is_bounded(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gobrs_cache, "_MAX_SPELLINGS", 4)
    session.cache.client.LRU.max_size = 50
    for i in range(10):
        session.client("s3", endpoint_url=f"http://127.0.0.1:{9000 + i}") if i % 2 else session.client(
            "s3", f"us-east-{1 + i % 2}"
        )
    assert all(len(by_args) <= 4 for by_args in session._client_hits.values())


def test_close_empties_every_cache(session: Any) -> None:
    c = session.client("sqs")
    session.resource("s3", eviction_policy="LFU")
    session.close()
    for family in (session.cache.client, session.cache.resource):
        assert len(family.LRU) == 0 and len(family.LFU) == 0
    assert session.client("sqs") is not c


def test_many_threads_keep_the_cache_consistent(session: Any) -> None:
    names = ["s3", "sqs", "sns", "sts", "kms", "iam"]
    errors: List[BaseException] = []

    def worker(i: int) -> None:
        try:
            for j in range(60):
                name = names[(i + j) % len(names)]
                policy = "LFU" if j % 3 == 0 else "LRU"
                c = session.client(name, eviction_policy=policy, max_size=3 if j % 7 else 4)
                assert isinstance(c, BaseClient) and c.meta.service_model.service_name == name
                if j % 11 == 0:
                    try:
                        session.cache.client[policy].popitem()
                    except ClientCacheNotFoundError:
                        pass  # another thread emptied it
        except ClientCacheNotFoundError:
            # as in boto3-client-cache: a popitem() of another thread came
            # between a client()'s insert and its read of the cache
            pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    assert run_threads(8, worker, JOIN) == [None] * 8
    assert errors == []
    for policy in ("LRU", "LFU"):
        cache = session.cache.client[policy]
        assert len(cache) <= cache.max_size
        for key, value in cache.items():
            assert session.client(*key.key[0], eviction_policy=policy) is value


def test_concurrent_first_calls_build_once(session: Any) -> None:
    got = run_threads(16, lambda _: session.client("sqs"), JOIN)
    assert all(c is got[0] for c in got)
    assert len(session.cache.client.LRU) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_starts_empty_and_never_hangs(session: Any) -> None:
    s3 = session.client("s3")
    lru = session.cache.client.LRU
    # Fork while another thread holds the cache's and the session's locks:
    # the child must not inherit a lock nobody will release.
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with session._lock, lru._lock:
            holding.set()
            release.wait(JOIN)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(JOIN)

    def child() -> List[bool]:
        empty = len(session.cache.client.LRU) == 0
        c = session.client("s3")
        return [empty, c is not s3, session.client("s3") is c]

    try:
        out = fork_run(child, JOIN)
    finally:
        release.set()
        holder.join(JOIN)
    assert out == [True, True, True]  # empty, a new client, cached again
    assert session.client("s3") is s3  # the parent's cache is untouched
