"""Fixtures of the ``gobrs serve`` tests and benchmark: a counting STS proxy
in front of moto, a ``gobrs serve`` process, and the environment of a
client process that knows nothing but the container-credentials variables.

Used by tests/python/test_serve_clients.py, tests/python/test_serve_load.py
and bench/scenarios/serve.py (which puts this directory on ``sys.path``).
Everything listens on 127.0.0.1 on ports the OS picks; no request leaves
the machine.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import parse_qs, urlsplit

from helpers import post_server

ROOT = Path(__file__).resolve().parents[2]

#: The role every serve test assumes (moto accepts any role ARN).
ROLE_ARN = "arn:aws:iam::123456789012:role/serve"
REGION = "us-east-1"

_EXPIRATION_RE = re.compile(rb"<Expiration>[^<]*</Expiration>")
_ACCESS_KEY_RE = re.compile(rb"<AccessKeyId>([^<]*)</AccessKeyId>")


class StsProxy:
    """An STS endpoint on 127.0.0.1 that forwards every request to a moto
    server and counts the AssumeRole calls.

    AWS (and gobrs, before sending) refuses ``DurationSeconds`` below 900,
    so the proxy makes credentials short-lived itself: the ``Expiration``
    of the n-th AssumeRole answer (n from 1) is rewritten to now +
    ``lifetimes[n - 1]`` seconds (``lifetime`` beyond the list; ``None``
    leaves moto's), rounded up to a whole second as STS writes it (so a
    lifetime lasts up to a second more). ``down()`` makes it answer AssumeRole with 503
    ServiceUnavailable until ``up()``; the attempts made meanwhile are
    counted apart (``failed``) and signalled, so a test waits for "the
    server tried to refresh" instead of for a time. Every answer closes its
    connection, so no request meets a kept-alive connection being closed.

    Parameters
    ----------
    upstream : str
        The moto server's URL.
    lifetime : float, optional
        Seconds the credentials of each AssumeRole live.
    lifetimes : Sequence[float], optional
        Per-call lifetimes, by call number, before ``lifetime`` applies.
    """

    def __init__(self, upstream: str, lifetime: Optional[float] = None, lifetimes: Sequence[float] = ()) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.lifetime = lifetime
        self.lifetimes = list(lifetimes)
        self.cond = threading.Condition()
        self.calls = 0  # AssumeRole calls answered with credentials
        self.failed = 0  # AssumeRole calls answered with 503 while down
        self.issued: List[str] = []  # access keys, in order
        self.expiry: Dict[str, datetime] = {}  # access key -> expiry
        self._down = False
        self.server = post_server(self._answer)
        self.port = int(self.server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the proxy."""

        return f"http://127.0.0.1:{self.port}"

    def down(self) -> None:
        """Answer AssumeRole with 503 from now on."""

        with self.cond:
            self._down = True

    def up(self) -> None:
        """Forward AssumeRole to moto again."""

        with self.cond:
            self._down = False

    def wait_calls(self, n: int, timeout: float = 60.0) -> bool:
        """Wait until ``n`` AssumeRole calls were answered with credentials."""

        with self.cond:
            return self.cond.wait_for(lambda: self.calls >= n, timeout)

    def wait_failed(self, n: int, timeout: float = 60.0) -> bool:
        """Wait until ``n`` AssumeRole calls were refused while down."""

        with self.cond:
            return self.cond.wait_for(lambda: self.failed >= n, timeout)

    def close(self) -> None:
        """Stop serving."""

        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "StsProxy":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _answer(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        if action == "AssumeRole":
            with self.cond:
                down = self._down
                if down:
                    self.failed += 1
                    self.cond.notify_all()
            if down:
                self._send(h, 503, b"text/xml", _error_xml("ServiceUnavailable", "the test switched STS off"))
                return
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection", "content-length")}
            conn.request("POST", h.path, body=body, headers=headers)
            resp = conn.getresponse()
            status, ctype, data = resp.status, resp.getheader("Content-Type", "text/xml").encode(), resp.read()
        finally:
            conn.close()
        if action == "AssumeRole" and status == 200:
            with self.cond:
                self.calls += 1
                n = self.calls
                life = self.lifetimes[n - 1] if n <= len(self.lifetimes) else self.lifetime
                match = _ACCESS_KEY_RE.search(data)
                key = match.group(1).decode() if match else ""
                if life is not None:
                    # whole seconds, as STS gives them, rounded up
                    expiry = (datetime.now(timezone.utc) + timedelta(seconds=life + 1)).replace(microsecond=0)
                    stamp = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
                    data = _EXPIRATION_RE.sub(f"<Expiration>{stamp}</Expiration>".encode(), data)
                    self.expiry[key] = expiry
                self.issued.append(key)
                self.cond.notify_all()
        self._send(h, status, ctype, data)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, ctype: bytes, data: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype.decode())
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Connection", "close")
        h.close_connection = True
        h.end_headers()
        h.wfile.write(data)


def _error_xml(code: str, message: str) -> bytes:
    return (
        f"<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}</Message>"
        "</Error><RequestId>stsproxy</RequestId></ErrorResponse>"
    ).encode()


def sts_config(endpoint: str, advisory: float, mandatory: float, **extra: Any) -> Dict[str, Any]:
    """The JSON config of a ``gobrs serve`` STS session assuming ROLE_ARN
    through ``endpoint`` with fake source keys, failing fast (one attempt,
    short timeouts) so that "STS down" is one refused call."""

    config: Dict[str, Any] = {
        "method": "sts",
        "advisory_timeout": advisory,
        "mandatory_timeout": mandatory,
        "assume_role_kwargs": {"RoleArn": ROLE_ARN, "RoleSessionName": "serve-test"},
        "sts_client_kwargs": {
            "endpoint_url": endpoint,
            "region_name": REGION,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "config": {"retries": {"total_max_attempts": 1}, "connect_timeout": 2, "read_timeout": 5},
        },
    }
    config.update(extra)
    return config


def gobrs_command() -> List[str]:
    """The ``gobrs`` console script of this interpreter's environment, or
    ``python -m gobrs`` when it has none."""

    script = Path(sys.executable).with_name("gobrs")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gobrs"]


def base_env(home: Path) -> Dict[str, str]:
    """The environment of a client process: nothing of the user's AWS setup
    (HOME is ``home``, an empty directory), no AWS_* keys, no instance
    metadata, loopback never proxied."""

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    env.update(
        HOME=str(home),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        NO_PROXY="127.0.0.1,localhost,::1",
        no_proxy="127.0.0.1,localhost,::1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


class ServeProcess:
    """A ``gobrs serve CONFIG --env-file F`` process.

    ``start()`` waits until it listens: it reads the two ``NAME=value``
    lines it prints on stdout. ``env`` then holds
    AWS_CONTAINER_CREDENTIALS_FULL_URI and
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; ``stop()`` sends SIGTERM and
    returns the exit status.

    Parameters
    ----------
    config : dict
        The session config, written to a JSON file in ``workdir``.
    workdir : Path
        A private directory for the config, env and log files.
    args : Sequence[str], optional
        Extra command-line arguments.
    """

    def __init__(self, config: Dict[str, Any], workdir: Path, args: Sequence[str] = ()) -> None:
        self.workdir = workdir
        self.config_path = workdir / "serve-config.json"
        self.config_path.write_text(json.dumps(config))
        self.env_file = workdir / "serve.env"
        self.log_path = workdir / "serve.log"
        self.args = list(args)
        self.process: Optional[subprocess.Popen[str]] = None
        self.env: Dict[str, str] = {}

    def command(self) -> List[str]:
        """The command line."""

        return [*gobrs_command(), "serve", str(self.config_path), "--env-file", str(self.env_file), *self.args]

    def start(self, timeout: float = 60.0) -> Dict[str, str]:
        """Start the server; returns the two variables it printed."""

        env = base_env(self.workdir)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True, env=env
            )
        assert self.process.stdout is not None
        lines: List[str] = []
        reader = threading.Thread(target=lambda: lines.extend(_read_lines(self.process, 2)), daemon=True)
        reader.start()
        reader.join(timeout)
        for line in lines:
            name, _, value = line.strip().partition("=")
            self.env[name] = value
        wanted = ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        if not all(self.env.get(k) for k in wanted):
            self.stop()
            raise RuntimeError(f"gobrs serve did not start: printed {lines!r}; log: {self.log()[-2000:]}")
        return dict(self.env)

    @property
    def pid(self) -> int:
        """The server's process id."""

        assert self.process is not None
        return self.process.pid

    @property
    def url(self) -> str:
        """The full credentials URI."""

        return self.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]

    def token(self) -> str:
        """The authorization token (read from its file)."""

        return Path(self.env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).read_text().strip()

    def log(self) -> str:
        """What the server wrote on stderr so far."""

        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 30.0) -> Optional[int]:
        """SIGTERM the server (by its pid) and wait; returns its status."""

        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if process.stdout is not None:
            process.stdout.close()
        return process.returncode

    def __enter__(self) -> "ServeProcess":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _read_lines(process: "subprocess.Popen[str] | None", n: int) -> List[str]:
    out: List[str] = []
    if process is None or process.stdout is None:
        return out
    for line in process.stdout:
        out.append(line)
        if len(out) == n:
            break
    return out


def client_env(server: ServeProcess, home: Path) -> Dict[str, str]:
    """``base_env`` plus the two container-credentials variables of
    ``server``: what any SDK on the host needs to use it."""

    env = base_env(home)
    env.update(server.env)
    return env


def build_goclient() -> str:
    """Build tests/serve/goclient (aws-sdk-go-v2, LoadDefaultConfig) into
    build/tests/goclient, unless it is newer than its sources; returns the
    program's path."""

    out = ROOT / "build" / "tests" / "goclient"
    sources = [ROOT / "tests" / "serve" / "goclient" / "main.go", ROOT / "go.mod", ROOT / "go.sum"]
    if out.exists() and all(out.stat().st_mtime > src.stat().st_mtime for src in sources):
        return str(out)
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("the Go toolchain is needed to build tests/serve/goclient")
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([go, "build", "-o", str(out), "./tests/serve/goclient"], cwd=ROOT, check=True, timeout=600)
    return str(out)


def aws_cli() -> Optional[str]:
    """The ``aws`` command next to this interpreter (requirements-dev.txt
    installs awscli into .venv), or None."""

    found = Path(sys.executable).with_name("aws")
    return str(found) if found.exists() else None


def run_side_by_side(
    cmds: Sequence[Sequence[str]], env: Dict[str, str], timeout: float = 120
) -> List["subprocess.CompletedProcess[str]"]:
    """Run the commands at once (each SDK retries a failure for seconds) and
    return their outcomes, in order."""

    procs = [
        subprocess.Popen(list(c), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for c in cmds
    ]  # fmt: skip
    out = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=timeout)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return out
