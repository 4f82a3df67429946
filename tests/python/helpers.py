"""Helpers shared by the gobrs Python tests (conftest.py keeps the fixtures).

Test modules import what they need with ``from helpers import ...``: the
getters that hand out fake credentials, the session builders, the readers of
the access key a request was signed with, and the runners of threads, forked
children and new interpreters. Every wait here is on an event or a process,
bounded by a timeout that guards against a hang and never times a result.
"""

from __future__ import annotations

import faulthandler
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
import warnings
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

import pytest

from gobrs import RefreshableSession, STSRefreshableSession

REGION = "us-east-1"
#: the role the STS tests assume on the moto server
ROLE = "arn:aws:iam::123456789012:role/demo"
#: the long-term keys the STS tests hand the moto server
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
#: how long (s) a forked child may run before it counts as hung
CHILD_TIMEOUT = 30.0
#: this folder, for scripts run by run_python that import helpers
HERE = os.path.dirname(os.path.abspath(__file__))


# -- credentials and getters ----------------------------------------------------


def in_seconds(seconds: float) -> datetime:
    """The UTC time ``seconds`` from now."""

    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def good(**overrides: Any) -> Dict[str, Any]:
    """Valid custom-getter credentials living an hour; ``overrides`` replace fields."""

    creds: Dict[str, Any] = {
        "access_key": "ASIAGOBRSFIXED000001",
        "secret_key": "SECRETFIXEDVALUE",
        "token": "TOKENFIXEDVALUE",
        "expiry_time": in_seconds(3600),
    }
    creds.update(overrides)
    return creds


def fixed(result: Any) -> Callable[[], Any]:
    """A getter that returns ``result`` (the same object) at every call."""

    def getter() -> Any:
        return result

    return getter


class OnceThenRaise:
    """A getter that returns ``first`` (``good()`` living ``lifetime``
    seconds) once, then raises ``error`` at every call.

    ``calls`` counts the calls, failed ones included.
    """

    def __init__(self, error: BaseException, lifetime: float) -> None:
        self.error = error
        self.first = good(expiry_time=in_seconds(lifetime))
        self.calls = 0

    def __call__(self) -> Dict[str, Any]:
        self.calls += 1
        if self.calls == 1:
            return self.first
        raise self.error


class Getter:
    """A custom credential getter that counts its calls.

    Each call returns new, distinctive fake credentials living
    ``lifetime`` seconds (``lifetimes`` overrides it per call, by index).
    """

    def __init__(self, lifetime: float = 3600.0, lifetimes: Optional[List[float]] = None, delay: float = 0.0) -> None:
        self.lifetime = lifetime
        self.lifetimes = lifetimes or []
        self.delay = delay
        self.calls = 0
        self.active = 0
        self.max_active = 0
        self.threads: List[int] = []
        self.kwargs: List[Dict[str, Any]] = []
        self.issued: List[Dict[str, Any]] = []
        self.secret_marker = "SECRETMARK" + uuid.uuid4().hex
        self.token_marker = "TOKENMARK" + uuid.uuid4().hex
        self._lock = threading.Lock()

    def access_key(self, n: int) -> str:
        return f"ASIAGOBRSTEST{n:07d}"

    def __call__(self, **kwargs: Any) -> Dict[str, Any]:
        with self._lock:
            self.calls += 1
            n = self.calls
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.threads.append(threading.get_ident())
            self.kwargs.append(kwargs)
        try:
            if self.delay:
                threading.Event().wait(self.delay)
            life = self.lifetimes[n - 1] if n - 1 < len(self.lifetimes) else self.lifetime
            creds = {
                "access_key": self.access_key(n),
                "secret_key": f"{self.secret_marker}-{n}",
                "token": f"{self.token_marker}-{n}",
                "expiry_time": in_seconds(life),
            }
            self.issued.append(creds)
            return creds
        finally:
            with self._lock:
                self.active -= 1

    def secrets(self) -> List[str]:
        """Substrings that must never show up in output."""

        return [self.secret_marker, self.token_marker]


# -- sessions -----------------------------------------------------------------------


def custom_session(getter: Any, **kwargs: Any) -> Any:
    """A ``custom`` session of ``getter`` in REGION (``kwargs`` may override it)."""

    kwargs.setdefault("region_name", REGION)
    return RefreshableSession(method="custom", custom_credentials_method=getter, **kwargs)


def sts_session(endpoint: str, assume: Mapping[str, Any], **kwargs: Any) -> STSRefreshableSession:
    """An STS session assuming ROLE (plus ``assume``) on the moto server at ``endpoint``."""

    kwargs.setdefault("region_name", REGION)
    for key, value in KEYS.items():
        kwargs.setdefault(key, value)
    kwargs.setdefault("sts_client_kwargs", {"endpoint_url": endpoint})
    return STSRefreshableSession(assume_role_kwargs={"RoleArn": ROLE, **assume}, **kwargs)


# -- what requests were signed with --------------------------------------------------

_CREDENTIAL_RE = re.compile(r"Credential=([A-Z0-9]+)/")


def signed_access_key(request: Any) -> str:
    """The access key a botocore ``request`` is signed with ("" if none)."""

    auth = request.headers.get("Authorization", b"")
    if isinstance(auth, bytes):
        auth = auth.decode()
    match = _CREDENTIAL_RE.search(auth)
    return match.group(1) if match else ""


def record_access_keys(client: Any) -> List[str]:
    """Record the access key each request of ``client`` is signed with."""

    seen: List[str] = []

    def before_send(request: Any, **_: Any) -> None:
        seen.append(signed_access_key(request))

    client.meta.events.register("before-send.*", before_send)
    return seen


# -- threads, forked children, new interpreters ----------------------------------


def run_threads(n: int, target: Callable[[int], Any], timeout: float = 60.0) -> List[Any]:
    """Run ``target(i)`` for i in range(n), in n threads released together.

    Returns what each call returned, or the exception it raised, by index.
    Fails the test if a thread is still running ``timeout`` seconds after
    the join begins (a deadlock guard, not a speed assertion).
    """

    barrier = threading.Barrier(n)
    results: List[Any] = [None] * n

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except BaseException as exc:  # collected and checked by the test
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread hung"
    return results


_TEST_PID = os.getpid()


def fork_run(child: Callable[[], Any], timeout: float = CHILD_TIMEOUT) -> Any:
    """Run ``child`` in a forked process; return what it returned (JSON).

    The test fails if the child raised (its exception class and message are
    shown), died without reporting, or ran longer than ``timeout`` seconds
    (then it is killed and its traceback dumped first).
    """

    r, w = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(r)
        if os.getppid() == _TEST_PID:  # (re-arming it in a grandchild deadlocks in faulthandler)
            faulthandler.dump_traceback_later(timeout - 2, exit=True)  # a hang shows where
        try:
            out = ["ok", child()]
        except BaseException as exc:
            out = [type(exc).__name__, str(exc)[:500]]
        try:
            os.write(w, json.dumps(out, default=str).encode())
        finally:
            os._exit(0)
    os.close(w)
    if reap(pid, time.monotonic() + timeout) is None:
        os.close(r)
        pytest.fail(f"forked child hung for {timeout} s")
    with os.fdopen(r, "rb") as f:
        data = f.read()
    assert data, "the child died without reporting"
    kind, value = json.loads(data)
    assert kind == "ok", (kind, value)
    return value


def reap(pid: int, deadline: float) -> Optional[int]:
    """Wait for child ``pid`` until ``time.monotonic()`` reaches ``deadline``.

    Returns its wait status, or None if it was still running at the
    deadline (it is then killed and reaped).
    """

    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.02)


def python_env(env: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """This process's environment plus ``env``, for a new interpreter that
    can ``from helpers import ...`` (this folder first on its PYTHONPATH)."""

    path = os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, **(env or {})}


def run_python(
    code: str,
    *,
    path: Optional[Path] = None,
    env: Optional[Mapping[str, str]] = None,
    timeout: float = 90,
    cwd: Optional[Path] = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (dedented) in a new interpreter and return the finished process.

    With ``path`` the code is written there and run as a script (what
    ``spawn`` and ``__main__`` guards need); without, it runs with ``-c``.
    The environment is ``python_env(env)``.
    """

    code = textwrap.dedent(code)
    if path is not None:
        path.write_text(code)
        argv = [sys.executable, str(path)]
    else:
        argv = [sys.executable, "-c", code]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=python_env(env), cwd=cwd)


def sleep_until(when: datetime) -> None:
    """Sleep until the wall clock reaches ``when`` (an aware datetime).

    For waiting out a credential lifetime: waking later never changes what
    a test sees, so no result depends on how long the sleep took.
    """

    delay = (when - datetime.now(timezone.utc)).total_seconds()
    if delay > 0:
        time.sleep(delay)


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, step: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds passed; return its last value."""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def post_server(
    on_post: Callable[[BaseHTTPRequestHandler, bytes], None], port: int = 0, quiet: bool = False
) -> ThreadingHTTPServer:
    """Serve POSTs on 127.0.0.1 from a daemon thread: a fake or proxy STS.

    Parameters
    ----------
    on_post : callable
        Called as ``on_post(handler, body)`` for each POST; it answers
        through ``handler``.
    port : int
        The port (0: one the OS picks; a fault server reopening keeps its
        port).
    quiet : bool
        Drop the tracebacks of connections the handler ended rudely on
        purpose (resets, stalls).

    Returns
    -------
    ThreadingHTTPServer
        Listening; stop it with ``shutdown()`` then ``server_close()``.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            on_post(self, self.rfile.read(int(self.headers.get("Content-Length", "0"))))

    class Server(ThreadingHTTPServer):
        allow_reuse_address = True
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            if not quiet:
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
