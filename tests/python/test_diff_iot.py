"""Differential scenarios of the iot method against the local mutual-TLS
IoT credentials server of test_iot.py: boto3-refresh-session (with its
``iot`` extra, awscrt) and gobrs end alike.

brs accepts only endpoints that contain ".credentials.iot." (or a data
endpoint it rewrites); the local server is 127.0.0.1:PORT, so the
``local_endpoint`` fixture lets brs's endpoint check pass 127.0.0.1
endpoints through unchanged. That check itself is compared in
test_endpoint_check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from difftest import BRS, GOBRS, Impl, assert_same, cases, instant, run
from test_iot import CA, ROLE_ALIAS, THING, IoTServer, iot  # noqa: F401 - iot is a fixture

pytest.importorskip("awscrt", reason="brs's iot method needs its 'iot' extra (awscrt)")


@pytest.fixture(autouse=True)
def local_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from boto3_refresh_session.methods.iot.x509 import IOTX509RefreshableSession

    check = IOTX509RefreshableSession._normalize_iot_credential_endpoint

    def normalize(endpoint: str) -> str:
        return endpoint if endpoint.startswith("127.0.0.1:") else check(endpoint)

    monkeypatch.setattr(IOTX509RefreshableSession, "_normalize_iot_credential_endpoint", staticmethod(normalize))
    yield


def kwargs(server: IoTServer, **extra: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = dict(endpoint=server.endpoint, role_alias=ROLE_ALIAS, certificate=server.cert,
                               private_key=server.key, ca=server.ca.pem, thing_name=THING)  # fmt: skip
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None}


def shape(creds: Dict[str, Any]) -> Dict[str, Any]:
    return {**creds, "expiry_time": instant(creds["expiry_time"]).replace(second=0, microsecond=0)}


def read(impl: Impl, server: IoTServer, **extra: Any) -> Dict[str, Any]:
    session = impl.session("iot", **kwargs(server, **extra))
    creds = session.refreshable_credentials()
    return {"access_key_prefix": creds["access_key"][:13], "keys": sorted(creds),
            "expiry_utc": creds["expiry_time"].endswith("+00:00")}  # fmt: skip


def test_success(iot: IoTServer) -> None:  # noqa: F811
    assert_same(lambda impl: read(impl, iot))


def test_success_with_paths(iot: IoTServer, tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "cert.pem").write_bytes(iot.cert)
    (tmp_path / "key.pem").write_bytes(iot.key)
    (tmp_path / "ca.pem").write_bytes(iot.ca.pem)
    paths = {"certificate": str(tmp_path / "cert.pem"), "private_key": str(tmp_path / "key.pem"),
             "ca": str(tmp_path / "ca.pem")}  # fmt: skip
    assert_same(lambda impl: read(impl, iot, **paths))


@pytest.mark.parametrize("extra", cases({"duration": {"duration_seconds": 900}, "timeout": {"timeout": 5},
                                         "timeout-float": {"timeout": 7.5},
                                         "verify-peer": {"verify_peer": True}}))  # fmt: skip
def test_options(iot: IoTServer, extra: Dict[str, Any]) -> None:  # noqa: F811
    assert_same(lambda impl: read(impl, iot, **extra))
    if "duration_seconds" in extra:
        sent = [r.get("x-amzn-iot-credential-duration-seconds") for r in iot.requests]
        assert sent == ["900", "900"]


def test_duration_header_and_thing_name_reach_the_server(iot: IoTServer) -> None:  # noqa: F811
    assert_same(lambda impl: read(impl, iot))
    assert [r.get("x-amzn-iot-thingname") for r in iot.requests] == [THING, THING]


@pytest.mark.parametrize("answer", cases({
    "403": (403, b'{"message":"Access Denied"}'),
    "404": (404, b'{"message":"Role alias does not exist"}'),
    "500": (500, b'{"message":"Internal error"}'),
}))  # fmt: skip
def test_error_answers(iot: IoTServer, answer: Any) -> None:  # noqa: F811
    iot.answer = answer
    brs, ours = assert_same(lambda impl: read(impl, iot))
    assert ours.exc.status_code == brs.exc.status_code == answer[0]  # type: ignore[union-attr]


def test_expired_answer(iot: IoTServer) -> None:  # noqa: F811
    import json

    body = {"credentials": {"accessKeyId": "ASIAIOTEXPIRED000001", "secretAccessKey": "s", "sessionToken": "t",
                            "expiration": "2020-01-01T00:00:00Z"}}  # fmt: skip
    iot.answer = (200, json.dumps(body).encode())
    assert_same(lambda impl: read(impl, iot))


def test_thing_name_missing_is_refused_by_the_server(iot: IoTServer) -> None:  # noqa: F811
    assert_same(lambda impl: read(impl, iot, thing_name=None))


def test_wrong_role_alias(iot: IoTServer) -> None:  # noqa: F811
    assert_same(lambda impl: read(impl, iot, role_alias="another-alias"))


def test_untrusted_server_without_peer_verification(iot: IoTServer) -> None:  # noqa: F811
    other = CA("another CA")
    assert_same(lambda impl: read(impl, iot, ca=other.pem, verify_peer=False))


def test_nothing_listening(iot: IoTServer) -> None:  # noqa: F811
    iot.stop()
    assert_same(lambda impl: read(impl, iot, timeout=5))


@pytest.mark.parametrize("extra", cases({
    "no-key": {"private_key": None},
    "key-and-pkcs11": {"pkcs11": {"pkcs11_lib": __file__, "user_pin": "1234", "slot_id": 0}},
}))  # fmt: skip
def test_key_parameters(iot: IoTServer, extra: Dict[str, Any]) -> None:  # noqa: F811
    assert_same(lambda impl: read(impl, iot, **extra))


@pytest.mark.parametrize("endpoint", cases({
    "credentials-endpoint": "abc123.credentials.iot.us-east-1.amazonaws.com",
    "nonsense": "not an endpoint",
}))  # fmt: skip
def test_endpoint_check(endpoint: str) -> None:
    # only the check at construction: nothing is fetched (defer_refresh)
    ca = CA("endpoint check")
    cert, key = ca.issue(THING)
    assert_same(lambda impl: type(impl.session("iot", endpoint=endpoint, role_alias=ROLE_ALIAS, certificate=cert,
                                               private_key=key)).__name__.endswith("Session"))  # fmt: skip


def test_credentials_method_name(iot: IoTServer) -> None:  # noqa: F811
    assert_same(lambda impl: impl.session("iot", **kwargs(iot)).get_credentials().method)


def test_refresh_method_kwarg_warns(iot: IoTServer) -> None:  # noqa: F811
    brs, ours = assert_same(lambda impl: impl.session("iot", refresh_method="x", **kwargs(iot)).refresh_method)
    assert any(w.startswith("BRSWarning") for w in brs.warnings)
    assert any(w.startswith("BRSWarning") for w in ours.warnings)


def test_expiry_time_spelling(iot: IoTServer) -> None:  # noqa: F811
    def scenario(impl: Impl) -> Any:
        return impl.session("iot", **kwargs(iot)).refreshable_credentials()["expiry_time"][19:]

    assert_same(scenario)


def test_both_reads_are_one_fetch_each(iot: IoTServer) -> None:  # noqa: F811
    for impl in (BRS, GOBRS):
        before = iot.calls
        session = impl.session("iot", **kwargs(iot))
        assert run(lambda _, session=session: [session.refreshable_credentials() for _ in range(3)], impl).exc is None
        assert iot.calls - before == 1, impl
