"""The deliberate deviations from boto3-refresh-session: each test runs the
same input on both and shows the difference that docs/compat.md
("Inputs and exceptions") lists, row by row in the same order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from difftest import BRS, GOBRS, Impl, instant, run
from test_diff_sts import KEYS, ROLE, SERIAL, FaultSTS, fault, read  # noqa: F401 - fault is a fixture

SOON = datetime.now(timezone.utc) + timedelta(hours=2)


def custom(impl: Impl, expiry: Any, **kwargs: Any) -> Any:
    return impl.session("custom", custom_credentials_method=lambda: {
        "access_key": "ASIADIFFDEVIATION001", "secret_key": "s", "token": "t", "expiry_time": expiry},
        **kwargs)  # fmt: skip


@pytest.mark.parametrize("expiry", [SOON.replace(tzinfo=None).isoformat(), SOON.replace(tzinfo=None)])
def test_deviation_expiry_without_offset_is_utc(expiry: Any) -> None:
    brs = run(lambda impl: custom(impl, expiry).credentials, BRS)
    ours = run(lambda impl: custom(impl, expiry).credentials, GOBRS)
    assert isinstance(brs.exc, TypeError)  # naive minus aware, in botocore
    assert instant(ours.value["expiry_time"]) == SOON.replace(microsecond=SOON.microsecond)


def test_deviation_expiry_offset_is_spelled_utc() -> None:
    given = SOON.astimezone(timezone(timedelta(hours=2))).isoformat()
    brs = run(lambda impl: custom(impl, given).credentials["expiry_time"], BRS)
    ours = run(lambda impl: custom(impl, given).credentials["expiry_time"], GOBRS)
    assert brs.value.endswith("+02:00") and ours.value.endswith("+00:00")
    assert instant(brs.value) == instant(ours.value)


def test_deviation_short_lived_credentials_are_not_refreshed_at_every_read() -> None:
    def scenario(impl: Impl) -> int:
        calls: List[int] = []

        def getter() -> Dict[str, Any]:
            calls.append(1)
            expiry = datetime.now(timezone.utc) + timedelta(minutes=5)
            return {"access_key": "ASIADIFFSHORT0000001", "secret_key": "s", "token": "t", "expiry_time": expiry}

        session = impl.session("custom", custom_credentials_method=getter)
        for _ in range(5):
            session.get_credentials().get_frozen_credentials()
        return len(calls)

    assert run(scenario, BRS).value == 5  # within the 10-minute mandatory window from the start
    assert run(scenario, GOBRS).value == 1  # windows shrink to a quarter of the 5-minute life


def test_deviation_refused_parameters_are_refused_at_construction(endpoint: str) -> None:
    def build(impl: Impl) -> Any:
        return impl.session("sts", assume_role_kwargs={"RoleArn": ROLE, "DurationSeconds": 60},
                            sts_client_kwargs={"endpoint_url": endpoint}, **KEYS)  # fmt: skip

    brs = run(build, BRS)
    assert brs.exc is None
    assert isinstance(run(lambda _: brs.value.credentials, BRS).exc, ParamValidationError)
    ours = run(build, GOBRS)
    assert isinstance(ours.exc, ParamValidationError) and isinstance(ours.exc, GOBRS.exceptions.BRSValidationError)


def test_deviation_mfa_kwargs_are_checked_at_construction(endpoint: str) -> None:
    def build(impl: Impl) -> Any:
        return impl.session("sts", assume_role_kwargs={"RoleArn": ROLE, "SerialNumber": SERIAL},
                            mfa_token_provider=["echo", "123456"], mfa_token_provider_kwargs={"shell": True},
                            sts_client_kwargs={"endpoint_url": endpoint}, **KEYS)  # fmt: skip

    brs = run(build, BRS)
    assert brs.exc is None
    assert isinstance(run(lambda _: brs.value.credentials, BRS).exc, BRS.exceptions.BRSConfigurationError)
    assert isinstance(run(build, GOBRS).exc, GOBRS.exceptions.BRSConfigurationError)


@pytest.mark.parametrize("assume", [{"DurationSeconds": 99999}, {"RoleSessionName": "not allowed"}])
def test_deviation_limits_of_sts_are_kept_against_moto(endpoint: str, assume: Dict[str, Any]) -> None:
    # moto lets these through; AWS STS refuses them with a ValidationError
    assert run(lambda impl: read(impl, endpoint, assume), BRS).exc is None
    ours = run(lambda impl: read(impl, endpoint, assume), GOBRS).exc
    assert isinstance(ours, ClientError) and ours.response["Error"]["Code"] == "ValidationError"


def test_deviation_modeled_sts_errors_are_client_errors(fault: FaultSTS) -> None:  # noqa: F811
    fault.answer = (403, "RegionDisabledException", "STS is not activated in this region")
    brs = run(lambda impl: read(impl, fault.url), BRS).exc
    ours = run(lambda impl: read(impl, fault.url), GOBRS).exc
    assert type(brs).__name__ == "RegionDisabledException" and type(brs).__module__ == "botocore.errorfactory"
    assert type(ours) is GOBRS.exceptions.BRSClientError
    assert isinstance(brs, ClientError) and isinstance(ours, ClientError)
    assert ours.response["Error"]["Code"] == brs.response["Error"]["Code"]


def test_deviation_client_error_text() -> None:
    response = {"Error": {"Code": "AccessDenied", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
    theirs = ClientError(response, "AssumeRole")
    ours = GOBRS.exceptions.BRSClientError("STS AssumeRole failed (HTTP 403)", code="AccessDenied", status_code=403,
                                           response=response, operation_name="AssumeRole")  # fmt: skip
    assert str(theirs).startswith("An error occurred (AccessDenied)")
    assert str(ours).startswith("STS AssumeRole failed") and ours.response == theirs.response


@pytest.mark.parametrize("value", ["x", -1])
def test_deviation_timeouts_are_checked(value: Any) -> None:
    brs = run(lambda impl: custom(impl, SOON.isoformat(), advisory_timeout=value), BRS)
    ours = run(lambda impl: custom(impl, SOON.isoformat(), advisory_timeout=value), GOBRS)
    assert brs.exc is None  # a deferred brs session never reads its timeouts
    assert isinstance(ours.exc, GOBRS.exceptions.BRSValidationError)
    if isinstance(value, str):  # as brs's eager sessions fail at their first read
        assert isinstance(ours.exc, TypeError)
        eager = run(lambda impl: custom(impl, SOON.isoformat(), advisory_timeout=value,
                                        defer_refresh=False).credentials,
                    BRS)  # fmt: skip
        assert isinstance(eager.exc, TypeError)


def test_deviation_iot_endpoint_host_and_port() -> None:
    from test_iot import CA, ROLE_ALIAS, THING

    ca = CA("deviation")
    cert, key = ca.issue(THING)

    def build(impl: Impl) -> Any:
        return impl.session("iot", endpoint="127.0.0.1:8443", role_alias=ROLE_ALIAS, certificate=cert, private_key=key)

    assert isinstance(run(build, BRS).exc, BRS.exceptions.BRSValidationError)
    assert run(build, GOBRS).exc is None


def test_deviation_config_options_without_effect_are_named(endpoint: str) -> None:
    config = Config(tcp_keepalive=True, connect_timeout=5)
    for impl, warned in ((BRS, False), (GOBRS, True)):
        outcome = run(lambda i: read(i, endpoint, sts_client_kwargs={"endpoint_url": endpoint, "config": config}), impl)
        assert outcome.exc is None
        assert any("tcp_keepalive" in w for w in outcome.warnings) is warned, impl
