"""CustomRefreshableSession: parameters, the getter's answers, errors,
identity, the boto3 surface, repr masking, close and lifetime."""

from __future__ import annotations

import gc
import warnings
import weakref
from datetime import datetime, timedelta, timezone
from typing import Any, Dict

import boto3.session
import botocore.credentials
import pytest

from gobrs import (
    BRSClosedError,
    BRSCredentialError,
    BRSValidationError,
    BRSWarning,
    CustomRefreshableSession,
    RefreshableSession,
)
from helpers import REGION, fixed, good
from helpers import custom_session as session


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"custom_credentials_method": "not callable"}, "custom_credentials_method"),
        ({"custom_credentials_method_args": ["a"]}, "custom_credentials_method_args"),
        ({"background_refresh": 1}, "background_refresh"),
        ({"advisory_timeout": "900"}, "advisory_timeout"),
        ({"advisory_timeout": True}, "advisory_timeout"),
        ({"advisory_timeout": float("nan")}, "advisory_timeout"),
        ({"advisory_timeout": -1}, "advisory_timeout"),
        ({"mandatory_timeout": [600]}, "mandatory_timeout"),
        ({"mandatory_timeout": float("inf")}, "mandatory_timeout"),
    ],
)
def test_bad_parameters_name_the_parameter(getter, kwargs: Dict[str, Any], param: str) -> None:
    kwargs.setdefault("custom_credentials_method", getter)
    with pytest.raises(BRSValidationError) as info:
        RefreshableSession(method="custom", region_name=REGION, **kwargs)
    assert info.value.param == param
    assert getter.calls == 0


def test_getter_is_required() -> None:
    with pytest.raises(TypeError):
        CustomRefreshableSession()  # type: ignore[call-arg]


def test_none_means_default_for_common_parameters(getter) -> None:
    s = session(getter, defer_refresh=None, advisory_timeout=None, mandatory_timeout=None)
    assert (s.defer_refresh, s.advisory_timeout, s.mandatory_timeout) == (True, 900, 600)
    assert s.credentials["access_key"] == getter.access_key(1)


def test_refresh_method_kwarg_warns(getter) -> None:
    with pytest.warns(BRSWarning, match="refresh_method"):
        s = session(getter, refresh_method="sts-assume-role")
    assert s.refresh_method == "custom"


def test_boto3_kwargs_pass_through(getter) -> None:
    s = session(getter, region_name="eu-central-1")
    assert s.region_name == "eu-central-1"
    with pytest.raises(TypeError):
        session(getter, no_such_boto3_kwarg=1)


# -- the getter's answers -------------------------------------------------------


def test_defer_refresh_true_fetches_at_first_use(getter) -> None:
    s = session(getter)
    assert getter.calls == 0
    creds = s.credentials
    assert getter.calls == 1
    assert creds["access_key"] == getter.access_key(1)
    assert creds["secret_key"] == getter.issued[0]["secret_key"]
    assert creds["token"] == getter.issued[0]["token"]
    assert set(creds) == {"access_key", "secret_key", "token", "expiry_time"}


def test_defer_refresh_false_fetches_now(getter) -> None:
    session(getter, defer_refresh=False)
    assert getter.calls == 1


def test_getter_args_are_passed(getter) -> None:
    s = session(getter, custom_credentials_method_args={"role": "reader", "n": 2})
    s.credentials
    assert getter.kwargs == [{"role": "reader", "n": 2}]


def test_expiry_time_is_iso8601_utc(getter) -> None:
    s = session(getter)
    creds = s.refreshable_credentials()
    expiry = parse_iso(creds["expiry_time"])
    assert expiry.utcoffset() == timedelta(0)
    assert abs(expiry - getter.issued[0]["expiry_time"]) < timedelta(seconds=1)
    assert s.credentials == creds


@pytest.mark.parametrize(
    "expiry",
    [
        "aware",
        "naive-utc",
        "iso-z",
        "iso-offset",
        "iso-naive",
        "iso-space",
    ],
)
def test_expiry_forms(expiry: str) -> None:
    when = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    value: Any = {
        "aware": when.astimezone(timezone(timedelta(hours=5, minutes=30))),
        "naive-utc": when.replace(tzinfo=None),
        "iso-z": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "iso-offset": when.astimezone(timezone(timedelta(hours=-7))).isoformat(),
        "iso-naive": when.replace(tzinfo=None).isoformat(),
        "iso-space": when.isoformat(sep=" "),
    }[expiry]
    s = session(fixed(good(expiry_time=value)))
    assert parse_iso(s.credentials["expiry_time"]) == when


def test_getter_exception_is_raised_as_it_is(capfd) -> None:
    """As boto3-refresh-session: the getter's own exception object reaches
    the reader, so ``except`` clauses for it keep working."""

    boom = ValueError("the getter broke")

    def getter() -> Dict[str, Any]:
        raise boom

    s = session(getter)
    with pytest.raises(ValueError) as info:
        s.credentials
    assert info.value is boom
    with pytest.raises(ValueError) as info:
        s.get_credentials().get_frozen_credentials()
    assert info.value is boom
    # handled, not printed by ctypes as an ignored callback exception
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert "the getter broke" not in out + err


def test_getter_exception_at_construction_with_defer_false() -> None:
    boom = KeyError("nope")

    def getter() -> Dict[str, Any]:
        raise boom

    with pytest.raises(KeyError) as info:
        session(getter, defer_refresh=False)
    assert info.value is boom


def test_getter_exception_reaches_a_client_call(endpoint) -> None:
    boom = RuntimeError("vault down")

    def getter() -> Dict[str, Any]:
        raise boom

    s = session(getter)
    sts = s.client("sts", endpoint_url=endpoint)
    with pytest.raises(RuntimeError) as info:
        sts.get_caller_identity()
    assert info.value is boom


def test_getter_recovers_after_a_failure() -> None:
    answers: list = [RuntimeError("once"), good()]

    def getter() -> Dict[str, Any]:
        item = answers.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    s = session(getter)
    with pytest.raises(RuntimeError, match="once"):
        s.credentials
    assert s.credentials["access_key"] == "ASIAGOBRSFIXED000001"


@pytest.mark.parametrize("result", [None, ["access_key"], "creds", 42])
def test_getter_returning_a_non_dict(result: Any) -> None:
    s = session(fixed(result))
    with pytest.raises(BRSCredentialError) as info:
        s.credentials
    assert info.value.param == "custom_credentials_method"
    assert type(result).__name__ in info.value.message


def test_getter_missing_keys() -> None:
    s = session(fixed({"access_key": "A", "token": "T"}))
    with pytest.raises(BRSCredentialError) as info:
        s.credentials
    assert info.value.details == {"missing": ["expiry_time", "secret_key"]}
    assert "missing" in info.value.message


def test_getter_mapping_not_dict_is_accepted() -> None:
    from types import MappingProxyType

    s = session(fixed(MappingProxyType(good())))
    assert s.credentials["access_key"] == "ASIAGOBRSFIXED000001"


@pytest.mark.parametrize("bad", [12345, None, 1.5, ["2030-01-01"]])
def test_expiry_of_wrong_type(bad: Any) -> None:
    s = session(fixed(good(expiry_time=bad)))
    with pytest.raises(BRSCredentialError) as info:
        s.credentials
    assert info.value.param == "expiry_time"
    assert info.value.value == bad


def test_expiry_not_iso8601() -> None:
    s = session(fixed(good(expiry_time="next tuesday")))
    with pytest.raises(BRSCredentialError) as info:
        s.credentials
    assert info.value.param == "expiry_time"
    assert info.value.value == "next tuesday"


def test_already_expired() -> None:
    s = session(fixed(good(expiry_time=datetime.now(timezone.utc) - timedelta(minutes=1))))
    with pytest.raises(BRSCredentialError) as info:
        s.credentials
    assert info.value.param == "expiry_time"


@pytest.mark.parametrize("key", ["access_key", "secret_key", "token"])
def test_non_string_field_names_the_key_without_the_value(key: str) -> None:
    secret = b"BYTESSECRET12345"
    s = session(fixed(good(**{key: secret})))
    with pytest.raises(BRSCredentialError) as info:
        s.credentials
    assert info.value.param == key
    assert "BYTESSECRET" not in str(info.value) + repr(info.value)


@pytest.mark.parametrize("key", ["access_key", "secret_key", "token"])
def test_empty_or_nul_fields_are_refused(key: str) -> None:
    for bad in ("", "ab\x00cd"):
        s = session(fixed(good(**{key: bad})))
        with pytest.raises(BRSCredentialError) as info:
            s.credentials
        assert info.value.param == key


# -- identity -------------------------------------------------------------------


def test_identity_of_a_function(getter) -> None:
    def my_vault_getter() -> Dict[str, Any]:
        return good()

    s = session(my_vault_getter)
    assert s.get_identity() == {"method": "custom", "source": "'my_vault_getter'"}
    assert s.whoami() == s.get_identity()


def test_identity_of_a_callable_object() -> None:
    class Getter:
        def __call__(self) -> Dict[str, Any]:
            return good()

        def __repr__(self) -> str:
            return "<Getter>"

    s = session(Getter())
    assert s.get_identity() == {"method": "custom", "source": repr("<Getter>")}


# -- the boto3 surface ------------------------------------------------------------


def test_it_is_a_boto3_session(getter) -> None:
    s = session(getter)
    assert isinstance(s, boto3.session.Session)
    assert s.region_name == REGION
    assert s.profile_name == "default"
    assert isinstance(s.available_profiles, list)
    assert s.events is s._session.get_component("event_emitter")
    assert "s3" in s.get_available_services()
    assert "s3" in s.get_available_resources()
    assert "aws" in s.get_available_partitions()
    assert "us-east-1" in s.get_available_regions("s3")
    assert s.get_partition_for_region("us-east-1") == "aws"
    assert s.get_partition_for_region("cn-north-1") == "aws-cn"


def test_get_credentials_is_a_botocore_refreshable_credentials(getter) -> None:
    s = session(getter)
    creds = s.get_credentials()
    assert isinstance(creds, botocore.credentials.RefreshableCredentials)
    assert creds is s._session.get_credentials()
    assert creds.method == "custom"
    frozen = creds.get_frozen_credentials()
    assert isinstance(frozen, botocore.credentials.ReadOnlyCredentials)
    assert frozen.access_key == creds.access_key == getter.access_key(1)
    assert frozen.secret_key == creds.secret_key
    assert frozen.token == creds.token
    assert creds.account_id is None
    assert creds.refresh_needed() is False
    assert creds.refresh_needed(refresh_in=7200) is True
    assert not creds._is_expired()
    assert getter.calls == 1


def test_fast_path_does_not_cross_into_go(getter, monkeypatch) -> None:
    s = session(getter)
    creds = s.get_credentials()
    creds.get_frozen_credentials()
    native = creds._native
    calls = []
    original = type(native).credentials

    def counting(self, refresh: bool = False):
        calls.append(refresh)
        return original(self, refresh)

    monkeypatch.setattr(type(native), "credentials", counting)
    first = creds.get_frozen_credentials()
    for _ in range(1000):
        assert creds.get_frozen_credentials() is first
    assert calls == []
    creds.invalidate()
    assert creds.get_frozen_credentials() is first  # same set: same object
    assert calls == [False]


def test_clients_and_resources_work(getter, endpoint) -> None:
    s = session(getter)
    sts = s.client("sts", endpoint_url=endpoint)
    assert "Account" in sts.get_caller_identity()
    s3 = s.resource("s3", endpoint_url=endpoint)
    bucket = s3.create_bucket(Bucket="gobrs-custom-resource")
    bucket.put_object(Key="k", Body=b"hello")
    assert bucket.Object("k").get()["Body"].read() == b"hello"
    assert getter.calls == 1


# -- secrets ----------------------------------------------------------------------


def test_repr_masks_secrets(getter) -> None:
    s = session(getter, aws_secret_access_key="PLAINSECRETKWARG", aws_access_key_id="AKIDKWARG")
    s.credentials
    text = repr(s) + str(s) + repr(s.get_credentials()) + str(s.get_credentials())
    for secret in getter.secrets() + ["PLAINSECRETKWARG"]:
        assert secret not in text
    assert "CustomRefreshableSession(" in repr(s)
    assert "****" in repr(s.get_credentials())


def test_errors_and_logs_never_carry_secrets(caplog) -> None:
    caplog.set_level("DEBUG", logger="gobrs")
    secret = "SECRETINERRORPATH987"
    s = session(fixed(good(secret_key=secret, expiry_time="garbage")))
    with pytest.raises(BRSCredentialError) as info:
        s.credentials
    text = str(info.value) + repr(info.value) + caplog.text
    assert secret not in text
    assert "TOKENFIXEDVALUE" not in text


def test_refresh_failures_are_logged_to_the_gobrs_logger(caplog) -> None:
    caplog.set_level("WARNING", logger="gobrs")

    def getter() -> Dict[str, Any]:
        raise RuntimeError("SECRETINEXCEPTIONTEXT")

    s = session(getter)
    with pytest.raises(RuntimeError):
        s.credentials
    records = [r for r in caplog.records if r.name == "gobrs"]
    assert records, "no log line from the Go core"
    assert all(r.levelname == "WARNING" for r in records)
    assert "SECRETINEXCEPTIONTEXT" not in caplog.text


# -- close and lifetime -------------------------------------------------------------


def test_close(getter, endpoint) -> None:
    s = session(getter)
    sts = s.client("sts", endpoint_url=endpoint)
    sts.get_caller_identity()
    assert not s.closed
    s.close()
    assert s.closed
    with pytest.raises(BRSClosedError):
        s.credentials
    with pytest.raises(BRSClosedError):
        sts.get_caller_identity()
    s.close()  # twice is fine


def test_context_manager(getter) -> None:
    with session(getter) as s:
        assert s.credentials["access_key"] == getter.access_key(1)
    assert s.closed
    with pytest.raises(BRSClosedError):
        s.get_credentials().get_frozen_credentials()


def test_client_outlives_its_session(make_getter, endpoint) -> None:
    getter = make_getter()
    sts = session(getter).client("sts", endpoint_url=endpoint)
    gc.collect()
    assert "Account" in sts.get_caller_identity()
    assert getter.calls == 1


def test_session_and_getter_are_collected(make_getter) -> None:
    getter = make_getter()
    s = session(getter)
    s.credentials
    finalizer = s.get_credentials()._native._finalizer
    getter_ref = weakref.ref(getter)
    session_ref = weakref.ref(s)
    del s, getter
    gc.collect()
    assert session_ref() is None
    assert not finalizer.alive, "the Go session was not closed"
    assert getter_ref() is None, "the getter leaked"


def test_no_warning_on_normal_use(getter) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with session(getter) as s:
            s.credentials
