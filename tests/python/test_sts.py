"""The sts method against a moto server: AssumeRole and GetCallerIdentity
made by the Go core, S3 calls signed with the assumed credentials, sharing
between sessions, MFA, source credentials and parameter checks."""

from __future__ import annotations

import functools
import json
import stat
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, List

import boto3
import botocore.session
import pytest
from botocore.config import Config

from gobrs import (
    AssumeRoleConfig,
    BRSConfigurationError,
    BRSConnectionError,
    BRSCredentialError,
    BRSValidationError,
    BRSWarning,
    RefreshableSession,
    STSClientConfig,
    STSRefreshableSession,
)
from gobrs.testing import free_port
from helpers import KEYS, REGION, ROLE, record_access_keys, run_threads, sts_session

SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def name() -> str:
    """A role session name of its own, so tests never share credentials."""

    return "py-" + uuid.uuid4().hex[:12]


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / f"token-{uuid.uuid4().hex[:8]}.sh"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_assume_role_whoami_and_s3(endpoint: str) -> None:
    rsn = name()
    session = sts_session(endpoint, {"RoleSessionName": rsn, "DurationSeconds": 1800})
    assert isinstance(session, boto3.session.Session)
    creds = session.credentials
    assert creds["access_key"] not in ("", "testing") and creds["secret_key"] and creds["token"]
    assert creds["expiry_time"].endswith("Z") or "+00:00" in creds["expiry_time"]
    identity = session.whoami()
    assert identity["Arn"] == f"arn:aws:sts::123456789012:assumed-role/demo/{rsn}"
    assert identity["Account"] == "123456789012"
    assert identity["UserId"].endswith(":" + rsn)
    assert session.get_identity()["Arn"] == identity["Arn"]

    s3 = session.client("s3", endpoint_url=endpoint)
    signed = record_access_keys(s3)
    bucket = "gobrs-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    assert signed and set(signed) == {creds["access_key"]}
    session.close()


def test_factory_and_defaults(endpoint: str) -> None:
    session = RefreshableSession(
        method="sts",
        assume_role_kwargs=AssumeRoleConfig(RoleArn=ROLE),
        sts_client_kwargs=STSClientConfig(endpoint_url=endpoint),
        region_name=REGION,
        **KEYS,
    )
    assert type(session) is STSRefreshableSession
    assert session.assume_role_kwargs.RoleSessionName == "boto3-refresh-session"
    assert session.sts_client_kwargs.service_name == "sts"
    assert session.refresh_method == "sts-assume-role"
    assert session.get_credentials().method == "sts-assume-role"
    assert session.whoami()["Arn"].endswith("assumed-role/demo/boto3-refresh-session")
    assert "sts" in RefreshableSession.get_available_methods()


def test_no_boto3_sts_client_is_built(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    made: List[str] = []
    original = botocore.session.Session.create_client

    def spy(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        made.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", spy)
    session = sts_session(endpoint, {"RoleSessionName": name()}, defer_refresh=False)
    session.whoami()
    session.get_credentials().refresh()
    assert "sts" not in made


def test_sessions_share_one_assume_role(endpoint: str) -> None:
    rsn = name()
    sessions = [sts_session(endpoint, {"RoleSessionName": rsn}) for _ in range(8)]
    keys = run_threads(len(sessions), lambda i: sessions[i].credentials["access_key"])
    # moto issues a new access key per AssumeRole call: one key, one call
    assert len(set(keys)) == 1 and keys[0]
    other = sts_session(endpoint, {"RoleSessionName": name()})
    assert other.credentials["access_key"] != keys[0]
    # a forced refresh makes a new call, which the sharing then serves
    fresh = sessions[0].get_credentials().refresh().access_key
    assert fresh != keys[0]
    assert sts_session(endpoint, {"RoleSessionName": rsn}).credentials["access_key"] == fresh


def test_mfa_callable_called_at_every_refresh(endpoint: str) -> None:
    calls: List[Dict[str, Any]] = []

    def provider(**kwargs: Any) -> str:
        calls.append(kwargs)
        return "123456"

    rsn = name()
    session = sts_session(
        endpoint,
        {"RoleSessionName": rsn, "SerialNumber": SERIAL},
        mfa_token_provider=provider,
        mfa_token_provider_kwargs={"device": "yubikey"},
    )
    first = session.credentials["access_key"]
    second = session.get_credentials().refresh().access_key
    assert calls == [{"device": "yubikey"}, {"device": "yubikey"}]
    assert first != second
    # MFA sessions share nothing: a twin session makes its own call
    twin = sts_session(endpoint, {"RoleSessionName": rsn, "SerialNumber": SERIAL}, mfa_token_provider=provider)
    assert twin.credentials["access_key"] not in (first, second)
    assert len(calls) == 3


def test_mfa_callable_errors(endpoint: str) -> None:
    def broken() -> str:
        raise RuntimeError("the authenticator is locked")

    session = sts_session(endpoint, {"SerialNumber": SERIAL, "RoleSessionName": name()}, mfa_token_provider=broken)
    with pytest.raises(RuntimeError, match="the authenticator is locked"):
        session.credentials

    session = sts_session(endpoint, {"SerialNumber": SERIAL}, mfa_token_provider=lambda: "12345x")
    with pytest.raises(BRSValidationError) as info2:
        session.credentials
    assert "12345x" not in str(info2.value)


@pytest.mark.parametrize("as_list", [True, False])
def test_mfa_command(endpoint: str, tmp_path: Path, as_list: bool) -> None:
    path = script(tmp_path, 'echo "touch the key"; echo "$PREFIX"654321')
    command: Any = [path] if as_list else f"'{path}'"
    session = sts_session(
        endpoint,
        {"SerialNumber": SERIAL, "RoleSessionName": name()},
        mfa_token_provider=command,
        mfa_token_provider_kwargs={"timeout": 10, "env": {"PREFIX": ""}, "cwd": tmp_path},
    )
    assert session.whoami()["Arn"].startswith("arn:aws:sts::123456789012:assumed-role/demo/py-")


def test_mfa_command_failures(endpoint: str, tmp_path: Path) -> None:
    silent = script(tmp_path, "echo nothing here; echo 777777 >&2")
    session = sts_session(endpoint, {"SerialNumber": SERIAL}, mfa_token_provider=[silent])
    with pytest.raises(BRSConfigurationError) as info:
        session.credentials
    assert info.value.param == "mfa_token_provider" and "777777" not in str(info.value)

    slow = script(tmp_path, "sleep 30 & wait")
    session = sts_session(
        endpoint, {"SerialNumber": SERIAL}, mfa_token_provider=[slow], mfa_token_provider_kwargs={"timeout": 0.3}
    )
    with pytest.raises(BRSConfigurationError, match="timed out"):
        session.credentials


@pytest.mark.parametrize("key", ["shell", "executable", "preexec_fn", "stdout", "stderr", "bogus"])
def test_mfa_command_refused_kwargs(endpoint: str, key: str) -> None:
    # boto3-refresh-session's class for them: BRSConfigurationError
    with pytest.raises(BRSConfigurationError) as info:
        sts_session(endpoint, {"SerialNumber": SERIAL}, mfa_token_provider="ykman oath code",
                    mfa_token_provider_kwargs={key: True})  # fmt: skip
    assert info.value.param == f"mfa_token_provider_kwargs.{key}"


def test_mfa_static_token_code_is_read_at_each_refresh(endpoint: str) -> None:
    config = AssumeRoleConfig(RoleArn=ROLE, RoleSessionName=name(), SerialNumber=SERIAL, TokenCode="111111")
    session = STSRefreshableSession(config, sts_client_kwargs={"endpoint_url": endpoint}, region_name=REGION, **KEYS)
    assert session.credentials["access_key"]
    from gobrs.sts import _mfa_from_config

    reader = functools.partial(_mfa_from_config, session.assume_role_kwargs)
    assert reader() == "111111"
    session.assume_role_kwargs.TokenCode = "222222"
    assert reader() == "222222"
    assert session.get_credentials().refresh().access_key


def test_mfa_rules(endpoint: str) -> None:
    with pytest.warns(BRSWarning, match="TokenCode"):
        sts_session(endpoint, {"SerialNumber": SERIAL, "TokenCode": "123456"}, mfa_token_provider=lambda: "654321")
    with pytest.raises(BRSConfigurationError) as info:
        sts_session(endpoint, {}, mfa_token_provider=lambda: "123456")
    assert info.value.param == "SerialNumber"
    with pytest.raises(BRSConfigurationError):
        sts_session(endpoint, {"SerialNumber": SERIAL})
    with pytest.raises(BRSConfigurationError):
        sts_session(endpoint, {"TokenCode": "123456"})
    with pytest.raises(BRSValidationError) as info2:
        sts_session(endpoint, {}, mfa_token_provider=42)
    assert info2.value.param == "mfa_token_provider"


@pytest.mark.parametrize(
    ("assume", "client", "param"),
    [
        ({"DurationSeconds": 60}, None, "assume_role_kwargs.DurationSeconds"),
        ({"RoleSessionName": "has space"}, None, "assume_role_kwargs.RoleSessionName"),
        ({"Tags": [{"Key": "k", "Value": "v"}] * 51}, None, "assume_role_kwargs.Tags"),
        ({"ExternalId": "x"}, None, "assume_role_kwargs.ExternalId"),
        ({"PolicyArns": [{"Arn": ROLE}]}, None, "assume_role_kwargs.PolicyArns[0].Arn"),
        ({"Bogus": 1}, None, "assume_role_kwargs.Bogus"),
        ({"RoleArn": "arn:short"}, None, "RoleArn"),
        ({"TokenCode": "12", "SerialNumber": SERIAL}, None, "TokenCode"),
        ({}, {"region_name": "not a region"}, "sts_client_kwargs.region_name"),
        ({}, {"config": {"retries": {"mode": "fast"}}}, "sts_client_kwargs.config.retries.mode"),
        ({}, {"verify": 3}, "sts_client_kwargs.verify"),
        ({}, {"profile_name": "x"}, "sts_client_kwargs.profile_name"),
    ],
)
def test_bad_parameters(endpoint: str, assume: Dict[str, Any], client: Any, param: str) -> None:
    kwargs: Dict[str, Any] = {}
    if client is not None:
        kwargs["sts_client_kwargs"] = {"endpoint_url": endpoint, **client}
    with pytest.raises(BRSValidationError) as info:
        sts_session(endpoint, assume, **kwargs)
    assert info.value.param == param


def test_bad_parameter_types() -> None:
    with pytest.raises(BRSValidationError) as info:
        STSRefreshableSession(assume_role_kwargs="arn")  # type: ignore[arg-type]
    assert info.value.param == "assume_role_kwargs"
    with pytest.raises(BRSValidationError) as info:
        STSRefreshableSession(assume_role_kwargs={"RoleArn": ROLE}, sts_client_kwargs=[1])  # type: ignore[arg-type]
    assert info.value.param == "sts_client_kwargs"
    with pytest.raises(BRSValidationError) as info:
        STSRefreshableSession(assume_role_kwargs={})
    assert info.value.param == "RoleArn"


def test_config_classes() -> None:
    config = AssumeRoleConfig(RoleArn=ROLE, DurationSeconds=900)
    assert config.RoleArn == config["RoleArn"] == ROLE
    assert config.ExternalId is None and "ExternalId" not in config
    config.ExternalId = "ext-1"
    assert config["ExternalId"] == "ext-1"
    config.ExternalId = None
    assert "ExternalId" not in config
    with pytest.raises(AttributeError):
        config.NotAParameter  # noqa: B018
    with pytest.raises(BRSValidationError):
        config["NotAParameter"] = 1
    with pytest.raises(BRSValidationError):
        config.TokenCode = "abc"
    with pytest.warns(BRSWarning):
        client = STSClientConfig(service_name="s3", aws_secret_access_key="do-not-show-me")
    assert client.service_name == "sts"
    assert "do-not-show-me" not in repr(client)


def test_source_credentials_from_a_refreshable_profile(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile with credential_process: boto3 resolves it, and the Go core
    asks again at every refresh, so the source stays fresh."""

    counter = tmp_path / "count"
    process = tmp_path / "creds.py"
    process.write_text(
        "import datetime, json, pathlib, sys\n"
        f"p = pathlib.Path({str(counter)!r})\n"
        "n = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\n"
        "exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': f'AKIDPROCESS{n:05d}', 'SecretAccessKey': 's',"
        " 'SessionToken': 't', 'Expiration': exp.isoformat()}))\n"
    )
    config = tmp_path / "config"
    config.write_text(f"[profile gobrs-src]\ncredential_process = {sys.executable} {process}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    session = STSRefreshableSession(
        assume_role_kwargs={"RoleArn": ROLE, "RoleSessionName": name()},
        sts_client_kwargs={"endpoint_url": endpoint},
        profile_name="gobrs-src",
        region_name=REGION,
    )
    assert not counter.exists()  # nothing resolved at construction
    assert session.whoami()["Arn"].startswith("arn:aws:sts::123456789012:assumed-role/demo/")
    first = int(counter.read_text())
    session.get_credentials().refresh()
    # the source credentials live 5 minutes: botocore renews them when asked
    assert int(counter.read_text()) > first


def test_connection_refused(endpoint: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    session = sts_session(
        dead, {"RoleSessionName": name()},
        sts_client_kwargs={"endpoint_url": dead,
                           "config": Config(retries={"total_max_attempts": 1}, connect_timeout=2)},
    )  # fmt: skip
    with pytest.raises(BRSConnectionError):
        session.credentials


def test_no_source_credentials(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    session = STSRefreshableSession(
        assume_role_kwargs={"RoleArn": ROLE, "RoleSessionName": name()},
        sts_client_kwargs={"endpoint_url": endpoint},
        region_name=REGION,
    )
    with pytest.raises(BRSCredentialError) as info:
        session.credentials
    assert info.value.param == "source_credentials"


def test_secrets_never_shown(endpoint: str) -> None:
    session = sts_session(endpoint, {"RoleSessionName": name()}, aws_secret_access_key="src-secret-do-not-show")
    creds = session.credentials
    text = repr(session) + str(session) + repr(session.get_credentials())
    for secret in (creds["secret_key"], creds["token"], "src-secret-do-not-show"):
        assert secret not in text
    assert json.dumps(session.whoami())  # plain JSON-able identity


@pytest.mark.parametrize("mfa", ["callable", "static"])
def test_session_is_collected(endpoint: str, mfa: str) -> None:
    """The callback holds no reference to the session: dropping it frees it
    (and closes the Go session)."""

    import gc
    import weakref

    extra: Dict[str, Any] = {"mfa_token_provider": lambda: "123456"} if mfa == "callable" else {}
    assume = {"RoleSessionName": name(), "SerialNumber": SERIAL}
    if mfa == "static":
        assume["TokenCode"] = "123456"
    session = sts_session(endpoint, assume, **extra)
    session.credentials
    refs = [
        weakref.ref(session),
        weakref.ref(session.get_credentials()),
        weakref.ref(session.get_credentials()._native),
    ]
    del session
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_mfa_command_accepts_brs_kwargs(endpoint: str, tmp_path: Path) -> None:
    """The subprocess.run arguments brs accepts are accepted; a falsy shell,
    executable or preexec_fn is no shell."""

    path = script(tmp_path, "echo 246810")
    kwargs = {"text": True, "encoding": "utf-8", "start_new_session": True, "shell": False, "executable": None,
              "preexec_fn": None, "check": False, "capture_output": True, "close_fds": True, "timeout": 20}  # fmt: skip
    session = sts_session(endpoint, {"SerialNumber": SERIAL}, mfa_token_provider=[path],
                          mfa_token_provider_kwargs=kwargs)  # fmt: skip
    assert session.credentials["access_key"]


def test_client_config_options(endpoint: str) -> None:
    """Any valid botocore Config is accepted: the options the Go client
    cannot honour are named in one warning."""

    config = Config(signature_version="v4", user_agent_extra="app/1", max_pool_connections=4, region_name=REGION,
                    tcp_keepalive=True, parameter_validation=True)  # fmt: skip
    with pytest.warns(BRSWarning) as record:
        session = sts_session(endpoint, {}, sts_client_kwargs={"endpoint_url": endpoint, "config": config})
    texts = [str(w.message) for w in record if "Config options" in str(w.message)]
    assert len(texts) == 1 and "parameter_validation, tcp_keepalive" in texts[0]
    assert session.credentials["access_key"]
