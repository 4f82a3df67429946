"""One schema (issue 16): the Go core checks the parameters that reach it
as JSON, strictly and case-sensitively, and what it decides to do
otherwise than asked comes back as a warning that Python raises at the
user's line."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from typing import Any, Dict

import pytest

from gobrs import IOTX509RefreshableSession, RefreshableSession, _lib
from gobrs.exceptions import BRSTypeError, BRSValidationError, BRSWarning
from test_iot import ROLE_ALIAS, IoTServer, _kwargs, iot  # noqa: F401 - iot is a fixture

REGION = "us-east-1"
DATA_ENDPOINT = "a1b2c3-ats.iot.eu-west-1.amazonaws.com"


_CREDS = {"access_key": "ASIASCHEMATEST000001", "secret_key": "SCHEMASECRET", "token": "SCHEMATOKEN"}


def _getter() -> Dict[str, Any]:
    return dict(_CREDS, expiry_time=datetime.now(timezone.utc) + timedelta(hours=1))


# -- warnings decided by Go ------------------------------------------------------


@pytest.mark.parametrize("through", ["factory", "class"])
def test_go_warning_points_at_the_users_line(iot: IoTServer, through: str) -> None:  # noqa: F811
    kwargs = _kwargs(iot, endpoint=DATA_ENDPOINT)
    with pytest.warns(BRSWarning) as record:
        if through == "factory":
            session = RefreshableSession(method="iot", **kwargs)
        else:
            session = IOTX509RefreshableSession(**kwargs)
    try:
        assert len(record) == 1
        assert record[0].filename == __file__
        assert "***-ats.iot.eu-west-1.amazonaws.com" in str(record[0].message)
        # the value the Go core used instead is the session's endpoint
        assert session.endpoint == "a1b2c3.credentials.iot.eu-west-1.amazonaws.com"
    finally:
        session.close()
    assert iot.calls == 0


def test_go_warnings_are_read_from_the_library(iot: IoTServer) -> None:  # noqa: F811
    from gobrs.iot import _pem_or_path

    config = {
        "method": "iot",
        "endpoint": DATA_ENDPOINT,
        "role_alias": ROLE_ALIAS,
        "certificate": _pem_or_path("certificate", iot.cert),
        "private_key": _pem_or_path("private_key", iot.key),
    }
    native = _lib.NativeSession(config)
    try:
        (warning,) = native.warnings()
        assert warning["param"] == "endpoint"
        assert warning["value"] == "a1b2c3.credentials.iot.eu-west-1.amazonaws.com"
        assert "a1b2c3" not in warning["message"]
    finally:
        native.close()
    plain = _lib.NativeSession({**config, "endpoint": warning["value"]})
    try:
        assert plain.warnings() == []
    finally:
        plain.close()


def test_no_warning_without_cause(iot: IoTServer) -> None:  # noqa: F811
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        IOTX509RefreshableSession(**_kwargs(iot)).close()


# -- strictness ------------------------------------------------------------------


@pytest.mark.parametrize("key", ["PKCS11_LIB", "Pkcs11_Lib", "USER_PIN", "pkcs11_lib "])
def test_pkcs11_keys_are_case_sensitive(iot: IoTServer, key: str) -> None:  # noqa: F811
    with pytest.raises(BRSValidationError) as info:
        IOTX509RefreshableSession(**_kwargs(iot, private_key=None, pkcs11={"pkcs11_lib": "/x.so", key: "/x.so"}))
    assert info.value.param == f"pkcs11.{key}"
    assert "unknown key" in info.value.message
    assert iot.calls == 0


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"advisory_timeout": "900"}, "advisory_timeout"),
        ({"mandatory_timeout": [600]}, "mandatory_timeout"),
        ({"refresh_timeout": "5"}, "refresh_timeout"),
        ({"background_refresh": None}, "background_refresh"),
        ({"background_refresh": 1}, "background_refresh"),
    ],
)
def test_wrong_json_types_are_type_errors(kwargs: Dict[str, Any], param: str) -> None:
    with pytest.raises(BRSTypeError) as info:
        RefreshableSession(method="custom", custom_credentials_method=_getter, region_name=REGION, **kwargs)
    assert isinstance(info.value, TypeError)
    assert info.value.param == param


@pytest.mark.parametrize(
    "extra, param",
    [
        ({"timeout": "10"}, "timeout"),
        ({"verify_peer": "yes"}, "verify_peer"),
        ({"thing_name": 3}, "thing_name"),
        ({"duration_seconds": "900"}, "duration_seconds"),
        ({"private_key": None, "pkcs11": "lib.so"}, "pkcs11"),
        ({"private_key": None, "pkcs11": {"pkcs11_lib": "/x.so", "slot_id": "1"}}, "pkcs11.slot_id"),
    ],
)
def test_iot_wrong_types_are_type_errors(iot: IoTServer, extra: Dict[str, Any], param: str) -> None:  # noqa: F811
    with pytest.raises(BRSTypeError) as info:
        IOTX509RefreshableSession(**_kwargs(iot, **extra))
    assert info.value.param == param
    assert iot.calls == 0


def test_iot_ranges_are_go_s(iot: IoTServer) -> None:  # noqa: F811
    # a whole number is a whole number however it is spelled, as in C
    IOTX509RefreshableSession(**_kwargs(iot, duration_seconds=900.0)).close()
    with pytest.raises(BRSValidationError) as info:
        IOTX509RefreshableSession(**_kwargs(iot, duration_seconds=899))
    assert info.value.param == "duration_seconds"
    assert not isinstance(info.value, TypeError)


@pytest.mark.parametrize("provider", [lambda: "654321", ["echo", "654321"]], ids=["callable", "command"])
def test_ignored_token_code_is_a_go_warning(provider: Any) -> None:
    from gobrs import STSRefreshableSession

    with pytest.warns(BRSWarning, match="'TokenCode' provided in 'assume_role_kwargs' will be ignored") as record:
        session = STSRefreshableSession(
            assume_role_kwargs={
                "RoleArn": "arn:aws:iam::123456789012:role/schema",
                "SerialNumber": "arn:aws:iam::123456789012:mfa/schema",
                "TokenCode": "123456",
            },
            sts_client_kwargs={"endpoint_url": "http://127.0.0.1:9"},
            mfa_token_provider=provider,
            region_name=REGION,
            aws_access_key_id="AKIDSCHEMA",
            aws_secret_access_key="schema-secret",
        )
    session.close()  # deferred: nothing was asked of the endpoint
    assert len(record) == 1 and record[0].filename == __file__
    assert "123456" not in str(record[0].message)


def test_botocore_config_options_without_effect_are_a_go_warning() -> None:
    from botocore import UNSIGNED
    from botocore.config import Config

    from gobrs import STSRefreshableSession

    config = Config(tcp_keepalive=True, connect_timeout=5, signature_version=UNSIGNED)
    with pytest.warns(BRSWarning, match="no effect on gobrs's STS client: signature_version, tcp_keepalive") as record:
        session = STSRefreshableSession(
            assume_role_kwargs={"RoleArn": "arn:aws:iam::123456789012:role/schema"},
            sts_client_kwargs={"endpoint_url": "http://127.0.0.1:9", "config": config},
            region_name=REGION,
            aws_access_key_id="AKIDSCHEMA",
            aws_secret_access_key="schema-secret",
        )
    session.close()
    assert len(record) == 1 and record[0].filename == __file__
