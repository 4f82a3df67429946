"""``IOTX509RefreshableSession.mqtt()`` against a local mutual-TLS MQTT broker
(mosquitto, from the distribution) on 127.0.0.1: the connection is built
from the session's certificate and key, in memory, and carries a message.

Needs the ``iot`` extra (awsiotsdk, in requirements-dev.txt) and the
``mosquitto`` binary (.ci/run installs it; README prerequisites).
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from gobrs import BRSConfigurationError, BRSValidationError, IOTX509RefreshableSession
from gobrs.testing import free_port
from test_iot import CA, ROLE_ALIAS, THING

JOIN = 30.0  # seconds: a hang guard, not a speed assertion
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker:
    """mosquitto on 127.0.0.1 requiring a client certificate of ``ca``."""

    def __init__(self, tmp: Path) -> None:
        self.ca = CA("mqtt CA")
        self.cert, self.key = self.ca.issue(THING)
        server_cert, server_key = self.ca.issue("broker", server=True)
        for name, data in (("ca.pem", self.ca.pem), ("server.pem", server_cert), ("server.key", server_key)):
            (tmp / name).write_bytes(data)
        self.port = free_port()
        conf = tmp / "mosquitto.conf"
        conf.write_text(
            "\n".join(
                [
                    f"user {getpass.getuser()}",
                    "persistence false",
                    "log_dest stderr",
                    f"listener {self.port} 127.0.0.1",
                    f"cafile {tmp / 'ca.pem'}",
                    f"certfile {tmp / 'server.pem'}",
                    f"keyfile {tmp / 'server.key'}",
                    "require_certificate true",
                    "use_identity_as_username true",
                    "allow_anonymous false",
                    "",
                ]
            )
        )
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + JOIN
        while True:  # ready when the port accepts connections
            assert self.proc.poll() is None, self.proc.stdout.read().decode() if self.proc.stdout else "exited"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "mosquitto never listened"
                time.sleep(0.02)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed (apt-get install mosquitto; see README)")
    b = Broker(tmp_path)
    try:
        yield b
    finally:
        b.stop()


def _session(broker: Broker, **extra: Any) -> IOTX509RefreshableSession:
    kwargs: Dict[str, Any] = dict(
        endpoint="abc123.credentials.iot.us-east-1.amazonaws.com",
        role_alias=ROLE_ALIAS,
        certificate=broker.cert,
        private_key=broker.key,
        thing_name=THING,
        region_name="us-east-1",
    )
    kwargs.update(extra)
    return IOTX509RefreshableSession(**kwargs)


def _roundtrip(connection: Any, topic: str) -> bytes:
    from awscrt import mqtt

    got: Dict[str, bytes] = {}
    arrived = threading.Event()

    def on_message(topic: str, payload: bytes, **_: Any) -> None:
        got["payload"] = payload
        arrived.set()

    connection.connect().result(JOIN)
    try:
        subscribed, _ = connection.subscribe(topic, mqtt.QoS.AT_LEAST_ONCE, on_message)
        subscribed.result(JOIN)
        published, _ = connection.publish(topic, b"hello from gobrs", mqtt.QoS.AT_LEAST_ONCE)
        published.result(JOIN)
        assert arrived.wait(JOIN), "the message never came back"
    finally:
        connection.disconnect().result(JOIN)
    return got["payload"]


def test_mqtt_connects_with_the_session_certificate_and_key(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_files(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("mqtt() wrote a temporary file")

    with _session(broker) as session:
        # nothing of the certificate, key or CA goes to a file
        monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_files)
        monkeypatch.setattr(tempfile, "mkstemp", no_files)
        connection = session.mqtt(endpoint="127.0.0.1", port=broker.port, client_id=THING, ca=broker.ca.pem)
        assert _roundtrip(connection, "gobrs/test") == b"hello from gobrs"


def test_mqtt_with_paths_and_session_defaults(broker: Broker, tmp_path: Path) -> None:
    (tmp_path / "device.pem").write_bytes(broker.cert)
    (tmp_path / "device.key").write_bytes(broker.key)
    (tmp_path / "ca.pem").write_bytes(broker.ca.pem)
    with _session(
        broker,
        certificate=str(tmp_path / "device.pem"),
        private_key=str(tmp_path / "device.key"),
        ca=str(tmp_path / "ca.pem"),
    ) as session:
        assert session.certificate == broker.cert and session.ca == broker.ca.pem
        connection = session.mqtt(endpoint="127.0.0.1", port=broker.port, client_id=THING)
        assert _roundtrip(connection, "gobrs/paths") == b"hello from gobrs"


def test_mqtt_refuses_a_client_the_broker_does_not_trust(broker: Broker) -> None:
    from awscrt.exceptions import AwsCrtError

    other = CA("another CA")
    cert, key = other.issue(THING)
    with _session(broker) as session:
        connection = session.mqtt(
            endpoint="127.0.0.1", port=broker.port, client_id=THING, certificate=cert, private_key=key, ca=broker.ca.pem
        )
        with pytest.raises(AwsCrtError):
            connection.connect().result(JOIN)


@pytest.mark.parametrize(
    ("kwargs", "error", "param"),
    [
        ({"transport": "tcp"}, BRSValidationError, "transport"),
        ({"pkcs11": "not a dict"}, BRSValidationError, "pkcs11"),
        ({"certificate": 42}, BRSValidationError, "certificate"),
        ({"private_key": "/no/such/key.pem"}, BRSValidationError, "private_key"),
        ({"pkcs11": {"pkcs11_lib": os.__file__}}, BRSConfigurationError, "private_key/pkcs11"),
    ],
)
def test_mqtt_bad_arguments(broker: Broker, kwargs: Dict[str, Any], error: type, param: str) -> None:
    with _session(broker) as session:
        with pytest.raises(error) as info:
            session.mqtt(endpoint="127.0.0.1", client_id=THING, **kwargs)
        assert info.value.param == param
        assert "PRIVATE KEY" not in str(info.value)


def test_iot_needs_no_extra_but_mqtt_does(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/compat.md: boto3-refresh-session needs the ``iot`` extra for the
    whole method; gobrs only for ``mqtt()``."""

    import gobrs.utils.extras as extras
    from gobrs import RefreshableSession

    monkeypatch.setattr(extras, "IOT_EXTRA_INSTALLED", False)
    assert "iot" in RefreshableSession.get_available_methods()
    with _session(broker) as session:
        with pytest.raises(BRSConfigurationError) as info:
            session.mqtt(endpoint="127.0.0.1", client_id=THING)
        assert info.value.param == "mqtt"


def test_awscrt_log_level_has_no_effect(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/compat.md: boto3-refresh-session starts the AWS CRT's logging to
    stdout; gobrs accepts the value and does nothing with it."""

    import awscrt.io

    def no_logging(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("awscrt logging was started")

    monkeypatch.setattr(awscrt.io, "init_logging", no_logging)
    with _session(broker, awscrt_log_level=awscrt.io.LogLevel.Trace) as session:
        assert session.refresh_method == "iot-x509"


def test_mqtt_over_websockets_is_signed_with_the_session_credentials(broker: Broker) -> None:
    """transport="ws": a connection SigV4-signed with the session's current
    credentials. (Debian's mosquitto cannot open a WebSockets listener
    here, so this checks the connection object and its credentials, not a
    round trip.)"""

    from awscrt import mqtt

    from gobrs.iot import _crt_credentials

    with _session(broker) as session:
        creds = session.get_credentials()
        creds._frozen = creds._frozen._replace(access_key="AKIAWSTEST", secret_key="s", token="t")
        creds._deadline = float("inf")  # the copy stays current: no fetch
        connection = session.mqtt(endpoint="127.0.0.1", client_id="ws-client", transport="ws", region="us-east-1")
        assert isinstance(connection, mqtt.Connection)
        signed = _crt_credentials(session._creds())
        assert (signed.access_key_id, signed.secret_access_key, signed.session_token) == ("AKIAWSTEST", "s", "t")
