"""Differential tests, cache, copy and IoT inputs: each scenario runs on
boto3-refresh-session (from PyPI) and on gobrs, and the outcomes must be the
same: the same objects handed out (compared by the order in which each new
object first appeared), the same keys in the same eviction order, the same
exception classes.

Both sessions get their credentials from a custom getter returning fake
keys: making clients needs no network.
"""

from __future__ import annotations

import copy
import os
import random
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Tuple

import boto3_refresh_session as brs
import pytest
from boto3_client_cache import ClientCacheKey, ResourceCacheKey
from botocore.config import Config

import gobrs
from test_dropin_modules import device  # noqa: F401 - the fixture

LIBS = {"brs": brs, "gobrs": gobrs}
REGION = "us-east-1"


def _creds() -> Dict[str, Any]:
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    return {"access_key": "AKIADIFF", "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}


def _session(lib: Any) -> Any:
    return lib.RefreshableSession(method="custom", custom_credentials_method=_creds, region_name=REGION)


class Recorder:
    """Runs steps on one library's session and records their outcomes."""

    def __init__(self, lib: Any) -> None:
        self.session = _session(lib)
        self.seen: List[Any] = []
        self.log: List[Tuple[Any, ...]] = []

    def ident(self, obj: Any) -> Any:
        for i, known in enumerate(self.seen):
            if known is obj:
                return i
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        self.seen.append(obj)
        return len(self.seen) - 1

    def step(self, name: str, fn: Callable[[Any], Any]) -> None:
        try:
            outcome: Tuple[Any, ...] = ("ok", self.ident(fn(self.session)))
        except Exception as exc:  # the class is the outcome
            outcome = ("error", type(exc).__module__, type(exc).__qualname__)
        cache = self.session.cache
        state = tuple(
            (tuple(k.label for k in cache[kind][policy].keys()), cache[kind][policy].max_size)
            for kind in ("client", "resource")
            for policy in ("LRU", "LFU")
        )
        self.log.append((name, outcome, state))


def _differ(steps: List[Tuple[str, Callable[[Any], Any]]]) -> List[Tuple[Any, ...]]:
    runs = {name: Recorder(lib) for name, lib in LIBS.items()}
    for label, fn in steps:
        for run in runs.values():
            run.step(label, fn)
    for i, (theirs, mine) in enumerate(zip(runs["brs"].log, runs["gobrs"].log, strict=False)):
        assert mine == theirs, f"step {i}: {theirs[0]}\n brs:   {theirs[1:]}\n gobrs: {mine[1:]}"
    runs["gobrs"].session.close()
    return runs["gobrs"].log


# ------------------------------------------------- random call sequences ---

SERVICES = ["s3", "sqs", "sns", "sts", "kms"]


def _random_steps(seed: int, n: int = 24) -> List[Tuple[str, Callable[[Any], Any]]]:
    rng = random.Random(seed)
    steps: List[Tuple[str, Callable[[Any], Any]]] = []
    for _ in range(n):
        service = rng.choice(SERVICES)
        policy = rng.choice([None, None, "LRU", "LFU"])
        kind = rng.random()
        if kind < 0.55:
            spelling = rng.choice(["pos", "kw", "region"])
            args: Tuple[Any, ...] = (service,) if spelling != "kw" else ()
            kwargs: Dict[str, Any] = {"service_name": service} if spelling == "kw" else {}
            if spelling == "region":
                kwargs["region_name"] = rng.choice([REGION, "eu-west-1"])
            size = rng.choice([None, None, None, 2, 3, 4])
            label = f"client({args}, {kwargs}, eviction_policy={policy}, max_size={size})"
            steps.append(
                (label, lambda s, a=args, k=kwargs, p=policy, m=size: s.client(*a, eviction_policy=p, max_size=m, **k))
            )
        elif kind < 0.65:
            steps.append((f"resource({service})", lambda s, sv=service, p=policy: s.resource(sv, eviction_policy=p)))
        else:
            op = rng.choice(["get", "getitem", "pop", "del", "popitem", "contains", "max_size", "len"])
            key = ClientCacheKey(service)
            cache_policy = policy or "LRU"

            def cache_op(
                s: Any, op: str = op, key: Any = key, pol: str = cache_policy, n: int = rng.randint(1, 4)
            ) -> Any:
                cache = s.cache.client[pol]
                if op == "get":
                    return cache.get(key)
                if op == "getitem":
                    return cache[key]
                if op == "pop":
                    return cache.pop(key)
                if op == "del":
                    del cache[key]
                    return None
                if op == "popitem":
                    return cache.popitem()[1]
                if op == "contains":
                    return key in cache
                if op == "max_size":
                    cache.max_size = n
                    return n
                return len(cache)

            steps.append((f"cache.client.{cache_policy}.{op}({key.label})", cache_op))
    return steps


@pytest.mark.parametrize("seed", range(24))
def test_random_call_sequences_hand_out_and_evict_alike(seed: int) -> None:
    log = _differ(_random_steps(seed))
    assert len(log) == 24


# ---------------------------------------------------------- key lookups ---

SPELLINGS: List[Tuple[Tuple[Any, ...], Dict[str, Any]]] = [
    (("s3",), {}),
    ((), {"service_name": "s3"}),
    (("s3",), {"region_name": REGION}),
    (("s3", REGION), {}),
    (("s3",), {"region_name": "eu-west-1"}),
    (("s3",), {"endpoint_url": "http://127.0.0.1:9"}),
    (("s3",), {"use_ssl": True}),
    (("s3",), {"verify": False}),
    (("s3",), {"api_version": None}),
    (("s3",), {"config": "CONFIG"}),  # a new Config(retries=...) each call: botocore changes the one it gets
    (("s3",), {"aws_access_key_id": "AKIAEXPLICIT", "aws_secret_access_key": "x"}),
]


def _kw(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    return {k: Config(retries={"max_attempts": 2}) if v == "CONFIG" else v for k, v in kwargs.items()}


@pytest.mark.parametrize(("args", "kwargs"), SPELLINGS, ids=[repr(s) for s in SPELLINGS])
def test_cache_key_lookup_finds_what_client_made(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    def lookup(s: Any) -> Any:
        made = s.client(*args, **_kw(kwargs))
        again = s.client(*args, **_kw(kwargs))
        return (made is again, s.cache.client.LRU[ClientCacheKey(*args, **_kw(kwargs))] is made)

    def among_all(s: Any) -> Any:
        # every spelling, then which of them share an object
        objs = [s.client(*a, **_kw(k)) for a, k in SPELLINGS]
        return tuple(next(i for i, o in enumerate(objs) if o is obj) for obj in objs)

    _differ(
        [("lookup", lookup), ("max_size", lambda s: setattr(s.cache.client.LRU, "max_size", 20)), ("all", among_all)]
    )


@pytest.mark.parametrize("policy", [None, "LRU", "LFU"])
def test_resource_key_lookup_and_its_client(policy: Any) -> None:
    def steps(s: Any) -> Any:
        r = s.resource("s3", eviction_policy=policy)
        return (
            s.resource("s3", eviction_policy=policy) is r,
            s.cache.resource[policy or "LRU"][ResourceCacheKey("s3")] is r,
            len(s.cache.client.LRU),  # resource() made its client through client()
        )

    _differ([("resource", steps)])


def test_default_max_size_evicts_the_eleventh() -> None:
    names = ["s3", "sqs", "sns", "sts", "kms", "iam", "ec2", "lambda", "logs", "ssm", "dynamodb"]
    _differ([(f"client({n})", lambda s, n=n: s.client(n)) for n in names] + [("s3 again", lambda s: s.client("s3"))])


# ---------------------------------------------------------------- errors ---

ERROR_CASES: List[Tuple[str, Callable[[Any], Any]]] = [
    ("policy lowercase", lambda s: s.client("s3", eviction_policy="lru")),
    ("policy int", lambda s: s.client("s3", eviction_policy=1)),
    ("policy list", lambda s: s.client("s3", eviction_policy=["LRU"])),
    ("resource policy", lambda s: s.resource("s3", eviction_policy="MRU")),
    ("client max_size 0", lambda s: s.client("s3", max_size=0)),
    ("resource max_size 0", lambda s: s.resource("s3", max_size=0)),
    ("client max_size -2", lambda s: (s.client("s3", max_size=-2), s.cache.client.LRU.max_size)),
    ("popitem empty", lambda s: s.cache.client.LRU.popitem()),
    ("popitem empty LFU", lambda s: s.cache.resource.LFU.popitem()),
    ("getitem missing", lambda s: s.cache.client.LRU[ClientCacheKey("s3")]),
    ("del missing", lambda s: s.cache.client.LFU.__delitem__(ClientCacheKey("s3"))),
    ("pop missing", lambda s: s.cache.resource.LRU.pop(ResourceCacheKey("s3"))),
    ("set non-key", lambda s: s.cache.client.LRU.__setitem__("s3", s.client("s3"))),
    ("set non-client", lambda s: s.cache.client.LRU.__setitem__(ClientCacheKey("x"), object())),
    ("set existing", lambda s: s.cache.client.LRU.__setitem__(ClientCacheKey("s3"), s.client("s3"))),
    ("unknown service", lambda s: s.client("no-such-service")),
    ("unknown kwarg", lambda s: s.client("s3", no_such_arg=1)),
    ("cache kind", lambda s: s.cache["clients"]),
    ("cache policy", lambda s: s.cache.client["MRU"]),
]


@pytest.mark.parametrize(("name", "fn"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_have_the_reference_classes(name: str, fn: Callable[[Any], Any]) -> None:
    _differ([(name, fn)])


# ------------------------------------------------------------------ copy ---


def test_copy_of_a_session_shares_what_the_reference_shares() -> None:
    def copied(s: Any) -> Any:
        s3 = s.client("s3")
        twin = copy.copy(s)
        return (
            type(twin) is type(s),
            twin.cache is s.cache,
            twin.client("s3") is s3,
            twin.refreshable_credentials()["access_key"],
            twin.get_credentials() is s.get_credentials(),
        )

    _differ([("copy", copied)])


def test_copy_of_credentials_reads_the_same_credentials() -> None:
    def copied(s: Any) -> Any:
        creds = s.get_credentials()
        twin = copy.copy(creds)
        return (type(twin) is type(creds), twin.get_frozen_credentials().access_key, twin.method)

    _differ([("copy credentials", copied)])


# ----------------------------------------------------------- IoT inputs ---


def _log_levels() -> List[Any]:
    from awscrt.io import LogLevel

    return [None, LogLevel.NoLogs]


IOT_CASES: List[Tuple[str, Dict[str, Any]]] = [
    ("credentials endpoint", {"endpoint": "abc123.credentials.iot.us-east-1.amazonaws.com"}),
    ("https prefix", {"endpoint": "https://abc123.credentials.iot.us-east-1.amazonaws.com"}),
    ("data endpoint", {"endpoint": "abc123-ats.iot.us-east-1.amazonaws.com"}),
    ("not an IoT endpoint", {"endpoint": "example.com"}),
    ("log level None", {"awscrt_log_level": None}),
    ("log level NoLogs", {"awscrt_log_level": "NoLogs"}),
    ("certificate missing file", {"certificate": "/no/such/cert.pem"}),
    ("private key and pkcs11 missing", {"private_key": None}),
]


@pytest.mark.parametrize(("name", "extra"), IOT_CASES, ids=[c[0] for c in IOT_CASES])
def test_iot_inputs_are_accepted_alike(name: str, extra: Dict[str, Any], device: Dict[str, Any]) -> None:  # noqa: F811 - the fixture
    outcomes = {}
    for lib_name, lib in LIBS.items():
        kwargs: Dict[str, Any] = dict(
            endpoint="abc123.credentials.iot.us-east-1.amazonaws.com",
            role_alias="alias",
            thing_name="thing",
            region_name=REGION,
            **device,
        )
        kwargs.update(extra)
        if kwargs.get("awscrt_log_level") == "NoLogs":
            kwargs["awscrt_log_level"] = _log_levels()[1]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                session = lib.RefreshableSession(method="iot", **kwargs)
                outcome: Tuple[Any, ...] = ("ok",)
                if lib is gobrs:
                    session.close()
            except Exception as exc:
                outcome = ("error", type(exc).__name__)
        outcomes[lib_name] = (
            outcome,
            sorted(
                {
                    type(w.message).__name__
                    for w in caught
                    if "Brs" in type(w.message).__name__ or "BRS" in type(w.message).__name__
                }
            ),
        )
    assert outcomes["gobrs"] == outcomes["brs"]


def test_https_endpoint_reaches_the_server_in_gobrs(tmp_path: Any) -> None:
    """Where boto3-refresh-session keeps the prefix (and then fails to
    connect), gobrs drops it and fetches (docs/compat.md)."""

    from test_iot import ROLE_ALIAS, THING, IoTServer

    server = IoTServer(tmp_path)
    try:
        with gobrs.RefreshableSession(
            method="iot",
            endpoint=f"https://{server.endpoint}/",
            role_alias=ROLE_ALIAS,
            thing_name=THING,
            certificate=server.cert,
            private_key=server.key,
            ca=server.ca.pem,
            region_name=REGION,
        ) as session:
            assert session.endpoint == server.endpoint
            assert session.refreshable_credentials()["access_key"].startswith("ASIAIOTPYTEST")
        theirs = brs.RefreshableSession(
            method="iot",
            endpoint="https://abc123.credentials.iot.us-east-1.amazonaws.com",
            role_alias=ROLE_ALIAS,
            certificate=server.cert,
            private_key=server.key,
        )
        assert theirs.endpoint.startswith("https://")
    finally:
        server.stop()


@pytest.mark.parametrize("what", ["session", "credentials"])
def test_deepcopy_and_pickle_are_refused(what: str) -> None:
    """docs/compat.md: boto3-refresh-session fails there with TypeError
    (deepcopy: a lock) or AttributeError (pickle); gobrs says why, with
    BRSPickleError, a BRSForkError that is both of those classes."""

    import pickle

    theirs = _session(brs)
    mine = _session(gobrs)
    try:
        objs = {"brs": theirs, "gobrs": mine}
        if what == "credentials":
            objs = {k: v.get_credentials() for k, v in objs.items()}
        with pytest.raises(TypeError):
            copy.deepcopy(objs["brs"])
        with pytest.raises(AttributeError):
            pickle.dumps(objs["brs"])
        # the same classes (an existing except keeps working), and gobrs's own
        for attempt, brs_class in ((copy.deepcopy, TypeError), (pickle.dumps, AttributeError)):
            with pytest.raises(gobrs.BRSForkError) as caught:
                attempt(objs["gobrs"])
            assert isinstance(caught.value, brs_class)
    finally:
        mine.close()


MQTT_CASES: List[Tuple[str, Dict[str, Any]]] = [
    ("bad transport", {"transport": "tcp"}),
    ("pkcs11 not a dict", {"pkcs11": "lib.so"}),
    ("certificate not bytes or path", {"certificate": 42}),
    ("private key file missing", {"private_key": "/no/such/key.pem"}),
    ("ca file missing", {"ca": "/no/such/ca.pem"}),
    ("key and pkcs11", {"pkcs11": {"pkcs11_lib": os.__file__}}),
    ("pkcs11 without its library", {"pkcs11": {"user_pin": "1234"}}),
    ("pkcs11 library missing", {"pkcs11": {"pkcs11_lib": "/no/such/lib.so"}, "private_key": None}),
]


@pytest.mark.parametrize(("name", "extra"), MQTT_CASES, ids=[c[0] for c in MQTT_CASES])
def test_mqtt_refuses_arguments_alike(name: str, extra: Dict[str, Any], device: Dict[str, Any]) -> None:  # noqa: F811 - the fixture
    outcomes = {}
    for lib_name, lib in LIBS.items():
        session = lib.RefreshableSession(
            method="iot",
            endpoint="abc123.credentials.iot.us-east-1.amazonaws.com",
            role_alias="alias",
            region_name=REGION,
            **device,
        )
        try:
            session.mqtt(endpoint="127.0.0.1", client_id="thing", **extra)
            outcomes[lib_name] = ("ok",)
        except Exception as exc:
            outcomes[lib_name] = ("error", type(exc).__name__, getattr(exc, "param", None))
        finally:
            if lib is gobrs:
                session.close()
    assert outcomes["gobrs"] == outcomes["brs"]
