"""The ``iot`` method against a local mutual-TLS IoT credentials endpoint.

The server is Python's own (``http.server`` over ``ssl``) on 127.0.0.1,
requiring a client certificate; the CA, server and device certificates are
generated here with the ``cryptography`` package (a moto dependency).
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import threading
import uuid
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import boto3.session
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gobrs import (
    BRSConfigurationError,
    BRSConnectionError,
    BRSCredentialError,
    BRSRequestError,
    BRSValidationError,
    BRSWarning,
    IOTX509RefreshableSession,
    RefreshableSession,
)
from gobrs.testing import free_port

ROLE_ALIAS = "test-role-alias"
THING = "thing-1"


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class CA:
    """A test certificate authority."""

    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, cn: str, server: bool = False) -> Tuple[bytes, bytes]:
        """A certificate and key (PEM): for 127.0.0.1 when server, else a client's."""

        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
        cert = builder.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


class IoTServer:
    """A mutual-TLS IoT credentials endpoint on 127.0.0.1 for one test."""

    def __init__(self, tmp: Path) -> None:
        self.ca = CA("test CA")
        self.cert, self.key = self.ca.issue(THING)
        self.secret_marker = "IOTSECRET" + uuid.uuid4().hex
        self.token_marker = "IOTTOKEN" + uuid.uuid4().hex
        self.requests: List[Dict[str, str]] = []
        self.answer: Optional[Tuple[int, bytes]] = None  # overrides the default
        self.calls = 0
        self._lock = threading.Lock()

        server_cert, server_key = self.ca.issue("server", server=True)
        (tmp / "server.pem").write_bytes(server_cert)
        (tmp / "server.key").write_bytes(server_key)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tmp / "server.pem", tmp / "server.key")
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=self.ca.pem.decode())
        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.httpd.daemon_threads = True
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)

    def secrets(self) -> List[str]:
        key_body = [line for line in self.key.decode().splitlines() if not line.startswith("-----")]
        return [self.secret_marker, self.token_marker, *key_body]

    def _handler(self) -> type:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                peer = self.connection.getpeercert()  # type: ignore[attr-defined]
                cn = dict(x[0] for x in peer["subject"]).get("commonName") if peer else None
                with server._lock:
                    server.calls += 1
                    n = server.calls
                    server.requests.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
                    answer = server.answer
                if answer is None:
                    if self.path != f"/role-aliases/{ROLE_ALIAS}/credentials":
                        answer = (404, b'{"message":"Role alias does not exist"}')
                    elif cn != self.headers.get("x-amzn-iot-thingname"):
                        answer = (403, b'{"message":"Access Denied"}')
                    else:
                        expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
                        answer = (
                            200,
                            json.dumps(
                                {
                                    "credentials": {
                                        "accessKeyId": f"ASIAIOTPYTEST{n:04d}",
                                        "secretAccessKey": f"{server.secret_marker}-{n}",
                                        "sessionToken": f"{server.token_marker}-{n}",
                                        "expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                    }
                                }
                            ).encode(),
                        )
                status, body = answer
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture
def iot(tmp_path: Path) -> Iterator[IoTServer]:
    server = IoTServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def _kwargs(iot: IoTServer, **extra: Any) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = dict(
        endpoint=iot.endpoint,
        role_alias=ROLE_ALIAS,
        certificate=iot.cert,
        private_key=iot.key,
        ca=iot.ca.pem,
        thing_name=THING,
        region_name="us-east-1",
    )
    kwargs.update(extra)
    return {k: v for k, v in kwargs.items() if v is not None}


def _assert_no_secrets(text: str, iot: IoTServer) -> None:
    for secret in iot.secrets():
        assert secret not in text


def test_success_with_pem_bytes(iot: IoTServer) -> None:
    with IOTX509RefreshableSession(**_kwargs(iot)) as session:
        assert isinstance(session, boto3.session.Session)
        creds = session.refreshable_credentials()
        assert creds["access_key"].startswith("ASIAIOTPYTEST")
        assert creds["secret_key"].startswith(iot.secret_marker)
        assert creds["token"].startswith(iot.token_marker)
        assert creds["expiry_time"].endswith("+00:00")  # as boto3-refresh-session spells it
        frozen = session.get_credentials().get_frozen_credentials()
        assert frozen.access_key == creds["access_key"]
        assert session.get_credentials().method == "iot-x509"
        assert iot.requests[-1]["x-amzn-iot-thingname"] == THING
        assert "x-amzn-iot-credential-duration-seconds" not in iot.requests[-1]
        assert session.endpoint == iot.endpoint and session.role_alias == ROLE_ALIAS
        _assert_no_secrets(repr(session), iot)
        _assert_no_secrets(repr(session.get_credentials()), iot)
        _assert_no_secrets(repr(vars(session)), iot)


def test_success_with_paths_through_the_factory(iot: IoTServer, tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_bytes(iot.cert)
    (tmp_path / "key.pem").write_bytes(iot.key)
    (tmp_path / "ca.pem").write_bytes(iot.ca.pem)
    session = RefreshableSession(
        method="iot",
        **_kwargs(
            iot,
            certificate=str(tmp_path / "cert.pem"),
            private_key=tmp_path / "key.pem",  # path-like works too
            ca=str(tmp_path / "ca.pem"),
            duration_seconds=3600,
            timeout=5,
            defer_refresh=False,
        ),
    )
    try:
        assert type(session) is IOTX509RefreshableSession
        assert iot.calls == 1  # fetched at construction
        assert session.credentials["access_key"].startswith("ASIAIOTPYTEST")
        assert iot.requests[-1]["x-amzn-iot-credential-duration-seconds"] == "3600"
    finally:
        session.close()
    assert "iot" in RefreshableSession.get_available_methods()


def test_verify_peer_false_trusts_any_server(iot: IoTServer) -> None:
    with IOTX509RefreshableSession(**_kwargs(iot, ca=None, verify_peer=False)) as session:
        assert session.credentials["access_key"].startswith("ASIAIOTPYTEST")


def test_403_is_a_request_error(iot: IoTServer) -> None:
    with IOTX509RefreshableSession(**_kwargs(iot, thing_name="thing-2")) as session:
        with pytest.raises(BRSRequestError) as info:
            session.refreshable_credentials()
    err = info.value
    assert err.status_code == 403
    assert "Access Denied" in err.message
    iot.answer = (403, b'{"message":"Access Denied"}')
    with pytest.raises(BRSRequestError) as info:
        IOTX509RefreshableSession(**_kwargs(iot, defer_refresh=False))
    assert info.value.status_code == 403


def test_malformed_answer_is_a_credential_error(iot: IoTServer) -> None:
    iot.answer = (200, b'{"credentials": {"accessKeyId": "x"}}')
    with IOTX509RefreshableSession(**_kwargs(iot)) as session:
        with pytest.raises(BRSCredentialError) as info:
            session.refreshable_credentials()
    assert info.value.param == "credentials.secretAccessKey"


def test_untrusted_server_and_refused_client_are_connection_errors(iot: IoTServer) -> None:
    other = CA("other CA")
    stranger_cert, stranger_key = other.issue(THING)
    for kwargs in (
        _kwargs(iot, ca=other.pem),  # the server's certificate is not trusted
        _kwargs(iot, certificate=stranger_cert, private_key=stranger_key),  # the server refuses the client
    ):
        with IOTX509RefreshableSession(**kwargs) as session:
            with pytest.raises(BRSConnectionError) as info:
                session.refreshable_credentials()
        assert info.value.param == "endpoint"
        assert iot.endpoint in info.value.message
        _assert_no_secrets(str(info.value) + repr(info.value), iot)
        assert stranger_key.decode().splitlines()[1] not in str(info.value)


def test_nothing_listening_is_a_connection_error(iot: IoTServer) -> None:
    endpoint = f"127.0.0.1:{free_port()}"
    with pytest.raises(BRSConnectionError) as info:
        IOTX509RefreshableSession(**_kwargs(iot, endpoint=endpoint, defer_refresh=False))
    assert info.value.value == endpoint


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"certificate": b"not a certificate"}, "certificate"),
        ({"certificate": b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "certificate"),
        ({"certificate": 42}, "certificate"),
        ({"certificate": "/nonexistent/cert.pem"}, "certificate"),
        ({"private_key": b"garbage"}, "private_key"),
        ({"private_key": "/nonexistent/key.pem"}, "private_key"),
        ({"ca": b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"}, "ca"),
        ({"endpoint": "example.com"}, "endpoint"),
        ({"endpoint": "ftp://abc.credentials.iot.us-east-1.amazonaws.com"}, "endpoint"),
        ({"endpoint": "10.1.2.3:8443"}, "endpoint"),
        ({"endpoint": 5}, "endpoint"),
        ({"role_alias": "a/b"}, "role_alias"),
        ({"thing_name": 3}, "thing_name"),
        ({"verify_peer": "yes"}, "verify_peer"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"duration_seconds": 60}, "duration_seconds"),
        ({"duration_seconds": 1000.5}, "duration_seconds"),
        ({"private_key": None, "pkcs11": "lib.so"}, "pkcs11"),
        ({"private_key": None, "pkcs11": {"pkcs11_lib": "/nonexistent/lib.so"}}, "pkcs11.pkcs11_lib"),
        ({"private_key": None, "pkcs11": {"pkcs11_lib": "/x.so", "pin": "1234"}}, "pkcs11.pin"),
        ({"private_key": None, "pkcs11": {"pkcs11_lib": "/x.so", "slot_id": "1"}}, "pkcs11.slot_id"),
        ({"private_key": None, "pkcs11": {"pkcs11_lib": "/x.so", "user_pin": 1234}}, "pkcs11.user_pin"),
    ],
)
def test_bad_parameters_are_validation_errors(iot: IoTServer, kwargs: Dict[str, Any], param: str) -> None:
    with pytest.raises(BRSValidationError) as info:
        IOTX509RefreshableSession(**_kwargs(iot, **kwargs))
    err = info.value
    assert err.param == param
    _assert_no_secrets(str(err) + repr(err), iot)
    assert "1234" not in str(err) + repr(err)
    assert iot.calls == 0


def _pem_body(pem: bytes) -> str:
    lines = pem.decode().strip().splitlines()
    return "\n".join(lines[1:-1])


_SHAPES = {
    "byte order mark": lambda pem: "\ufeff" + pem.decode(),
    "quote": lambda pem: '"' + pem.decode() + '"',
    "Bag Attributes": lambda pem: "Bag Attributes\n    localKeyID: 01 02\nsubject=/CN=x\n" + pem.decode(),
    "bare base64 body": _pem_body,
    "bare base64 body on one line": lambda pem: _pem_body(pem).replace("\n", ""),
}


@pytest.mark.parametrize("shape", sorted(_SHAPES))
@pytest.mark.parametrize("param", ["private_key", "certificate", "ca"])
def test_key_bearing_values_never_appear_in_errors(iot: IoTServer, param: str, shape: str) -> None:
    pem = {"private_key": iot.key, "certificate": iot.cert, "ca": iot.ca.pem}[param]
    for value in (_SHAPES[shape](pem), _SHAPES[shape](pem).encode("utf-8")):
        try:
            session = IOTX509RefreshableSession(**_kwargs(iot, defer_refresh=False, **{param: value}))
        except BRSValidationError as exc:
            assert exc.param == param
            shown = f"{exc}{exc!r}{exc.value!r}{exc.details!r}"
            body = _pem_body(pem).replace("\n", "")
            for i in range(0, len(body) - 16, 8):  # no 16 characters of it anywhere
                assert body[i : i + 16] not in shown
        else:
            session.close()
            assert "base64" not in shape, "a bare base64 body was accepted"


def test_key_of_another_certificate_is_a_validation_error(iot: IoTServer) -> None:
    _, other_key = iot.ca.issue(THING)
    with pytest.raises(BRSValidationError) as info:
        IOTX509RefreshableSession(**_kwargs(iot, private_key=other_key))
    assert info.value.param == "private_key"
    assert "does not match" in info.value.message
    for line in other_key.decode().splitlines()[1:-1]:
        assert line not in str(info.value) + repr(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"private_key": None}, {"pkcs11": {"pkcs11_lib": "/x.so"}}],
)
def test_private_key_xor_pkcs11_is_a_configuration_error(iot: IoTServer, kwargs: Dict[str, Any]) -> None:
    with pytest.raises(BRSConfigurationError) as info:
        IOTX509RefreshableSession(**_kwargs(iot, **kwargs))
    assert info.value.param == "private_key/pkcs11"


def test_data_endpoint_is_rewritten_with_a_warning(iot: IoTServer) -> None:
    with pytest.warns(BRSWarning) as record:
        session = IOTX509RefreshableSession(**_kwargs(iot, endpoint="a1b2c3-ats.iot.eu-west-1.amazonaws.com"))
    try:
        assert session.endpoint == "a1b2c3.credentials.iot.eu-west-1.amazonaws.com"
        text = str(record[0].message)
        assert "***-ats.iot.eu-west-1.amazonaws.com" in text
        assert "***.credentials.iot.eu-west-1.amazonaws.com" in text
        assert "a1b2c3" not in text
        assert record[0].filename == __file__
    finally:
        session.close()  # deferred: nothing was fetched, nothing left the machine
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        IOTX509RefreshableSession(**_kwargs(iot, endpoint="a1b2c3.credentials.iot.eu-west-1.amazonaws.com")).close()
    assert iot.calls == 0


def test_get_identity_calls_sts(iot: IoTServer, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", endpoint)  # the moto server
    with IOTX509RefreshableSession(**_kwargs(iot)) as session:
        identity = session.get_identity()
        assert identity == session.whoami()
    assert set(identity) == {"UserId", "Account", "Arn"}
    assert identity["Account"].isdigit()
    assert iot.calls == 1


def _softhsm_module() -> str:
    for candidate in (
        os.environ.get("GOBRS_SOFTHSM2_MODULE", ""),
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib64/pkcs11/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ):
        if candidate and os.path.isfile(candidate):
            return candidate
    pytest.fail("the SoftHSM2 PKCS#11 module was not found: install softhsm2 (apt-get install -y softhsm2)")


def test_pkcs11_key_on_a_softhsm2_token(iot: IoTServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    util = shutil.which("softhsm2-util")
    if util is None:
        pytest.fail("softhsm2-util not found: install softhsm2 (apt-get install -y softhsm2)")
    module = _softhsm_module()
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    pin = "5678"

    def run(*args: str) -> None:
        subprocess.run([util, *args], check=True, capture_output=True, timeout=60)

    run("--init-token", "--free", "--label", "py-token", "--pin", pin, "--so-pin", "12345678")
    (tmp_path / "key.pem").write_bytes(iot.key)
    run("--import", str(tmp_path / "key.pem"), "--token", "py-token", "--label", "device", "--id", "01", "--pin", pin)
    (tmp_path / "key.pem").unlink()

    pkcs11 = {"pkcs11_lib": module, "user_pin": pin, "token_label": "py-token", "private_key_label": "device"}
    with IOTX509RefreshableSession(**_kwargs(iot, private_key=None, pkcs11=pkcs11)) as session:
        assert session.credentials["access_key"].startswith("ASIAIOTPYTEST")
    with pytest.raises(BRSValidationError) as info:
        IOTX509RefreshableSession(**_kwargs(iot, private_key=None, pkcs11={**pkcs11, "user_pin": "0000"}))
    assert info.value.param == "pkcs11.user_pin"
    assert "0000" not in str(info.value) + repr(info.value)
