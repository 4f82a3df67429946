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

pytestmark = pytest.mark.timeout(60)

REGION = "us-east-1"
MEGABYTE = "M" * (1 << 20)
#: the longest error text any bad input may produce
MAX_ERROR_TEXT = 1024


class _Opaque:
    """An object of a type no parameter accepts."""

    def __repr__(self) -> str:
        return "<opaque>"


def good(**overrides: Any) -> Dict[str, Any]:
    creds: Dict[str, Any] = {
        "access_key": "ASIAGOBRSRELIAB00001",
        "secret_key": "RELSECRETVALUE",
        "token": "RELTOKENVALUE",
        "expiry_time": datetime.now(timezone.utc) + timedelta(hours=1),
    }
    creds.update(overrides)
    return creds


class Counting:
    """A getter returning ``result`` (or calling it) and counting calls."""

    def __init__(self, result: Any = None) -> None:
        self.result = result if result is not None else good
        self.calls = 0

    def __call__(self, **kwargs: Any) -> Any:
        self.calls += 1
        return self.result() if callable(self.result) else self.result


def custom(getter: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("region_name", REGION)
    return RefreshableSession(method="custom", custom_credentials_method=getter, **kwargs)


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
    [("defer_refresh", v) for v in WRONG_FOR_BOOL]  # None means the default
    + [("background_refresh", v) for v in WRONG_FOR_BOOL + [None]]
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


def test_mandatory_equal_to_advisory_is_fine() -> None:
    getter = Counting()
    s = custom(getter, advisory_timeout=5, mandatory_timeout=5)
    assert s.credentials["access_key"] == "ASIAGOBRSRELIAB00001"


# -- constructor parameters: the custom method ----------------------------------

CUSTOM_CASES = [
    ("custom_credentials_method", v) for v in (None, "", "getter", b"", 1, [], {}, _Opaque())
] + [
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
        "20300101T000000Z",  # basic format: not accepted
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
            raise LookupError("SECRETFROMMAPPING")

    exc = read(Counting(Broken(good())))
    assert isinstance(exc, BRSCredentialError)
    assert isinstance(exc.__cause__, LookupError)
    assert "SECRETFROMMAPPING" not in str(exc) + repr(exc)


def test_extra_keys_are_ignored() -> None:
    s = custom(Counting(good(region="eu-west-1", extra=object(), blob=MEGABYTE)))
    assert set(s.credentials) == {"access_key", "secret_key", "token", "expiry_time"}


@pytest.mark.parametrize("kind", [SystemExit, KeyboardInterrupt, GeneratorExit, RecursionError, MemoryError])
def test_getter_raising_base_exceptions(kind: type) -> None:
    # none of them unwinds into Go or stops the process: they become the
    # cause of a BRSCredentialError, and the next read tries again
    outcomes: List[Any] = [kind(), good()]

    def getter() -> Any:
        item = outcomes.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    exc = read(getter)
    assert isinstance(exc, BRSCredentialError)
    assert isinstance(exc.__cause__, kind)
    assert exc.param == "custom_credentials_method"


def test_getter_recursing_without_end() -> None:
    def getter() -> Any:
        return getter()

    exc = read(getter)
    assert isinstance(exc.__cause__, RecursionError)


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
    assert s.credentials["access_key"] == "ASIAGOBRSRELIAB00001"
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
    assert s.credentials["access_key"] == "ASIAGOBRSRELIAB00001X"


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
        assert custom(Counting()).credentials["access_key"] == "ASIAGOBRSRELIAB00001"
    finally:
        release.set()
        reader.join(30)
    assert not reader.is_alive()
