"""Real clients of ``gobrs serve`` (issue 14, point 4).

One ``gobrs serve`` process assumes a role from a moto server (through a
counting proxy, tests/python/serving.py), and programs that know nothing of
gobrs read it through the AWS container-credentials protocol: boto3's
default chain, the AWS CLI, a Go program on ``config.LoadDefaultConfig``
(tests/serve/goclient), and a ``credential_process`` profile that runs
``gobrs credential-process``. Each calls ``sts get-caller-identity`` on the
moto server, which names the role only for credentials it issued by
AssumeRole; the same on a ``[::1]`` server and through ``gobrs exec``; a
wrong token is an error each SDK reports clearly. Then 8 client processes
read across 3 refreshes of short-lived credentials, and the proxy counts
one AssumeRole per refresh.

Every client runs with HOME an empty directory, no AWS_* keys but the ones
given, instance metadata off and an explicit loopback endpoint: nothing
reaches real AWS.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from gobrs.testing import MotoServer
from serving import (
    ROLE_ARN,
    ROOT,
    ServeProcess,
    StsProxy,
    aws_cli,
    base_env,
    build_goclient,
    client_env,
    gobrs_command,
    run_side_by_side,
    sts_config,
)

pytestmark = pytest.mark.timeout(180)

PYCLIENT = ROOT / "tests" / "serve" / "pyclient.py"
#: the ARN moto's GetCallerIdentity gives credentials it issued for ROLE_ARN
ROLE_SESSION_ARN = ROLE_ARN.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + "/serve-test"


def aws() -> str:
    """The AWS CLI of the test environment; a failure when it is missing."""

    found = aws_cli()
    if found is None:
        pytest.fail(f"the AWS CLI is not installed next to {sys.executable}: `make venv` installs it (awscli)")
    return found


@pytest.fixture(scope="module")
def proxy(moto: MotoServer) -> Iterator[StsProxy]:
    with StsProxy(moto.endpoint_url) as p:
        yield p


@pytest.fixture(scope="module")
def server(proxy: StsProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with ServeProcess(sts_config(proxy.url, 900, 600), tmp_path_factory.mktemp("serve")) as s:
        yield s


@pytest.fixture(scope="module")
def goclient() -> str:
    return build_goclient()


def run(cmd: List[str], env: Dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def last_json(out: str) -> Dict[str, Any]:
    lines = out.strip().splitlines()
    assert lines, "no output"
    result: Dict[str, Any] = json.loads(lines[-1])
    return result


def test_boto3_default_chain(server: ServeProcess, proxy: StsProxy, moto: MotoServer, tmp_path: Path) -> None:
    proc = run([sys.executable, str(PYCLIENT), "identity", moto.endpoint_url], client_env(server, tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = last_json(proc.stdout)
    assert out["arn"] == ROLE_SESSION_ARN
    assert out["access_key"] in proxy.issued


def test_aws_cli(server: ServeProcess, moto: MotoServer, tmp_path: Path) -> None:
    cmd = [aws(), "sts", "get-caller-identity", "--endpoint-url", moto.endpoint_url, "--output", "json"]
    proc = run(cmd, client_env(server, tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["Arn"] == ROLE_SESSION_ARN
    # the CLI says where its credentials came from
    listed = run([aws(), "configure", "list"], client_env(server, tmp_path))
    assert "container-role" in listed.stdout, listed.stdout + listed.stderr


def test_go_load_default_config(
    server: ServeProcess, proxy: StsProxy, moto: MotoServer, goclient: str, tmp_path: Path
) -> None:
    proc = run([goclient, "-endpoint", moto.endpoint_url], client_env(server, tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    key, arn = proc.stdout.split()
    assert key in proxy.issued
    assert arn == ROLE_SESSION_ARN


def credential_process_profile(server: ServeProcess, home: Path) -> Dict[str, str]:
    """A ~/.aws/config (in ``home``) whose profile "served" runs ``gobrs
    credential-process --env-file F``, and the environment that selects it
    (no container variables: the profile is the only source)."""

    command = " ".join([*gobrs_command(), "credential-process", "--env-file", str(server.env_file)])
    config = home / ".aws" / "config"
    config.parent.mkdir()
    config.write_text(f"[profile served]\ncredential_process = {command}\nregion = us-east-1\n")
    env = base_env(home)
    env.update(AWS_CONFIG_FILE=str(config), AWS_PROFILE="served")
    return env


def test_credential_process_profile(server: ServeProcess, proxy: StsProxy, moto: MotoServer, tmp_path: Path) -> None:
    env = credential_process_profile(server, tmp_path)
    # what credential_process prints: AWS's Version 1 JSON
    printed = run([*gobrs_command(), "credential-process", "--env-file", str(server.env_file)], env)
    assert printed.returncode == 0, printed.stderr
    doc = json.loads(printed.stdout)
    assert doc["Version"] == 1 and doc["AccessKeyId"] in proxy.issued
    assert doc["SecretAccessKey"] and doc["SessionToken"] and doc["Expiration"]
    assert doc["SecretAccessKey"] not in printed.stderr
    # and boto3 running it from the profile
    calls = proxy.calls
    proc = run([sys.executable, str(PYCLIENT), "identity", moto.endpoint_url], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = last_json(proc.stdout)
    assert out["arn"] == ROLE_SESSION_ARN and out["access_key"] == doc["AccessKeyId"]
    assert proxy.calls == calls, "credential-process assumed the role itself instead of asking the server"


def test_wrong_token_is_a_clear_error_in_every_client(
    server: ServeProcess, moto: MotoServer, goclient: str, tmp_path: Path
) -> None:
    """A token file with a wrong token: each SDK reports a credentials error
    that names the container provider, and no secret."""

    wrong = tmp_path / "wrong-token"
    wrong.write_text("0" * 32)
    env = client_env(server, tmp_path)
    env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = str(wrong)
    secret = json.loads(
        run([*gobrs_command(), "credential-process", "--env-file", str(server.env_file)], base_env(tmp_path)).stdout
    )["SecretAccessKey"]

    py, cli, go = run_side_by_side(
        [
            [sys.executable, str(PYCLIENT), "identity", moto.endpoint_url],
            [aws(), "sts", "get-caller-identity", "--endpoint-url", moto.endpoint_url],
            [goclient, "-endpoint", moto.endpoint_url],
        ],
        env,
    )
    for name, proc in (("boto3", py), ("aws cli", cli), ("go", go)):
        assert proc.returncode != 0, f"{name} succeeded with a wrong token: {proc.stdout}"
        assert secret not in proc.stdout + proc.stderr
    err = last_json(py.stdout)
    assert err["error_class"] == "botocore.exceptions.CredentialRetrievalError", err
    assert "container-role" in err["error"], err
    assert "container-role" in cli.stderr and "non 200 response 403" in cli.stderr, cli.stderr
    # aws-sdk-go-v2 shows the code and message of the server's JSON error body
    assert "failed to load credentials" in go.stderr, go.stderr
    print(f"boto3: {err['error_class']}: {err['error']}\naws cli: {cli.stderr.strip()}\ngo: {go.stderr.strip()}")


def test_ipv6_loopback(proxy: StsProxy, moto: MotoServer, goclient: str, tmp_path: Path) -> None:
    """A server on [::1]: boto3, the AWS CLI and Go accept the address."""

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with ServeProcess(sts_config(proxy.url, 900, 600), tmp_path, ["--listen", "[::1]:0"]) as server:
        assert server.url.startswith("http://[::1]:")
        py, cli, go = run_side_by_side(
            [
                [sys.executable, str(PYCLIENT), "identity", moto.endpoint_url],
                [aws(), "sts", "get-caller-identity", "--endpoint-url", moto.endpoint_url, "--output", "json"],
                [goclient, "-endpoint", moto.endpoint_url],
            ],
            client_env(server, tmp_path),
        )
    assert py.returncode == 0 and last_json(py.stdout)["arn"] == ROLE_SESSION_ARN, py.stdout + py.stderr
    assert cli.returncode == 0 and json.loads(cli.stdout)["Arn"] == ROLE_SESSION_ARN, cli.stderr
    assert go.returncode == 0 and go.stdout.split()[-1] == ROLE_SESSION_ARN, go.stderr


def test_exec_runs_the_aws_cli(proxy: StsProxy, moto: MotoServer, tmp_path: Path) -> None:
    """``gobrs exec CONFIG -- aws ...``: the CLI reads the server exec runs
    for its lifetime, and exec exits with the CLI's status."""

    config = tmp_path / "config.json"
    config.write_text(json.dumps(sts_config(proxy.url, 900, 600)))
    cli = [aws(), "sts", "get-caller-identity", "--endpoint-url", moto.endpoint_url, "--output", "json"]
    ok = run([*gobrs_command(), "exec", str(config), "--", *cli], base_env(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["Arn"] == ROLE_SESSION_ARN
    # a CLI failure (no STS listening on port 1: the CLI exits 255) is exec's
    env = base_env(tmp_path)
    env.update(AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard")
    refused = [aws(), "sts", "get-caller-identity", "--endpoint-url", "http://127.0.0.1:1"]
    bad = run([*gobrs_command(), "exec", str(config), "--", *refused], env)
    assert bad.returncode == 255 and "Could not connect" in bad.stderr, (bad.returncode, bad.stderr)


class Watcher:
    """One ``pyclient.py watch`` process and the keys it reports."""

    def __init__(self, env: Dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(PYCLIENT), "watch"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.ready = json.loads(self.proc.stdout.readline() or "{}").get("ready", False)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self) -> Dict[str, Any]:
        out, err = self.proc.communicate(timeout=120)
        lines = [json.loads(x) for x in out.splitlines() if x.strip()]
        done = [x for x in lines if x.get("done")]
        return done[0] if done else {"failed": lines, "stderr": err[-2000:], "status": self.proc.returncode}


def test_eight_clients_one_assume_role_per_refresh(moto: MotoServer, tmp_path: Path) -> None:
    """8 boto3 processes read one server across 3 refreshes of 3-second
    credentials (advisory window 0.75 s, mandatory 0.3 s): one AssumeRole
    for the first fetch and one per refresh, 4 in all, counted at the STS
    proxy.

    boto3 fetches the credentials as it resolves its chain, so the first
    client to start causes the first fetch; the clients then wait until all
    8 are ready and read together. The fourth credentials live an hour, so
    no refresh can follow the third: the count is exact, whatever the
    timing.
    """

    with StsProxy(moto.endpoint_url, lifetimes=[3, 3, 3], lifetime=3600) as proxy:
        with ServeProcess(sts_config(proxy.url, 0.75, 0.3), tmp_path, ["--lazy"]) as server:
            env = client_env(server, tmp_path)
            watchers = [Watcher(env) for _ in range(8)]
            try:
                assert all(w.ready for w in watchers), "a client did not start"
                for w in watchers:
                    w.send("go")
                assert proxy.wait_calls(4, timeout=90), f"only {proxy.calls} AssumeRole calls: {server.log()[-2000:]}"
                last = proxy.issued[3]
                for w in watchers:
                    w.send(f"until {last}")
                results = [w.finish() for w in watchers]
            finally:
                for w in watchers:
                    if w.proc.poll() is None:
                        w.proc.kill()
                        w.proc.wait()
            assert all("done" in r for r in results), results
            assert proxy.calls == 4, f"{proxy.calls} AssumeRole calls for 1 fetch + 3 refreshes"
            assert all(r["errors"] == 0 and r["keys"][-1] == last for r in results), results
            # every set the proxy issued was served, and nothing else
            seen = {k for r in results for k in r["keys"]}
            assert seen == set(proxy.issued), (seen, proxy.issued)
