"""Differential scenarios of the custom method: the same getter and
parameters given to boto3-refresh-session and to gobrs end alike."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List

import pytest

from difftest import BRS, GOBRS, Impl, assert_same, cases, instant, run

NOW = datetime.now(timezone.utc)
SOON = NOW + timedelta(hours=2)  # the expiry of most scenarios


def answer(expiry: Any = None, **override: Any) -> Dict[str, Any]:
    creds: Dict[str, Any] = {
        "access_key": "ASIADIFFCUSTOM000001",
        "secret_key": "diff-secret",
        "token": "diff-token",
        "expiry_time": SOON.isoformat() if expiry is None else expiry,
    }
    creds.update(override)
    return {k: v for k, v in creds.items() if v is not Ellipsis}


def read(impl: Impl, getter: Callable[..., Any], **kwargs: Any) -> Dict[str, Any]:
    """A session of ``getter``; one read of its credentials."""

    session = impl.session("custom", custom_credentials_method=getter, **kwargs)
    return session.refreshable_credentials()  # type: ignore[no-any-return]


def with_instant(creds: Dict[str, Any]) -> Dict[str, Any]:
    """The credentials with the expiry read as an instant: brs keeps the
    offset it was given, gobrs says UTC (docs/compat.md)."""

    return {**creds, "expiry_time": instant(creds["expiry_time"])}


# -- expiry spellings ----------------------------------------------------------------

Y = SOON.year
EXPIRY_STRINGS = {
    "iso-z": SOON.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "iso-offset": SOON.isoformat(),
    "iso-plus-0000": SOON.strftime("%Y-%m-%dT%H:%M:%S+0000"),
    "iso-micro": SOON.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    "iso-milli": SOON.strftime("%Y-%m-%dT%H:%M:%S.") + f"{SOON.microsecond // 1000:03d}Z",
    "iso-tenths": SOON.strftime("%Y-%m-%dT%H:%M:%S.5Z"),
    "iso-space": SOON.strftime("%Y-%m-%d %H:%M:%S+00:00"),
    "iso-space-utc": SOON.strftime("%Y-%m-%d %H:%M:%S UTC"),
    "iso-space-gmt": SOON.strftime("%Y-%m-%d %H:%M:%S GMT"),
    "iso-lowercase": SOON.strftime("%Y-%m-%dt%H:%M:%Sz"),
    "iso-no-seconds": SOON.strftime("%Y-%m-%dT%H:%MZ"),
    "iso-offset-plus-2": (SOON + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"),
    "iso-offset-minus-5": (SOON - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S-05:00"),
    "iso-offset-hours-only": (SOON + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S+05"),
    "iso-space-offset-spaced": (SOON + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S +0200"),
    "basic-z": SOON.strftime("%Y%m%dT%H%M%SZ"),
    "rfc1123": SOON.strftime("%a, %d %b %Y %H:%M:%S GMT"),
    "surrounding-blanks": "  " + SOON.strftime("%Y-%m-%dT%H:%M:%SZ") + "  ",
    "str-aware-datetime": str(SOON),
    # refused by both
    "garbage": "garbage",
    "empty": "",
    "unix-seconds": str(int(SOON.timestamp())),
    "trailing-text": SOON.strftime("%Y-%m-%dT%H:%M:%SZ extra"),
    "month-13": f"{Y}-13-01T00:00:00Z",
    # expired by both
    "past-z": (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "past-rfc1123": (NOW - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT"),
}


@pytest.mark.parametrize("expiry", cases(EXPIRY_STRINGS))
def test_expiry_string(expiry: str) -> None:
    assert_same(lambda impl: read(impl, lambda: answer(expiry)), with_instant)


EXPIRY_OBJECTS = {
    "aware-utc-datetime": SOON,
    "aware-offset-datetime": SOON.astimezone(timezone(timedelta(hours=3))),
    "aware-past-datetime": NOW - timedelta(minutes=5),
    "int": 1234567890,
    "float": 1.5,
    "none": None,
    "list": [SOON.isoformat()],
    "bytes": SOON.isoformat().encode(),
}


@pytest.mark.parametrize("expiry", cases(EXPIRY_OBJECTS))
def test_expiry_object(expiry: Any) -> None:
    getter = (lambda: answer(None, expiry_time=None)) if expiry is None else (lambda: answer(expiry))
    assert_same(lambda impl: read(impl, getter), with_instant)


@pytest.mark.parametrize(
    "expiry",
    cases(
        {
            "z": SOON.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "micro": SOON.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
            "tenths": SOON.strftime("%Y-%m-%dT%H:%M:%S.5Z"),
            "datetime": SOON.replace(microsecond=250000),
        }
    ),  # fmt: skip
)
def test_expiry_time_is_spelled_alike(expiry: Any) -> None:
    # the exact text of refreshable_credentials()["expiry_time"], UTC inputs
    assert_same(lambda impl: read(impl, lambda: answer(expiry))["expiry_time"])


# -- what the getter returns ------------------------------------------------------------


@pytest.mark.parametrize("key", ["access_key", "secret_key", "token", "expiry_time"])
def test_missing_key(key: str) -> None:
    assert_same(lambda impl: read(impl, lambda: answer(**{key: ...})))


@pytest.mark.parametrize("extra", cases({"region": {"region": "eu-west-1"}, "nested": {"meta": {"a": 1}}}))
def test_extra_keys_are_ignored(extra: Dict[str, Any]) -> None:
    assert_same(lambda impl: read(impl, lambda: answer(**extra)), with_instant)


def test_getter_kwargs_are_passed() -> None:
    def getter(role: str, region: str) -> Dict[str, Any]:
        return answer(access_key=f"ASIA{role.upper()}{region.upper().replace('-', '')}")

    assert_same(
        lambda impl: read(impl, getter, custom_credentials_method_args={"role": "reader", "region": "eu-west-1"}),
        with_instant,
    )


def test_getter_kwargs_not_accepted_by_the_getter() -> None:
    assert_same(lambda impl: read(impl, lambda: answer(), custom_credentials_method_args={"unexpected": 1}))


# -- exceptions of the getter -----------------------------------------------------------


class VaultDown(Exception):
    """A user's own exception class."""


GETTER_EXCEPTIONS = {
    "value-error": ValueError("bad"),
    "key-error": KeyError("k"),
    "runtime-error": RuntimeError("down"),
    "os-error": OSError(5, "io"),
    "timeout-error": TimeoutError("slow"),
    "user-class": VaultDown("sealed"),
    "brs-credential-error": None,  # the package's own BRSCredentialError
}


@pytest.mark.parametrize("name", list(GETTER_EXCEPTIONS))
def test_getter_exception_class(name: str) -> None:
    def scenario(impl: Impl) -> Any:
        exc = GETTER_EXCEPTIONS[name] or impl.exceptions.BRSCredentialError("from the getter")

        def getter() -> Dict[str, Any]:
            raise exc

        return read(impl, getter)

    assert_same(scenario)


@pytest.mark.parametrize("defer", [True, False])
def test_getter_exception_is_the_same_object(defer: bool) -> None:
    # brs lets the getter's exception through: the reader catches that object
    def raising(exc: BaseException) -> Callable[[], Dict[str, Any]]:
        def getter() -> Dict[str, Any]:
            raise exc

        return getter

    for impl in (BRS, GOBRS):
        boom = VaultDown("sealed")
        getter = raising(boom)
        outcome = run(lambda impl, getter=getter: read(impl, getter, defer_refresh=defer), impl)
        assert outcome.exc is boom, (impl, outcome)


def test_getter_exception_reaches_a_client_call(endpoint: str) -> None:
    def scenario(impl: Impl) -> Any:
        def getter() -> Dict[str, Any]:
            raise VaultDown("sealed")

        session = impl.session("custom", custom_credentials_method=getter)
        return session.client("sts", endpoint_url=endpoint).get_caller_identity()

    assert_same(scenario)


def test_getter_recovers_after_a_failure() -> None:
    def scenario(impl: Impl) -> Any:
        answers: List[Any] = [VaultDown("once"), answer()]

        def getter() -> Dict[str, Any]:
            item = answers.pop(0)
            if isinstance(item, Exception):
                raise item
            return item  # type: ignore[no-any-return]

        session = impl.session("custom", custom_credentials_method=getter)
        first = run(lambda _: session.refreshable_credentials(), impl)
        return isinstance(first.exc, VaultDown), session.refreshable_credentials()["access_key"]

    assert_same(scenario)


# -- parameters --------------------------------------------------------------------------

PARAMETERS = {
    "not-callable": {"custom_credentials_method": "getter"},
    "none-getter": {"custom_credentials_method": None},
    "args-a-list": {"custom_credentials_method_args": ["a"]},
    "args-a-string": {"custom_credentials_method_args": "a=1"},
    "args-none": {"custom_credentials_method_args": None},
    "advisory-alone-300": {"advisory_timeout": 300},
    "mandatory-alone-1200": {"mandatory_timeout": 1200},
    "both-timeouts": {"advisory_timeout": 1200, "mandatory_timeout": 300},
    "mandatory-over-advisory": {"advisory_timeout": 300, "mandatory_timeout": 600},
    "zero-timeouts": {"advisory_timeout": 0, "mandatory_timeout": 0},
    "defer-true": {"defer_refresh": True},
    "defer-false": {"defer_refresh": False},
    "defer-none": {"defer_refresh": None},
    "defer-zero": {"defer_refresh": 0},
    "defer-string": {"defer_refresh": "no"},
    "defer-empty-list": {"defer_refresh": []},
    "eager-with-timeouts": {"defer_refresh": False, "advisory_timeout": 300, "mandatory_timeout": 1200},
    "boto3-profile-kwarg-none": {"profile_name": None},
    "boto3-botocore-session-none": {"botocore_session": None},
}


@pytest.mark.parametrize("kwargs", cases(PARAMETERS))
def test_parameters(kwargs: Dict[str, Any]) -> None:
    def scenario(impl: Impl) -> Any:
        args = dict(kwargs)
        getter = args.pop("custom_credentials_method", lambda: answer())
        session = impl.session("custom", custom_credentials_method=getter, **args)
        return with_instant(session.refreshable_credentials()), session.region_name

    assert_same(scenario)


def test_refresh_method_kwarg_warns_and_is_ignored() -> None:
    brs, ours = assert_same(
        lambda impl: impl.session("custom", custom_credentials_method=answer, refresh_method="sts").refresh_method
    )
    assert any(w.startswith("BRSWarning") for w in brs.warnings)
    assert any(w.startswith("BRSWarning") for w in ours.warnings)


def test_unknown_method() -> None:
    assert_same(lambda impl: impl.session("kerberos", custom_credentials_method=answer))


def test_get_identity() -> None:
    def getter() -> Dict[str, Any]:
        return answer()

    assert_same(lambda impl: impl.session("custom", custom_credentials_method=getter).get_identity())


# -- expired and short-lived answers ------------------------------------------------------

LIFETIMES = {"past": -3600, "future": 7200}


@pytest.mark.parametrize("defer", [True, False])
@pytest.mark.parametrize(
    "sequence", cases({"expired": ["past"], "expired-then-good": ["past", "future"], "good": ["future"]})
)
def test_first_answer_expired(defer: bool, sequence: List[str]) -> None:
    def scenario(impl: Impl) -> Any:
        calls: List[str] = []

        def getter() -> Dict[str, Any]:
            kind = sequence[min(len(calls), len(sequence) - 1)]
            calls.append(kind)
            expiry = datetime.now(timezone.utc) + timedelta(seconds=LIFETIMES[kind])
            return answer(expiry.isoformat(), access_key=f"ASIADIFFCALL{len(calls):08d}")

        session = impl.session("custom", custom_credentials_method=getter, defer_refresh=defer)
        first = run(lambda _: session.get_credentials().get_frozen_credentials().access_key, impl)
        # botocore raises a RuntimeError for refreshed credentials still expired
        return first.value, isinstance(first.exc, RuntimeError), list(calls)

    assert_same(scenario)
