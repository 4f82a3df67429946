"""The ``gobrs`` command (gobrs.cli): ``serve``, ``exec`` and
``credential-process`` against the local moto STS server, as subprocesses.

Readiness is the two lines ``serve`` prints once it listens (never a
sleep); the server is stopped with a signal and must exit 0 and remove its
files. Security rules of the server itself are tested in Go
(core/credserver/http_test.go) and C (tests/c/test_serve.c); here the
command's own behaviour: its output, exit statuses, signals, config files
and logs.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from gobrs.testing import MotoServer

ROLE = "arn:aws:iam::123456789012:role/demo"
GOBRS = [sys.executable, "-m", "gobrs"]
URL_VAR = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_VAR = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"


def sts_config(endpoint: str, **extra: Any) -> Dict[str, Any]:
    config: Dict[str, Any] = {
        "method": "sts",
        "assume_role_kwargs": {"RoleArn": ROLE, "RoleSessionName": "gobrs-serve-test"},
        "sts_client_kwargs": {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        },
    }
    config.update(extra)
    return config


def to_toml(config: Dict[str, Any]) -> str:
    """A TOML rendering of a config of strings, numbers and flat tables."""

    top = [f"{k} = {json.dumps(v)}" for k, v in config.items() if not isinstance(v, dict)]
    tables = [
        f"[{k}]\n" + "\n".join(f"{kk} = {json.dumps(vv)}" for kk, vv in v.items())
        for k, v in config.items()
        if isinstance(v, dict)
    ]
    return "\n".join(top) + "\n\n" + "\n\n".join(tables) + "\n"


@pytest.fixture
def sts_json(tmp_path: Path, moto: MotoServer) -> Path:
    path = tmp_path / "sts.json"
    path.write_text(json.dumps(sts_config(moto.endpoint_url)))
    return path


def http_get(url: str, token: Optional[str]) -> Tuple[int, Dict[str, Any], str]:
    """GET url (no proxy); returns status, the JSON body, the content type."""

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    headers = {"Authorization": token} if token is not None else {}
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=60) as resp:
            return resp.status, json.loads(resp.read()), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers.get("Content-Type", "")


class Served:
    """A ``gobrs serve`` subprocess, ready once it printed its two lines."""

    def __init__(self, args: List[str], tmp_path: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.stderr_path = tmp_path / f"serve-{len(list(tmp_path.iterdir()))}.err"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(GOBRS + args, stdout=subprocess.PIPE, stderr=self._stderr, env=env, text=True)
        assert self.proc.stdout is not None
        lines = [self.proc.stdout.readline() for _ in range(2)]
        if not all(lines):
            self.proc.wait()
            self._stderr.close()
            raise AssertionError(f"gobrs serve exited {self.proc.returncode}: {self.stderr_path.read_text()}")
        self.lines = lines
        self.env = dict(line.rstrip("\n").split("=", 1) for line in lines)
        self.url = self.env[URL_VAR]
        self.token_file = self.env[TOKEN_VAR]
        self.token = Path(self.token_file).read_text()

    def stop(self, sig: int = signal.SIGTERM) -> Tuple[int, str]:
        """Signal the server; return its exit status and stderr."""

        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=60)
        assert self.proc.stdout is not None
        rest = self.proc.stdout.read()
        self.proc.stdout.close()
        self._stderr.close()
        assert rest == "", "serve printed more than its two lines"
        return rc, self.stderr_path.read_text()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: List[Served] = []

    def start(*args: str, env: Optional[Dict[str, str]] = None) -> Served:
        s = Served(list(args), tmp_path, env)
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def run(*args: str, env: Optional[Dict[str, str]] = None, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(GOBRS + list(args), capture_output=True, text=True, env=env, timeout=timeout)


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_serve_sts(fmt: str, tmp_path: Path, moto: MotoServer, serve: Any) -> None:
    config = tmp_path / f"sts.{fmt}"
    data = sts_config(moto.endpoint_url)
    config.write_text(json.dumps(data) if fmt == "json" else to_toml(data))
    s = serve("-v", "serve", str(config))
    assert [line.split("=", 1)[0] for line in s.lines] == [URL_VAR, TOKEN_VAR]
    assert s.url.startswith("http://127.0.0.1:") and s.url.endswith("/credentials")
    assert os.path.isabs(s.token_file) and len(s.token) == 64
    assert stat.S_IMODE(os.stat(s.token_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(s.token_file)).st_mode) == 0o700

    status, body, ctype = http_get(s.url, s.token)
    assert status == 200 and ctype == "application/json"
    assert sorted(body) == ["AccessKeyId", "Expiration", "SecretAccessKey", "Token"]
    assert body["Expiration"].endswith("Z")
    status2, body2, _ = http_get(s.url, s.token)
    assert status2 == 200 and body2["AccessKeyId"] == body["AccessKeyId"]  # one AssumeRole for both
    for token in (None, "", "0" * 64, s.token[:-1]):
        status, refused, _ = http_get(s.url, token)
        assert status in (401, 403) and set(refused) == {"code", "message"}
        assert body["SecretAccessKey"] not in json.dumps(refused)
    status, refused, _ = http_get(s.url.replace("/credentials", "/other"), s.token)
    assert status == 404

    rc, stderr = s.stop()
    assert rc == 0
    assert not os.path.exists(s.token_file) and not os.path.exists(os.path.dirname(s.token_file))
    # -v logged every request, and no secret
    assert "status=200" in stderr and "status=401" in stderr and "status=403" in stderr
    for secret in (body["SecretAccessKey"], body["Token"], s.token, "testing"):
        assert secret not in stderr


def test_serve_env_file_and_options(tmp_path: Path, sts_json: Path, serve: Any) -> None:
    env_file, token_file = tmp_path / "run" / "env", tmp_path / "run" / "token"
    env_file.parent.mkdir()
    s = serve("serve", str(sts_json), "--env-file", str(env_file), "--token-file", str(token_file), "--path", "/x/y")
    assert env_file.read_text() == "".join(s.lines)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert s.token_file == str(token_file) and s.url.endswith("/x/y")
    assert http_get(s.url, s.token)[0] == 200
    rc, _ = s.stop(signal.SIGINT)
    assert rc == 0
    assert list(env_file.parent.iterdir()) == []


def test_serve_ipv6(sts_json: Path, serve: Any) -> None:
    import socket

    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    s = serve("serve", str(sts_json), "--listen", "[::1]:0")
    assert s.url.startswith("http://[::1]:")
    assert http_get(s.url, s.token)[0] == 200
    assert s.stop()[0] == 0


@pytest.mark.parametrize("listen", ["0.0.0.0:0", "[::]:0", "192.0.2.7:8080", "example.com:0"])
def test_serve_refuses_non_loopback(listen: str, sts_json: Path) -> None:
    r = run("serve", str(sts_json), "--listen", listen, "--lazy")
    assert r.returncode == 2
    assert "listen" in r.stderr and "loopback" in r.stderr
    assert r.stdout == ""


def test_serve_custom_credential_process(tmp_path: Path, serve: Any) -> None:
    script = tmp_path / "creds.py"
    script.write_text(
        "import json, datetime\n"
        "exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': 'AKIDFROMPROCESS', 'SecretAccessKey': 'SECRETFROMPROCESS',\n"
        "                  'SessionToken': 'TOKENFROMPROCESS', 'Expiration': exp.strftime('%Y-%m-%dT%H:%M:%SZ')}))\n"
    )
    config = tmp_path / "custom.toml"
    config.write_text(f'method = "custom"\ncredential_process = {json.dumps([sys.executable, str(script)])}\n')
    s = serve("serve", "-v", str(config))  # -v after the command too
    status, body, _ = http_get(s.url, s.token)
    assert status == 200 and body["AccessKeyId"] == "AKIDFROMPROCESS" and body["Token"] == "TOKENFROMPROCESS"
    rc, stderr = s.stop()
    assert rc == 0 and "status=200" in stderr
    assert "SECRETFROMPROCESS" not in stderr and "TOKENFROMPROCESS" not in stderr


@pytest.mark.parametrize(
    "content, name, key",
    [
        ({"method": "sts", "assume_role_kwargs": {"RoleArn": ROLE}, "bogus": 1}, "c.json", "bogus"),
        (
            {"method": "sts", "assume_role_kwargs": {"RoleArn": ROLE, "DurationSeconds": "x"}},
            "c.json",
            "DurationSeconds",
        ),
        ({"method": "nope"}, "c.json", "method"),
        ({"method": "custom", "credential_process": 5}, "c.json", "credential_process"),
        ({"method": "custom"}, "c.json", "custom_credentials_method"),
        ('{"method": "sts", "method": "custom"}', "c.json", "method"),
        ("{not json", "c.json", "not valid JSON"),
        ("[1, 2]", "c.json", "must hold an object"),
        ('method = "sts"\n[assume_role_kwargs]\nRoleArn = 5\n', "c.toml", "RoleArn"),
        ("method = = 1", "c.toml", "not valid TOML"),
        ('method = "custom"\nadvisory_timeout = 1979-05-27T07:32:00Z\n', "c.toml", "advisory_timeout"),
        (None, "missing.json", "cannot read"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "exec", "credential-process"])
def test_bad_config_exits_2(content: Any, name: str, key: str, command: str, tmp_path: Path) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    args = [command, str(path)] + (["--", "true"] if command == "exec" else [])
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert key in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_runtime_failure_exits_1(tmp_path: Path) -> None:
    # nothing listens on the endpoint: the first fetch fails
    from gobrs.testing import free_port

    config = tmp_path / "c.json"
    data = sts_config(f"http://127.0.0.1:{free_port()}")
    data["sts_client_kwargs"]["config"] = {"retries": {"total_max_attempts": 1}}
    config.write_text(json.dumps(data))
    for args in (["serve", str(config)], ["credential-process", str(config)], ["exec", str(config), "--", "true"]):
        r = run(*args)
        assert r.returncode == 1, (args, r.stderr)
        assert "Traceback" not in r.stderr and r.stdout == ""


def test_exec(tmp_path: Path, sts_json: Path) -> None:
    probe = (
        "import json, os, sys, urllib.request\n"
        "url = os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']\n"
        "tf = os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE']\n"
        "o = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
        "r = o.open(urllib.request.Request(url, headers={'Authorization': open(tf).read()}))\n"
        "body = json.loads(r.read())\n"
        "print(json.dumps({'status': r.status, 'key': body['AccessKeyId'], 'tf': tf, 'argv': sys.argv[1:],\n"
        "  'region': os.environ.get('AWS_REGION'), 'ak': os.environ.get('AWS_ACCESS_KEY_ID'),\n"
        "  'profile': os.environ.get('AWS_PROFILE'), 'keep': os.environ.get('KEEP_ME'),\n"
        "  'sigint_ignored': __import__('signal').getsignal(2) == __import__('signal').SIG_IGN}))\n"
        "sys.exit(7)\n"
    )
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDSHADOW", AWS_PROFILE="shadow", KEEP_ME="yes")
    r = run("exec", str(sts_json), "--", sys.executable, "-c", probe, "a b", "--flag", env=env)
    assert r.returncode == 7, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == 200 and out["key"].startswith("ASIA")
    assert out["argv"] == ["a b", "--flag"]
    assert out["region"] == "us-east-1" and out["ak"] is None and out["profile"] is None and out["keep"] == "yes"
    assert out["sigint_ignored"] is False  # Ctrl-C still reaches the command
    assert r.stderr == ""  # exec says nothing unless asked (-v)
    assert not os.path.exists(out["tf"])  # removed once the command ended


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_exec_signal_status(sig: int, sts_json: Path) -> None:
    r = run("exec", str(sts_json), "--region", "eu-west-1", "--", sys.executable, "-c",
            f"import os; os.kill(os.getpid(), {int(sig)})")  # fmt: skip
    assert r.returncode == 128 + sig


def test_exec_not_found(sts_json: Path) -> None:
    r = run("exec", str(sts_json), "--", "gobrs-no-such-command")
    assert r.returncode == 127 and "not found" in r.stderr
    r = run("exec", str(sts_json))
    assert r.returncode == 2 and "command" in r.stderr


def test_exec_forwards_sigterm(tmp_path: Path, sts_json: Path) -> None:
    child = (
        "import os, signal, sys\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\n"
        "print(os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'], flush=True)\n"
        "signal.pause()\n"
    )
    proc = subprocess.Popen(
        GOBRS + ["exec", str(sts_json), "--", sys.executable, "-c", child],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    token_file = proc.stdout.readline().strip()
    assert os.path.exists(token_file)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 42, err
    assert not os.path.exists(token_file)


def _check_process_json(out: str) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads(out)
    assert sorted(data) == ["AccessKeyId", "Expiration", "SecretAccessKey", "SessionToken", "Version"]
    assert data["Version"] == 1 and data["Expiration"].endswith("Z")
    return data


def test_credential_process_from_config(sts_json: Path, tmp_path: Path) -> None:
    r = run("credential-process", str(sts_json))
    assert r.returncode == 0, r.stderr
    first = _check_process_json(r.stdout)
    toml = tmp_path / "c.toml"
    toml.write_text(to_toml(json.loads(sts_json.read_text())))
    r = run("credential-process", str(toml))
    assert r.returncode == 0, r.stderr
    assert _check_process_json(r.stdout)["AccessKeyId"] != first["AccessKeyId"]  # a session each


def test_credential_process_from_server(tmp_path: Path, sts_json: Path, serve: Any) -> None:
    env_file = tmp_path / "env"
    s = serve("serve", str(sts_json), "--env-file", str(env_file))
    clean = {k: v for k, v in os.environ.items() if k not in (URL_VAR, TOKEN_VAR)}
    keys = set()
    for args, env in (
        (["--env-file", str(env_file)], clean),
        ([], dict(clean, **s.env)),
        ([str(sts_json)], dict(clean, **s.env)),  # a running server wins over CONFIG
    ):
        r = run("credential-process", *args, env=env)
        assert r.returncode == 0, r.stderr
        keys.add(_check_process_json(r.stdout)["AccessKeyId"])
    _, body, _ = http_get(s.url, s.token)
    assert keys == {body["AccessKeyId"]}  # one AssumeRole for every invocation

    # a wrong token: the server's refusal, exit 1
    bad = tmp_path / "bad-token"
    bad.write_text("0" * 64)
    r = run("credential-process", env=dict(clean, **{URL_VAR: s.url, TOKEN_VAR: str(bad)}))
    assert r.returncode == 1 and "403" in r.stderr and r.stdout == ""
    assert s.stop()[0] == 0
    # the server is gone
    r = run("credential-process", env=dict(clean, **s.env))
    assert r.returncode == 1 and "token file" in r.stderr and "running" in r.stderr
    r = run("credential-process", "--env-file", str(env_file), env=clean)
    assert r.returncode == 2 and "env file" in r.stderr


def test_credential_process_usage() -> None:
    clean = {k: v for k, v in os.environ.items() if k not in (URL_VAR, TOKEN_VAR)}
    r = run("credential-process", env=clean)
    assert r.returncode == 2 and "CONFIG" in r.stderr


@pytest.mark.parametrize("command", [[], ["serve"], ["exec"], ["credential-process"]])
def test_help(command: List[str]) -> None:
    r = run(*command, "--help")
    assert r.returncode == 0
    assert "exit status" in r.stdout


def test_console_script() -> None:
    script = Path(sys.executable).with_name("gobrs")
    assert script.exists(), "pip install did not install the gobrs console script"
    r = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("gobrs ")
    r = subprocess.run([str(script)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "COMMAND" in r.stderr


def test_session_flags(tmp_path: Path, moto: MotoServer, sts_json: Path, serve: Any) -> None:
    from datetime import datetime, timezone

    # no CONFIG: the flags make an sts config; AssumeRole is signed with the environment's keys
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    s = serve(
        "serve",
        "--role-arn",
        ROLE,
        "--sts-endpoint-url",
        moto.endpoint_url,
        "--sts-region",
        "us-east-1",
        "--duration-seconds",
        "1800",
        env=env,
    )
    status, body, _ = http_get(s.url, s.token)
    assert status == 200
    left = datetime.fromisoformat(body["Expiration"].replace("Z", "+00:00"))
    assert 1500 < (left - datetime.now(timezone.utc)).total_seconds() <= 1800
    assert s.stop()[0] == 0

    # flags over a CONFIG's keys; a bad value is still named by the Go side
    r = run("credential-process", str(sts_json), "--duration-seconds", "5")
    assert r.returncode == 2 and "DurationSeconds" in r.stderr
    r = run("credential-process", str(sts_json), "--duration-seconds", "900")
    assert r.returncode == 0, r.stderr
    _check_process_json(r.stdout)

    # method custom from --credential-process
    script = tmp_path / "c.py"
    script.write_text(
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': 'AKIDFLAG', 'SecretAccessKey': 's',"
        " 'SessionToken': 't', 'Expiration': '2999-01-01T00:00:00Z'}))\n"
    )
    r = run("credential-process", "--credential-process", f"{sys.executable} {script}")
    assert r.returncode == 0, r.stderr
    assert _check_process_json(r.stdout)["AccessKeyId"] == "AKIDFLAG"

    # neither CONFIG nor a method flag
    for args in (["serve"], ["exec", "--", "true"]):
        r = run(*args)
        assert r.returncode == 2 and "--role-arn" in r.stderr


def test_toml_without_a_parser(tmp_path: Path) -> None:
    """Python 3.10 without tomli: a TOML config is refused clearly (exit 2)."""

    config = tmp_path / "c.toml"
    config.write_text('method = "custom"\n')
    code = (
        "import sys; sys.modules['tomllib'] = None; sys.modules['tomli'] = None\n"
        "from gobrs.cli import main; sys.exit(main(['serve', sys.argv[1]]))\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "tomli" in r.stderr and "JSON" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGINT, signal.SIGTERM])
def test_serve_stops_on(sig: int, sts_json: Path, serve: Any) -> None:
    s = serve("serve", str(sts_json), "--lazy")
    assert http_get(s.url, s.token)[0] == 200
    rc, stderr = s.stop(sig)
    assert rc == 0, stderr
    assert not os.path.exists(s.token_file)
    assert f"signal {int(sig)}" in stderr
