"""The cache wired into gobrs sessions: ``session.client``/``resource`` are
cached, ``session.cache`` is boto3-client-cache's, its errors are
boto3-client-cache's classes, and a cached client keeps signing with the
credentials of the latest refresh."""

from __future__ import annotations

import time

import boto3_client_cache
import pytest
from botocore.client import BaseClient
from botocore.config import Config

import gobrs
import gobrs.cache
from gobrs import (
    ClientCacheError,
    ClientCacheKey,
    ClientCacheNotFoundError,
    ResourceCacheNotFoundError,
    SessionCache,
)
from helpers import custom_session, record_access_keys, run_threads

S3_CONFIG = Config(s3={"addressing_style": "path"})


def test_session_has_a_cache_and_caches_clients(getter) -> None:
    s = custom_session(getter)
    assert isinstance(s.cache, SessionCache)
    c = s.client("sqs")
    assert isinstance(c, BaseClient)
    assert s.client("sqs") is c
    assert s.client(service_name="sqs") is c
    assert s.client("sqs", eviction_policy="LFU") is not c
    assert ClientCacheKey("sqs") in s.cache.client.LRU
    r = s.resource("s3")
    assert s.resource("s3") is r
    assert len(s.cache.resource.LRU) == 1
    # making clients fetches no credentials
    assert getter.calls == 0


def test_cache_errors_are_boto3_client_cache_errors(getter) -> None:
    s = custom_session(getter)
    for name in (
        "CacheError",
        "ClientCacheError",
        "ClientCacheExistsError",
        "ClientCacheNotFoundError",
        "ResourceCacheError",
        "ResourceCacheExistsError",
        "ResourceCacheNotFoundError",
        "SessionCache",
        "ClientCacheKey",
        "ResourceCacheKey",
    ):
        assert getattr(gobrs, name) is getattr(gobrs.cache, name) is getattr(boto3_client_cache, name), name
        assert name in gobrs.__all__, name
    with pytest.raises(ClientCacheError):
        s.client("s3", eviction_policy="lru")
    # max_size 0: boto3-client-cache builds, drops and then misses the resource
    with pytest.raises(ResourceCacheNotFoundError):
        s.resource("s3", max_size=0)
    with pytest.raises(ClientCacheNotFoundError):
        s.cache.client.LFU.popitem()


def test_cached_client_signs_with_refreshed_credentials(getter, endpoint) -> None:
    s = custom_session(getter)
    sts = s.client("sts", endpoint_url=endpoint)
    s3 = s.resource("s3", endpoint_url=endpoint, config=S3_CONFIG)
    sts_keys = record_access_keys(sts)
    s3_keys = record_access_keys(s3.meta.client)

    sts.get_caller_identity()
    s3.create_bucket(Bucket="gobrs-cache-refresh")
    s.get_credentials().refresh()  # a new set, made while the clients are cached
    again = s.client("sts", endpoint_url=endpoint)
    assert again is sts
    again.get_caller_identity()
    s3_again = s.resource("s3", endpoint_url=endpoint, config=S3_CONFIG)
    assert s3_again is s3
    s3_again.Bucket("gobrs-cache-refresh").put_object(Key="k", Body=b"v")

    k1, k2 = getter.access_key(1), getter.access_key(2)
    assert sts_keys == [k1, k2]
    assert s3_keys == [k1, k2]
    assert getter.calls == 2


def test_cached_client_signs_after_natural_expiry(make_getter, endpoint) -> None:
    # 2.5 s credentials: both windows scale down, the set is reused for
    # about 1.9 s and then refreshed on the next request.
    getter = make_getter(lifetimes=[2.5, 3600])
    s = custom_session(getter, advisory_timeout=2, mandatory_timeout=1)
    c = s.client("sts", endpoint_url=endpoint, eviction_policy="LFU", max_size=4)
    keys = record_access_keys(c)
    c.get_caller_identity()
    time.sleep(2.6)  # the first set has expired
    cached = s.client("sts", endpoint_url=endpoint, eviction_policy="LFU")
    assert cached is c
    cached.get_caller_identity()
    assert keys == [getter.access_key(1), getter.access_key(2)]
    assert getter.calls == 2


def test_concurrent_first_calls_on_a_gobrs_session(getter) -> None:
    s = custom_session(getter)
    got = run_threads(16, lambda _: s.client("sqs"))
    assert [r for r in got if isinstance(r, BaseException)] == []
    assert all(c is got[0] for c in got)
    assert len(s.cache.client.LRU) == 1


def test_close_empties_the_cache(getter) -> None:
    s = custom_session(getter)
    c = s.client("sqs")
    s.resource("s3")
    s.close()
    assert len(s.cache.client.LRU) == 0
    assert len(s.cache.resource.LRU) == 0
    assert s.client("sqs") is not c


def test_cache_labels_hide_secrets(getter) -> None:
    s = custom_session(getter)
    s.client(
        "sts",
        aws_access_key_id="ASIAGOBRSCACHETEST01",
        aws_secret_access_key=getter.secret_marker,
        aws_session_token=getter.token_marker,
    )
    texts = [repr(s.cache), str(s.cache.client.LRU), repr(s.cache.client.LRU.keys())]
    for text in texts:
        for secret in getter.secrets() + ["ASIAGOBRSCACHETEST01"]:
            assert secret not in text
    assert "aws_secret_access_key=***" in texts[1]
