"""Secret hygiene across every method, success and failure paths: with every
logger at DEBUG (botocore, boto3, urllib3 and gobrs, which carries the Go
core's lines), warnings recorded and stdout/stderr captured, no secret key,
session token, MFA code or private key shows up in a log record, a warning,
an exception's text or repr, or the repr of a session, its credentials or
its configuration objects.

One exception, botocore's and not gobrs's: at DEBUG botocore logs the
requests it signs (``botocore.endpoint`` "Sending http request", and the
SigV4 canonical request of ``botocore.auth``), and a signed request carries
the session token in its X-Amz-Security-Token header. Plain boto3 does the
same. Those records may hold a session token and nothing else secret; any
other record holding one fails the test.
"""

from __future__ import annotations

import logging
import re
import uuid
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

from gobrs import (
    BRSError,
    IOTX509RefreshableSession,
    RefreshableSession,
    STSRefreshableSession,
)
from test_iot import CA, THING, IoTServer, _kwargs
from test_reliability_faults import FakeSTS

pytestmark = pytest.mark.timeout(120)

#: botocore's wire-level records, which may carry a session token
WIRE_RECORDS = {("botocore.endpoint", "Sending http request"), ("botocore.auth", "CanonicalRequest")}
ROLE = "arn:aws:iam::123456789012:role/demo"


class Secrets:
    """What a test hands out and what it saw, checked at the end."""

    def __init__(self) -> None:
        self.tokens: List[str] = []  # session tokens
        self.others: List[str] = []  # secret keys, MFA codes, private key lines
        self.texts: List[Tuple[str, str]] = []  # (where, text) to check

    def token(self, *values: str) -> None:
        self.tokens += [v for v in values if v]

    def secret(self, *values: str) -> None:
        self.others += [v for v in values if v]

    def see(self, where: str, obj: Any) -> None:
        """Record the repr and str of obj (and of an exception's own chain
        of BRS errors)."""

        self.texts.append((where, repr(obj)))
        self.texts.append((where, str(obj)))
        if isinstance(obj, BaseException):
            cause = obj.__cause__ or obj.__context__
            if isinstance(cause, BRSError):
                self.see(where + " (cause)", cause)

    def expect_error(self, where: str, call: Callable[[], Any]) -> BaseException:
        try:
            call()
        except BaseException as exc:
            self.see(where, exc)
            return exc
        pytest.fail(f"{where}: no error")


def contains(text: str, secret: str) -> bool:
    if secret.isdigit():  # an MFA code: as a number of its own
        return re.search(rf"(?<!\d){secret}(?!\d)", text) is not None
    return secret in text


@pytest.fixture
def secrets(capfd: pytest.CaptureFixture[str]) -> Iterator[Secrets]:
    records: List[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    root = logging.getLogger()
    names = ["", "gobrs", "botocore", "boto3", "urllib3", *logging.root.manager.loggerDict]
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(handler)
    s = Secrets()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield s
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    out, err = capfd.readouterr()
    texts = list(s.texts) + [("stdout", out), ("stderr", err)]
    texts += [("warning", str(w.message)) for w in caught]
    for r in records:
        text = r.getMessage() + (r.exc_text or "")
        if any(r.name == name and text.startswith(prefix) for name, prefix in WIRE_RECORDS):
            texts.append((f"log {r.name} (wire)", text))  # checked for the others only
            for secret in s.others:
                assert not contains(text, secret), f"{r.name} logged a secret"
            continue
        texts.append((f"log {r.name}", text))
    assert records, "nothing was logged: the capture is broken"
    assert any(r.name == "gobrs" for r in records), "no line of the Go core reached the gobrs logger"
    for where, text in texts:
        if where.endswith("(wire)"):
            continue
        for secret in s.tokens + s.others:
            assert not contains(text, secret), f"a secret ({secret[:6]}...) in {where}: {text[:300]}"


# -- custom -------------------------------------------------------------------------------


def test_custom(secrets: Secrets, endpoint: str) -> None:
    secret = "CUSTOMSECRET" + uuid.uuid4().hex
    token = "CUSTOMTOKEN" + uuid.uuid4().hex
    secrets.secret(secret)
    secrets.token(token)

    def creds(**over: Any) -> Dict[str, Any]:
        base = {"access_key": "ASIAGOBRSSECRETS0001", "secret_key": secret, "token": token,
                "expiry_time": datetime.now(timezone.utc) + timedelta(hours=1)}  # fmt: skip
        base.update(over)
        return base

    # success: reads, a refresh, clients, identity, reprs
    s = RefreshableSession(method="custom", custom_credentials_method=creds, region_name="us-east-1")
    assert s.credentials["secret_key"] == secret
    s.get_credentials().refresh()
    s.client("sts", endpoint_url=endpoint).get_caller_identity()
    s.client("s3", endpoint_url=endpoint).list_buckets()
    for obj in (s, s.get_credentials(), s.whoami(), s.cache):
        secrets.see("custom success", obj)

    # failures: the getter raises, or answers with unusable values
    def raises() -> Dict[str, Any]:
        creds()  # it had the secrets in hand
        raise RuntimeError("vault unreachable")

    for getter in (
        raises,
        lambda: creds(expiry_time="not a time"),
        lambda: creds(token=token + "\n"),
        lambda: creds(secret_key=secret + "\x00"),
        lambda: creds(secret_key=b"BYTES" + secret.encode()),
        lambda: creds(expiry_time=datetime.now(timezone.utc) - timedelta(minutes=1)),
        lambda: creds(token=token + "\ud800"),
        lambda: creds(access_key=""),
    ):
        bad = RefreshableSession(method="custom", custom_credentials_method=getter, region_name="us-east-1")
        secrets.expect_error("custom failure", lambda bad=bad: bad.credentials)
        secrets.expect_error(
            "custom failure, client",
            lambda bad=bad: bad.client("sts", endpoint_url=endpoint).get_caller_identity(),
        )
        secrets.see("custom failure", bad)
        secrets.see("custom failure", bad.get_credentials())
    secrets.expect_error(
        "custom eager failure",
        lambda: RefreshableSession(
            method="custom", custom_credentials_method=lambda: creds(expiry_time="x"), defer_refresh=False
        ),
    )
    s.close()
    secrets.expect_error("custom closed", lambda: s.credentials)
    secrets.see("custom closed", s)


# -- sts ------------------------------------------------------------------------------------


def test_sts(secrets: Secrets, endpoint: str) -> None:
    source = "STSSOURCESECRET" + uuid.uuid4().hex
    source_token = "STSSOURCETOKEN" + uuid.uuid4().hex
    code, static_code, bad_code = "975318", "864209", "12x456"
    secrets.secret(source, code, static_code, bad_code)
    secrets.token(source_token)
    keys = {"aws_access_key_id": "AKIDSECRETSTEST", "aws_secret_access_key": source,
            "aws_session_token": source_token, "region_name": "us-east-1"}  # fmt: skip

    def session(assume: Dict[str, Any], url: str = endpoint, **kwargs: Any) -> STSRefreshableSession:
        return STSRefreshableSession(
            assume_role_kwargs={"RoleArn": ROLE, "RoleSessionName": "sec-" + uuid.uuid4().hex[:8], **assume},
            sts_client_kwargs={"endpoint_url": url, "aws_secret_access_key": source,
                               "aws_access_key_id": "AKIDSECRETSTEST", "aws_session_token": source_token,
                               "config": {"read_timeout": 1, "retries": {"total_max_attempts": 1}}},
            **{**keys, **kwargs},
        )  # fmt: skip

    # success, with an MFA code from a callable and a static one
    for s in (
        session({}),
        session({"SerialNumber": "arn:aws:iam::123456789012:mfa/alice"}, mfa_token_provider=lambda: code),
        session({"SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": static_code}),
    ):
        creds = s.credentials
        secrets.secret(creds["secret_key"])
        secrets.token(creds["token"])
        s.client("s3", endpoint_url=endpoint).list_buckets()
        s.get_credentials().refresh()
        secrets.token(s.credentials["token"])
        secrets.secret(s.credentials["secret_key"])
        for obj in (s, s.get_credentials(), s.whoami(), s.assume_role_kwargs, s.sts_client_kwargs):
            secrets.see("sts success", obj)
        s.close()

    # failures: the MFA provider raises or answers garbage, the endpoint
    # answers 503 or does not answer at all
    def mfa_raises() -> str:
        raise RuntimeError("token device unplugged")

    for s in (
        session({"SerialNumber": "arn:aws:iam::123456789012:mfa/alice"}, mfa_token_provider=mfa_raises),
        session({"SerialNumber": "arn:aws:iam::123456789012:mfa/alice"}, mfa_token_provider=lambda: bad_code),
    ):
        secrets.expect_error("sts mfa failure", lambda s=s: s.credentials)
        secrets.see("sts mfa failure", s)
    secrets.expect_error(
        "sts bad static code", lambda: session({"SerialNumber": "arn:aws:iam::1:mfa/a", "TokenCode": bad_code})
    )
    fake = FakeSTS()
    try:
        for mode in ("503", "malformed", "reset"):
            fake.set(mode)
            s = session({}, url=fake.url)
            secrets.expect_error(f"sts {mode}", lambda s=s: s.credentials)
            secrets.expect_error(
                f"sts {mode}, client",
                lambda s=s: s.client("sts", endpoint_url=fake.url).get_caller_identity(),
            )
            secrets.see(f"sts {mode}", s)
        fake.set("refuse")
        s = session({}, url=fake.url)
        secrets.expect_error("sts refused", lambda: s.credentials)
    finally:
        fake.close()


# -- iot ------------------------------------------------------------------------------------


def test_iot(secrets: Secrets, tmp_path: Path) -> None:
    iot = IoTServer(tmp_path)
    try:
        key_lines = [line for line in iot.key.decode().splitlines() if not line.startswith("-----")]
        secrets.secret(iot.secret_marker, *key_lines)
        secrets.token(iot.token_marker)
        # success, PEM in memory and as files
        (tmp_path / "key.pem").write_bytes(iot.key)
        for kwargs in (_kwargs(iot), _kwargs(iot, private_key=str(tmp_path / "key.pem"))):
            with IOTX509RefreshableSession(**kwargs) as s:
                assert s.credentials["secret_key"].startswith(iot.secret_marker)
                s.get_credentials().refresh()
                for obj in (s, s.get_credentials(), vars(s)):
                    secrets.see("iot success", obj)
        # failures: refused by the endpoint, an answer without credentials,
        # the key of another certificate, a key that is not a key
        with IOTX509RefreshableSession(**_kwargs(iot, thing_name="thing-2")) as s:
            secrets.expect_error("iot 403", lambda: s.credentials)
        iot.answer = (500, b'{"credentials":{"secretAccessKey":"' + iot.secret_marker.encode() + b'"}}')
        with IOTX509RefreshableSession(**_kwargs(iot)) as s:
            secrets.expect_error("iot 500 with credentials in the body", lambda: s.credentials)
        iot.answer = (200, b'{"credentials":{"secretAccessKey":"' + iot.secret_marker.encode() + b'"}}')
        with IOTX509RefreshableSession(**_kwargs(iot)) as s:
            secrets.expect_error("iot incomplete answer", lambda: s.credentials)
        iot.answer = None
        _, other_key = CA("other").issue(THING)
        secrets.secret(*[line for line in other_key.decode().splitlines() if not line.startswith("-----")])
        secrets.expect_error(
            "iot key of another certificate", lambda: IOTX509RefreshableSession(**_kwargs(iot, private_key=other_key))
        )
        garbage = b"-----BEGIN PRIVATE KEY-----\n" + iot.secret_marker.encode() + b"\n-----END PRIVATE KEY-----\n"
        secrets.expect_error(
            "iot key that is not a key", lambda: IOTX509RefreshableSession(**_kwargs(iot, private_key=garbage))
        )
        secrets.expect_error(
            "iot certificate given as the key",
            lambda: IOTX509RefreshableSession(**_kwargs(iot, certificate=iot.key, private_key=iot.key)),
        )
    finally:
        iot.stop()
    with IOTX509RefreshableSession(**_kwargs(iot, timeout=2)) as s:
        secrets.expect_error("iot nothing listening", lambda: s.credentials)
