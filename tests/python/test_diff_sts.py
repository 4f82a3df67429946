"""Differential scenarios of the sts method, against the moto server and a
local fault server: boto3-refresh-session and gobrs end alike."""

from __future__ import annotations

import http.server
import socket
import stat
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

import pytest
from botocore.config import Config

from difftest import GOBRS, Impl, assert_same, cases, run

ROLE = "arn:aws:iam::123456789012:role/diff-role"
SERIAL = "arn:aws:iam::123456789012:mfa/diff-user"
KEYS = {"aws_access_key_id": "AKIADIFFSOURCE000001", "aws_secret_access_key": "diff-source-secret"}
ONE_ATTEMPT = {"retries": {"total_max_attempts": 1}}


def sts(impl: Impl, url: str, assume: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Any:
    """An sts session of ``impl`` against ``url``."""

    kwargs.setdefault("sts_client_kwargs", {"endpoint_url": url, "config": Config(**ONE_ATTEMPT)})
    for key, value in KEYS.items():
        kwargs.setdefault(key, value)
    return impl.session("sts", assume_role_kwargs={"RoleArn": ROLE, **(assume or {})}, **kwargs)


def shape(creds: Dict[str, Any]) -> Dict[str, Any]:
    """What both packages' credentials have in common against moto: the
    keys, non-empty text values, and a UTC expiry spelled "+00:00"."""

    return {k: (isinstance(v, str) and bool(v), k != "expiry_time" or v.endswith("+00:00")) for k, v in creds.items()}


def read(impl: Impl, url: str, assume: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Dict[str, Any]:
    return shape(sts(impl, url, assume, **kwargs).refreshable_credentials())


# -- a fault server: STS errors and silences, on 127.0.0.1 ---------------------------------


class FaultSTS:
    """An HTTP server on 127.0.0.1 that answers every request with one STS
    error (``answer``), or holds it unanswered until :meth:`stop`."""

    def __init__(self) -> None:
        self.answer: Tuple[int, str, str] = (403, "AccessDenied", "not authorized")
        self.hold = False
        self.release = threading.Event()
        fault = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if fault.hold:
                    fault.release.wait()
                    return
                status, code, message = fault.answer
                body = (
                    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                    f"<Code>{code}</Code><Message>{message}</Message></Error>"
                    f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def fault() -> Iterator[FaultSTS]:
    server = FaultSTS()
    try:
        yield server
    finally:
        server.stop()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / f"mfa-{uuid.uuid4().hex[:8]}.sh"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


# -- AssumeRole against moto -------------------------------------------------------------------

ASSUME = {
    "role-only": {},
    "session-name": {"RoleSessionName": "diff-session"},
    "duration-900": {"DurationSeconds": 900},
    "duration-3600": {"DurationSeconds": 3600},
    "external-id": {"ExternalId": "diff-external-id"},
    "tags": {"Tags": [{"Key": "team", "Value": "diff"}]},
    "policy-arns": {"PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]},
    "static-mfa": {"SerialNumber": SERIAL, "TokenCode": "123456"},
    # refused by botocore's own validation (ParamValidationError)
    "duration-60": {"DurationSeconds": 60},
    "duration-string": {"DurationSeconds": "3600"},
    "session-name-1-char": {"RoleSessionName": "a"},
    # refused by brs's AssumeRoleConfig
    "unknown-key": {"Bogus": 1},
    "role-arn-short": {"RoleArn": "arn:short"},
    "role-arn-not-text": {"RoleArn": 42},
    "token-code-5-digits": {"SerialNumber": SERIAL, "TokenCode": "12345"},
    "token-code-letters": {"SerialNumber": SERIAL, "TokenCode": "abcdef"},
    # MFA parameters that cannot work together
    "serial-without-token": {"SerialNumber": SERIAL},
    "token-without-serial": {"TokenCode": "123456"},
}


@pytest.mark.parametrize("assume", cases(ASSUME))
def test_assume_role_kwargs(endpoint: str, assume: Dict[str, Any]) -> None:
    assert_same(lambda impl: read(impl, endpoint, assume))


def test_assume_role_config_object(endpoint: str) -> None:
    def scenario(impl: Impl) -> Any:
        config = impl.mod.AssumeRoleConfig(RoleArn=ROLE, RoleSessionName="diff-config")
        return shape(impl.session("sts", assume_role_kwargs=config, sts_client_kwargs={"endpoint_url": endpoint},
                                  **KEYS).refreshable_credentials())  # fmt: skip

    assert_same(scenario)


@pytest.mark.parametrize("value", cases({"list": [ROLE], "string": ROLE, "none": None}))
def test_assume_role_kwargs_of_the_wrong_type(endpoint: str, value: Any) -> None:
    assert_same(lambda impl: impl.session("sts", assume_role_kwargs=value, **KEYS))


@pytest.mark.parametrize("value", cases({"list": ["sts"], "string": "sts", "int": 3}))
def test_sts_client_kwargs_of_the_wrong_type(endpoint: str, value: Any) -> None:
    assert_same(lambda impl: impl.session("sts", assume_role_kwargs={"RoleArn": ROLE}, sts_client_kwargs=value, **KEYS))


def test_get_identity(endpoint: str) -> None:
    def scenario(impl: Impl) -> Any:
        identity = sts(impl, endpoint).get_identity()
        return sorted(k for k in identity if k != "ResponseMetadata"), identity["Arn"].split(":")[4]

    assert_same(scenario)


def test_client_call_with_the_assumed_role(endpoint: str) -> None:
    def scenario(impl: Impl) -> Any:
        session = sts(impl, endpoint)
        identity = session.client("sts", endpoint_url=endpoint).get_caller_identity()
        return identity["Arn"].split(":")[5].split("/")[0]

    assert_same(scenario)


# -- sts_client_kwargs and botocore's Config -------------------------------------------------

CONFIGS = {
    "signature-v4": Config(signature_version="v4"),
    "region": Config(region_name="eu-west-1"),
    "retries-standard": Config(retries={"max_attempts": 2, "mode": "standard"}),
    "retries-legacy": Config(retries={"total_max_attempts": 1, "mode": "legacy"}),
    "timeouts": Config(connect_timeout=5, read_timeout=10),
    "user-agent-extra": Config(user_agent_extra="diff/1.0"),
    "user-agent-appid": Config(user_agent_appid="diffapp"),
    "pool": Config(max_pool_connections=3),
    "tcp-keepalive": Config(tcp_keepalive=True),
    "parameter-validation": Config(parameter_validation=True),
    "merged": Config(connect_timeout=5).merge(Config(retries={"max_attempts": 1})),
}


@pytest.mark.parametrize("config", cases(CONFIGS))
def test_client_config(endpoint: str, config: Config) -> None:
    assert_same(lambda impl: read(impl, endpoint, sts_client_kwargs={"endpoint_url": endpoint, "config": config}))


CLIENT_KWARGS = {
    "region": {"region_name": "eu-central-1"},
    "use-ssl-false": {"use_ssl": False},
    "verify-false": {"verify": False},
    "service-name-sts": {"service_name": "sts"},
    "api-version": {"api_version": "2011-06-15"},
    "client-keys": dict(KEYS),
    "unknown-key": {"bogus": 1},
}


@pytest.mark.parametrize("client", cases(CLIENT_KWARGS))
def test_sts_client_kwargs(endpoint: str, client: Dict[str, Any]) -> None:
    assert_same(lambda impl: read(impl, endpoint, sts_client_kwargs={"endpoint_url": endpoint, **client}))


def test_sts_client_config_object(endpoint: str) -> None:
    assert_same(lambda impl: read(impl, endpoint, sts_client_kwargs=impl.mod.STSClientConfig(endpoint_url=endpoint)))


# -- MFA ------------------------------------------------------------------------------------


class Locked(Exception):
    """A user's own exception class."""


MFA_CALLABLES = {
    "good": lambda: "654321",
    "good-with-kwargs": lambda device="x": "654321",
    "raises-user-class": lambda: (_ for _ in ()).throw(Locked("locked")),
    "raises-value-error": lambda: int("x"),
}


@pytest.mark.parametrize("provider", cases(MFA_CALLABLES))
def test_mfa_callable(endpoint: str, provider: Any) -> None:
    assert_same(lambda impl: read(impl, endpoint, {"SerialNumber": SERIAL}, mfa_token_provider=provider))


def test_mfa_callable_kwargs(endpoint: str) -> None:
    def scenario(impl: Impl) -> Any:
        seen: list = []

        def provider(**kwargs: Any) -> str:
            seen.append(kwargs)
            return "654321"

        creds = read(impl, endpoint, {"SerialNumber": SERIAL}, mfa_token_provider=provider,
                     mfa_token_provider_kwargs={"device": "yubikey"})  # fmt: skip
        return creds, seen

    assert_same(scenario)


def test_mfa_provider_without_serial(endpoint: str) -> None:
    assert_same(lambda impl: read(impl, endpoint, mfa_token_provider=lambda: "654321"))


def test_mfa_provider_of_the_wrong_type(endpoint: str) -> None:
    assert_same(lambda impl: read(impl, endpoint, {"SerialNumber": SERIAL}, mfa_token_provider=42))


MFA_KWARGS = {
    "none": {},
    "timeout": {"timeout": 20},
    "text-encoding": {"text": True, "encoding": "utf-8"},
    "start-new-session": {"start_new_session": True},
    "falsy-shell": {"shell": False},
    "check-capture": {"check": True, "capture_output": True},
    "env": {"env": {"PATH": "/usr/bin:/bin"}},
    # refused, BRSConfigurationError
    "shell": {"shell": True},
    "executable": {"executable": "/bin/sh"},
    "stdout": {"stdout": None},
    "stderr": {"stderr": None},
    "unknown": {"bogus": 1},
}


@pytest.mark.parametrize("kwargs", cases(MFA_KWARGS))
def test_mfa_command_kwargs(endpoint: str, tmp_path: Path, kwargs: Dict[str, Any]) -> None:
    command = script(tmp_path, "echo 'touch the key'; echo 654321")
    assert_same(lambda impl: read(impl, endpoint, {"SerialNumber": SERIAL}, mfa_token_provider=[command],
                                  mfa_token_provider_kwargs=kwargs))  # fmt: skip


MFA_COMMANDS = {
    "list": "LIST",
    "string": "STRING",
    "not-found": "/nonexistent/diff-mfa",
    "no-token": "echo no token here",
    "exit-1": "false",
    "bad-quoting": "echo 'unterminated",
}


@pytest.mark.parametrize("command", cases(MFA_COMMANDS))
def test_mfa_command(endpoint: str, tmp_path: Path, command: str) -> None:
    path = script(tmp_path, "echo 654321")
    provider: Any = {"LIST": [path], "STRING": path}.get(command, command)
    assert_same(lambda impl: read(impl, endpoint, {"SerialNumber": SERIAL}, mfa_token_provider=provider))


# -- errors of STS and of the connection -----------------------------------------------------

STS_ERRORS = {
    "access-denied": (403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole"),
    "validation": (400, "ValidationError", "1 validation error detected"),
    "region-disabled": (403, "RegionDisabledException", "STS is not activated in this region"),
    "expired-token": (400, "ExpiredTokenException", "The security token included in the request is expired"),
    "malformed-policy": (400, "MalformedPolicyDocument", "The policy is not valid"),
}


def client_error(exc: BaseException) -> Any:
    """What an ``except ClientError`` handler reads."""

    response = exc.response  # type: ignore[attr-defined]
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        exc.operation_name,  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("answer", cases(STS_ERRORS))
def test_sts_error_is_a_client_error(fault: FaultSTS, answer: Tuple[int, str, str]) -> None:
    from botocore.exceptions import ClientError

    fault.answer = answer
    brs, ours = assert_same(lambda impl: read(impl, fault.url))
    assert isinstance(brs.exc, ClientError) and isinstance(ours.exc, GOBRS.exceptions.BRSRequestError)
    assert client_error(ours.exc) == client_error(brs.exc)


def test_refused_connection(fault: FaultSTS) -> None:
    from botocore.exceptions import EndpointConnectionError

    url = closed_port_url()
    brs, ours = assert_same(lambda impl: read(impl, url))
    assert isinstance(brs.exc, EndpointConnectionError) and isinstance(ours.exc, GOBRS.exceptions.BRSConnectionError)
    assert ours.exc.kwargs["endpoint_url"].startswith(url)  # type: ignore[union-attr]


def test_read_timeout(fault: FaultSTS) -> None:
    from botocore.exceptions import ReadTimeoutError

    fault.hold = True
    config = Config(read_timeout=1, retries={"total_max_attempts": 1})
    brs, ours = assert_same(lambda impl: read(impl, fault.url, sts_client_kwargs={"endpoint_url": fault.url,
                                                                                  "config": config}))  # fmt: skip
    assert isinstance(brs.exc, ReadTimeoutError) and isinstance(ours.exc, GOBRS.exceptions.BRSConnectionError)


def test_error_then_success_on_the_next_read(endpoint: str, fault: FaultSTS) -> None:
    # an error at a read leaves the session usable: the next read asks again
    def scenario(impl: Impl) -> Any:
        session = sts(impl, fault.url)
        first = run(lambda _: session.refreshable_credentials(), impl)
        second = run(lambda _: session.refreshable_credentials(), impl)
        return type(first.exc).__mro__[1:3] == type(second.exc).__mro__[1:3]

    assert_same(scenario)
