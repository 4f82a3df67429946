"""Bad input, systematically: every constructor parameter given the wrong
type, an empty or oversized value, or an unknown key; getter results that
are not a dict, carry non-string, oversized or non-encodable values, or an
expiry that cannot be used. Each gets the documented BRS error naming the
parameter (or field); nothing crashes or hangs, error text stays short and
never echoes an oversized value.

What tests/python/test_custom.py already checks (one bad value per
parameter, missing keys, expiry forms, NULs in the three key fields) is not
repeated here.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List

import pytest

from gobrs import (
    BRSCredentialError,
    BRSError,
    BRSValidationError,
    RefreshableSession,
)
from helpers import REGION, ROLE, good
from helpers import custom_session as custom

pytestmark = pytest.mark.timeout(60)

MEGABYTE = "M" * (1 << 20)
#: the longest error text any bad input may produce
MAX_ERROR_TEXT = 1024


class _Opaque:
    """An object of a type no parameter accepts."""

    def __repr__(self) -> str:
        return "<opaque>"


class Counting:
    """A getter returning ``result`` (or calling it) and counting calls."""

    def __init__(self, result: Any = None) -> None:
        self.result = result if result is not None else good
        self.calls = 0

    def __call__(self, **kwargs: Any) -> Any:
        self.calls += 1
        return self.result() if callable(self.result) else self.result


def assert_short(exc: BaseException) -> None:
    """The error's text and repr are bounded and show no oversized value."""

    for text in (str(exc), repr(exc)):
        assert len(text) < MAX_ERROR_TEXT, text[:200]
        assert MEGABYTE[:1000] not in text


# -- constructor parameters: the common ones ------------------------------------

WRONG_FOR_BOOL: List[Any] = ["true", "", 1, 0, 1.0, bool, [], {}, b"", _Opaque()]
WRONG_FOR_SECONDS: List[Any] = ["900", "", b"900", [900], {}, (900,), True, False, 900j, _Opaque(),
                                float("nan"), float("-inf"), -1, -0.001]  # fmt: skip
#: numbers beyond what any timeout may be (10**400 does not fit a float)
OVERSIZED_SECONDS: List[Any] = [1e300, 10**400, 10**5000]

COMMON_CASES = (
    [("background_refresh", v) for v in WRONG_FOR_BOOL + [None]]
    + [("advisory_timeout", v) for v in WRONG_FOR_SECONDS + OVERSIZED_SECONDS]
    + [("mandatory_timeout", v) for v in WRONG_FOR_SECONDS + OVERSIZED_SECONDS]
)


@pytest.mark.parametrize(
    "param, value", COMMON_CASES, ids=[f"{p}-{type(v).__name__}-{i}" for i, (p, v) in enumerate(COMMON_CASES)]
)
def test_common_parameters(param: str, value: Any) -> None:
    getter = Counting()
    with pytest.raises(BRSValidationError) as info:
        custom(getter, **{param: value})
    assert info.value.param == param
    assert_short(info.value)
    assert getter.calls == 0


@pytest.mark.parametrize("value", WRONG_FOR_BOOL + [None, True])
def test_defer_refresh_anything_but_false_defers(value: Any) -> None:
    # as boto3-refresh-session reads it: ``defer_refresh is not False``
    getter = Counting()
    s = custom(getter, defer_refresh=value)
    assert s.defer_refresh is True
    assert getter.calls == 0


def test_mandatory_equal_to_advisory_is_fine() -> None:
    getter = Counting()
    s = custom(getter, advisory_timeout=5, mandatory_timeout=5)
    assert s.credentials["access_key"] == "ASIAGOBRSFIXED000001"


# -- constructor parameters: the custom method ----------------------------------

CUSTOM_CASES = [("custom_credentials_method", v) for v in (None, "", "getter", b"", 1, [], {}, _Opaque())] + [
    ("custom_credentials_method_args", v)
    for v in ("", "role=reader", b"", 1, [("role", "reader")], {"role"}, _Opaque(), {1: "x"}, {("a",): 1})
]


@pytest.mark.parametrize(
    "param, value", CUSTOM_CASES, ids=[f"{p}-{type(v).__name__}-{i}" for i, (p, v) in enumerate(CUSTOM_CASES)]
)
def test_custom_parameters(param: str, value: Any) -> None:
    kwargs: Dict[str, Any] = {"custom_credentials_method": Counting(), param: value}
    with pytest.raises(BRSValidationError) as info:
        RefreshableSession(method="custom", region_name=REGION, **kwargs)
    assert info.value.param == param
    assert_short(info.value)


def test_custom_oversized_args_reach_the_getter_intact() -> None:
    seen: List[Dict[str, Any]] = []

    def getter(**kwargs: Any) -> Dict[str, Any]:
        seen.append(kwargs)
        return good()

    args = {"blob": MEGABYTE, **{f"k{i}": i for i in range(10_000)}}
    s = custom(getter, custom_credentials_method_args=args)
    s.credentials
    assert seen == [args]


def test_unknown_keyword_is_a_type_error_naming_it() -> None:
    # as in boto3-refresh-session: unknown keywords go to boto3.session.Session
    with pytest.raises(TypeError, match="no_such_parameter"):
        custom(Counting(), no_such_parameter=1)


@pytest.mark.parametrize("method", [None, "", "CUSTOM", "custom ", 1, b"custom", ["custom"], MEGABYTE])
def test_unknown_method(method: Any) -> None:
    with pytest.raises(BRSValidationError) as info:
        RefreshableSession(method=method, custom_credentials_method=Counting())
    assert info.value.param == "method"
    assert_short(info.value)


# -- the getter's results -----------------------------------------------------------


def read(getter: Callable[..., Any]) -> BRSError:
    s = custom(getter)
    with pytest.raises(BRSError) as info:
        s.credentials
    assert_short(info.value)
    return info.value


@pytest.mark.parametrize("key", ["access_key", "secret_key", "token", "expiry_time"])
def test_megabyte_values_are_refused_by_name(key: str) -> None:
    exc = read(Counting(good(**{key: MEGABYTE})))
    assert isinstance(exc, BRSCredentialError)
    assert exc.param == key


@pytest.mark.parametrize("key", ["access_key", "secret_key", "token", "expiry_time"])
def test_lone_surrogates_are_refused_by_name(key: str) -> None:
    secret = "SURROGATESECRET\ud800"
    exc = read(Counting(good(**{key: secret})))
    assert isinstance(exc, BRSCredentialError)
    assert exc.param == key
    # nothing in the chain carries the value
    assert exc.__cause__ is None and exc.__context__ is None
    assert "SURROGATESECRET" not in str(exc) + repr(exc)


@pytest.mark.parametrize("bad", ["a\x00b", "a\nb", "a\rb"])
def test_nul_and_line_breaks_in_expiry(bad: str) -> None:
    exc = read(Counting(good(expiry_time="2030-01-01T00:00:00Z" + bad)))
    assert isinstance(exc, BRSCredentialError)
    assert exc.param == "expiry_time"


@pytest.mark.parametrize(
    "expiry",
    [
        "2030-02-30T00:00:00Z",  # no such day
        "2030-01-01T24:00:01Z",
        "2030-01-01T00:00:00+25:00",  # no such offset
        "2030-01-01",  # a date is not an instant
        "1893456000",  # a Unix time as a string
        "0001-01-01T00:00:00Z",  # the zero time: as good as missing
        "   ",
        "\u0662\u0660\u0663\u0660-01-01T00:00:00Z",  # Arabic-Indic digits
    ],
)
def test_unusable_expiry_strings(expiry: str) -> None:
    exc = read(Counting(good(expiry_time=expiry)))
    assert isinstance(exc, BRSCredentialError)
    assert exc.param == "expiry_time"


@pytest.mark.parametrize(
    "expiry",
    [
        lambda: (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat(),
        lambda: (datetime.now(timezone.utc) - timedelta(days=365 * 30)).replace(tzinfo=None),  # naive: UTC
        lambda: datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ"),
    ],
    ids=["aware-past", "naive-past", "now"],
)
def test_already_expired(expiry: Callable[[], Any]) -> None:
    exc = read(Counting(good(expiry_time=expiry())))
    assert isinstance(exc, BRSCredentialError)
    assert exc.param == "expiry_time"


@pytest.mark.parametrize(
    "result",
    [
        {1: "a", 2: "b"},
        {b"access_key": "A", b"secret_key": "S", b"token": "T", b"expiry_time": "2030-01-01T00:00:00Z"},
        {"ACCESS_KEY": "A", "SECRET_KEY": "S", "TOKEN": "T", "EXPIRY_TIME": "2030-01-01T00:00:00Z"},
        {},
        set(),
        ("access_key", "secret_key", "token", "expiry_time"),
        b"{}",
        MEGABYTE,
    ],
    ids=["int-keys", "bytes-keys", "upper-case-keys", "empty", "set", "tuple", "bytes", "megabyte-str"],
)
def test_results_that_are_not_credentials(result: Any) -> None:
    exc = read(Counting(result))
    assert isinstance(exc, BRSCredentialError)
    if isinstance(result, dict):
        assert exc.details and exc.details["missing"]
    else:
        assert exc.param == "custom_credentials_method"
        assert type(result).__name__ in exc.message


def test_a_mapping_that_raises_on_access() -> None:
    class Broken(dict):  # type: ignore[type-arg]
        def __getitem__(self, key: str) -> Any:
            raise LookupError("FROMMAPPING")

    s = custom(Counting(Broken(good())))
    # the getter's own failure reaches the reader as it is (as in brs)
    with pytest.raises(LookupError, match="FROMMAPPING"):
        s.credentials


def test_extra_keys_are_ignored() -> None:
    s = custom(Counting(good(region="eu-west-1", extra=object(), blob=MEGABYTE)))
    assert set(s.credentials) == {"access_key", "secret_key", "token", "expiry_time"}


@pytest.mark.parametrize("kind", [SystemExit, KeyboardInterrupt, GeneratorExit, RecursionError, MemoryError])
def test_getter_raising_base_exceptions(kind: type) -> None:
    # none of them unwinds into Go or stops the process on a Go thread:
    # the reader gets the very exception object (as boto3-refresh-session
    # lets it through), and the next read tries again
    raised = kind()
    outcomes: List[Any] = [raised, good()]

    def getter() -> Any:
        item = outcomes.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    s = custom(getter)
    with pytest.raises(kind) as info:
        s.credentials
    assert info.value is raised
    assert s.credentials["access_key"]


def test_getter_recursing_without_end() -> None:
    def getter() -> Any:
        return getter()

    s = custom(getter)
    with pytest.raises(RecursionError):
        s.credentials


# -- re-entry from the getter: refused, never a hang ---------------------------------


def test_getter_reading_its_own_session_does_not_hang() -> None:
    holder: Dict[str, Any] = {}
    inner: List[BaseException] = []

    def getter() -> Any:
        try:
            holder["session"].credentials
        except BRSError as exc:
            inner.append(exc)
        return good()

    holder["session"] = s = custom(getter)
    assert s.credentials["access_key"] == "ASIAGOBRSFIXED000001"
    assert len(inner) == 1 and "deadlock" in str(inner[0])


def test_getter_closing_its_own_session_does_not_hang() -> None:
    holder: Dict[str, Any] = {}

    def getter() -> Any:
        holder["session"].close()
        return good()

    holder["session"] = s = custom(getter)
    with pytest.raises(BRSError, match="inside its own credential callback"):
        s.credentials
    assert not s.closed
    s.close()
    assert s.closed


def test_getter_using_another_session_works() -> None:
    other = custom(Counting())

    def getter() -> Any:
        return good(access_key=other.credentials["access_key"] + "X")

    s = custom(getter)
    assert s.credentials["access_key"] == "ASIAGOBRSFIXED000001X"


def test_getter_that_blocks_does_not_block_other_sessions() -> None:
    release = threading.Event()

    def slow() -> Any:
        release.wait(30)
        return good()

    blocked = custom(slow)
    reader = threading.Thread(target=lambda: blocked.credentials)
    reader.start()
    try:
        # another session answers while the first one's getter is stuck
        assert custom(Counting()).credentials["access_key"] == "ASIAGOBRSFIXED000001"
    finally:
        release.set()
        reader.join(30)
    assert not reader.is_alive()


# -- constructor parameters: the sts method -------------------------------------------

from gobrs import BRSConfigurationError, IOTX509RefreshableSession, STSRefreshableSession  # noqa: E402

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
WRONG_FOR_STR: List[Any] = [1, 1.5, True, [], {}, ["x"], b"x", _Opaque(), float("nan"), MEGABYTE]
WRONG_FOR_LIST: List[Any] = ["x", 1, True, {}, b"x", _Opaque(), [1], [_Opaque()], [MEGABYTE]]
WRONG_FOR_INT: List[Any] = ["900", "", 1.5, True, [], {}, b"x", _Opaque(), float("inf"), 10**400, -1, 0, 10**9]

ASSUME_CASES = (
    [("RoleArn", v) for v in WRONG_FOR_STR + ["", "arn:short"]]
    + [(k, v) for k in ("RoleSessionName", "Policy", "ExternalId", "SourceIdentity") for v in WRONG_FOR_STR + [""]]
    + [(k, v) for k in ("PolicyArns", "Tags", "TransitiveTagKeys", "ProvidedContexts") for v in WRONG_FOR_LIST]
    + [("DurationSeconds", v) for v in WRONG_FOR_INT]
    + [("SerialNumber", v) for v in WRONG_FOR_STR + [""]]
    + [("TokenCode", v) for v in WRONG_FOR_STR + ["", "12345", "1234567", "12a456"]]
    + [("NoSuchParameter", 1), ("roleArn", ROLE), ("", 1)]
)
CLIENT_CASES = (
    [
        (k, v)
        for k in (
            "region_name",
            "api_version",
            "endpoint_url",
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "aws_account_id",
        )
        for v in WRONG_FOR_STR
    ]  # fmt: skip
    + [("endpoint_url", v) for v in ("ftp://127.0.0.1", "not a url", "http://")]
    + [("region_name", v) for v in ("not a region", "us-east-1/x")]
    + [("use_ssl", v) for v in ("yes", 1, [], b"x")]
    + [("verify", v) for v in (1, [], {}, b"x", MEGABYTE, "/nonexistent/ca.pem")]
    + [
        ("config", v)
        for v in (
            "x",
            1,
            [],
            {"retries": "x"},
            {"retries": {"mode": "fast"}},
            {"read_timeout": "1"},
            {"read_timeout": -1},
            {"connect_timeout": 10**400},
            {"retries": {"max_attempts": "3"}},
            {"retries": {"total_max_attempts": 0}},
            {"proxies": "http://x"},
            {"nope": 1},
        )
    ]  # fmt: skip
    + [("service_name", v) for v in (1, [], b"x")]
    + [("no_such_option", 1), ("profile_name", "x")]
)


def sts(**kwargs: Any) -> Any:
    kwargs.setdefault("assume_role_kwargs", {"RoleArn": ROLE})
    kwargs.setdefault("sts_client_kwargs", {"endpoint_url": "http://127.0.0.1:9"})
    return STSRefreshableSession(region_name=REGION, aws_access_key_id="AKIDRELIABILITY", aws_secret_access_key="s",
                                 **kwargs)  # fmt: skip


def names(err: BRSError, prefix: str, key: str) -> bool:
    """Whether err.param names key (inside prefix, or alone)."""

    param = err.param or ""
    return param == key or param == f"{prefix}.{key}" or param.startswith((f"{prefix}.{key}.", f"{prefix}.{key}["))


def ids(cases: List[Any]) -> List[str]:
    return [f"{k or 'empty-key'}-{type(v).__name__}-{i}" for i, (k, v) in enumerate(cases)]


@pytest.mark.parametrize("key, value", ASSUME_CASES, ids=ids(ASSUME_CASES))
def test_sts_assume_role_kwargs(key: str, value: Any) -> None:
    assume: Dict[str, Any] = {"RoleArn": ROLE, key: value}
    if key == "SerialNumber":
        assume["TokenCode"] = "123456"
    if key == "TokenCode":
        assume["SerialNumber"] = SERIAL
    with pytest.raises(BRSValidationError) as info:
        sts(assume_role_kwargs=assume)
    assert names(info.value, "assume_role_kwargs", key) or (key == "" and info.value.param), info.value
    assert_short(info.value)
    if key == "TokenCode":  # an MFA code is never echoed
        assert not isinstance(value, str) or len(value) < 4 or value not in str(info.value) + repr(info.value)


@pytest.mark.parametrize("key, value", CLIENT_CASES, ids=ids(CLIENT_CASES))
def test_sts_client_kwargs(key: str, value: Any) -> None:
    with pytest.raises(BRSValidationError) as info:
        sts(sts_client_kwargs={"endpoint_url": "http://127.0.0.1:9", key: value})
    assert names(info.value, "sts_client_kwargs", key), info.value
    assert_short(info.value)


@pytest.mark.parametrize(
    "kwargs, param",
    [({"assume_role_kwargs": v}, "assume_role_kwargs") for v in (None, "x", 1, [], b"x", _Opaque(), {})]
    + [({"sts_client_kwargs": v}, "sts_client_kwargs") for v in ("x", 1, [], b"x", _Opaque())]
    + [({"mfa_token_provider": v}, "mfa_token_provider") for v in (1, [1], {}, b"x", _Opaque(), ["echo", b"x"])]
    + [({"mfa_token_provider_kwargs": v}, "mfa_token_provider_kwargs") for v in ("x", 1, [], b"x")]
    + [({"mfa_token_provider": "echo 123456", "mfa_token_provider_kwargs": v}, "mfa_token_provider_kwargs")
       for v in ({"timeout": "1"}, {"timeout": -1}, {"env": "x"}, {"cwd": 1}, {"input": 1}, {"shell": True},
                 {"nope": 1})],
)  # fmt: skip
def test_sts_other_parameters(kwargs: Dict[str, Any], param: str) -> None:
    if "mfa_token_provider" in kwargs:
        kwargs["assume_role_kwargs"] = {"RoleArn": ROLE, "SerialNumber": SERIAL}
    with pytest.raises((BRSValidationError, BRSConfigurationError)) as info:
        sts(**kwargs)
    assert (info.value.param or "").startswith(param) or (
        param == "assume_role_kwargs" and info.value.param == "RoleArn"
    )
    assert_short(info.value)


def test_sts_mfa_provider_answers() -> None:
    # whatever the provider answers that is not a 6-digit code is refused
    # by name, and the answer is never echoed
    for answer in (None, 123456, "12345", "1234567", "12a456", MEGABYTE, "", "12 3456", b"123456"):
        s = sts(assume_role_kwargs={"RoleArn": ROLE, "SerialNumber": SERIAL}, mfa_token_provider=lambda a=answer: a)
        with pytest.raises(BRSError) as info:
            s.credentials
        assert (info.value.param or "").startswith(("mfa_token_provider", "TokenCode", "token_code")), info.value
        assert_short(info.value)
        s.close()


# -- constructor parameters: the iot method ---------------------------------------------


@pytest.fixture(scope="module")
def device() -> Dict[str, bytes]:
    from test_iot import CA

    ca = CA("reliability CA")
    cert, key = ca.issue("thing-1")
    return {"certificate": cert, "private_key": key, "ca": ca.pem}


IOT_CASES = (
    [(k, v) for k in ("endpoint", "role_alias") for v in WRONG_FOR_STR + ["", None]]
    + [
        ("endpoint", v)
        for v in (
            "example.com",
            "ftp://x.credentials.iot.us-east-1.amazonaws.com",
            "10.0.0.1:443",
            "127.0.0.1",
            "127.0.0.1:99999",
            "[::1]",
        )
    ]  # fmt: skip
    + [("role_alias", v) for v in ("a/b", "a" * 129, "alias with space")]
    + [("thing_name", v) for v in WRONG_FOR_STR + ["thing/1", "t" * 129]]
    + [
        (k, v)
        for k in ("certificate", "private_key", "ca")
        for v in (
            1,
            1.5,
            True,
            [],
            {},
            _Opaque(),
            "",
            b"",
            b"garbage",
            MEGABYTE,
            MEGABYTE.encode(),
            "/nonexistent/file.pem",
        )
    ]  # fmt: skip
    + [("certificate", None)]
    + [("verify_peer", v) for v in ("yes", 1, [], b"x")]
    + [("timeout", v) for v in ("10", True, [], b"x", 0, -1, float("nan"), 10**400, 1e9)]
    + [("duration_seconds", v) for v in ("900", True, 1.5, 60, 10**6, 10**400, [])]
    + [
        ("pkcs11", v)
        for v in (
            "lib.so",
            1,
            [],
            b"x",
            {"nope": 1},
            {"pkcs11_lib": 1},
            {"pkcs11_lib": ""},
            {"pkcs11_lib": "/x.so", "user_pin": 1234},
            {"pkcs11_lib": "/x.so", "slot_id": "1"},
            {"pkcs11_lib": "/x.so", "token_label": 1},
            {"pkcs11_lib": "/nonexistent/lib.so"},
        )
    ]  # fmt: skip
)


@pytest.mark.parametrize("key, value", IOT_CASES, ids=ids(IOT_CASES))
def test_iot_parameters(device: Dict[str, bytes], key: str, value: Any) -> None:
    kwargs: Dict[str, Any] = {"endpoint": "127.0.0.1:9", "role_alias": "alias", "thing_name": "thing-1", **device}
    kwargs[key] = value
    if key == "pkcs11":
        kwargs.pop("private_key")
    with pytest.raises((BRSValidationError, BRSConfigurationError)) as info:
        IOTX509RefreshableSession(region_name=REGION, **kwargs)
    assert names(info.value, "", key) or (info.value.param or "").startswith(key), info.value
    assert_short(info.value)
    for line in device["private_key"].decode().splitlines()[1:-1]:
        assert line not in str(info.value) + repr(info.value)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"aws_secret_access_key": MEGABYTE}, "secret_key"),
        ({"aws_session_token": MEGABYTE}, "token"),
        ({"aws_access_key_id": "AKID\nRELIABILITY"}, "access_key"),
        ({"aws_secret_access_key": "SURROGATESECRET\ud800"}, "secret_key"),
    ],
    ids=["megabyte-secret", "megabyte-token", "line-break", "surrogate"],
)
def test_sts_bad_source_credentials(kwargs: Dict[str, Any], field: str) -> None:
    # the session's own keys sign AssumeRole: bad ones are refused by name
    # at the first refresh, before any request, and never echoed
    keys = {"aws_access_key_id": "AKIDRELIABILITY", "aws_secret_access_key": "s", **kwargs}
    s = STSRefreshableSession(assume_role_kwargs={"RoleArn": ROLE}, region_name=REGION,
                              sts_client_kwargs={"endpoint_url": "http://127.0.0.1:9"}, **keys)  # fmt: skip
    with pytest.raises(BRSCredentialError) as info:
        s.credentials
    assert (info.value.param or "").endswith(field)
    assert_short(info.value)
    assert "SURROGATESECRET" not in str(info.value) + repr(info.value)
