"""Shared fixtures of the gobrs Python tests.

The tests run against the installed gobrs package (``make test-python``
installs it into .venv). AWS calls go to a moto server on 127.0.0.1 that the
``moto`` fixture starts once per test session and stops at the end.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

# never reach out of the machine: no instance metadata, no proxies for
# loopback, no user AWS config
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)

from gobrs import RefreshableSession  # noqa: E402
from gobrs.testing import MotoServer  # noqa: E402

REGION = "us-east-1"


def custom_session(getter: Any, **kwargs: Any) -> Any:
    """A ``custom`` session of ``getter`` in REGION (``kwargs`` may override it)."""

    kwargs.setdefault("region_name", REGION)
    return RefreshableSession(method="custom", custom_credentials_method=getter, **kwargs)


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """A moto server on a free loopback port, for the whole test run."""

    with MotoServer() as server:
        yield server


@pytest.fixture
def endpoint(moto: MotoServer) -> str:
    """The moto server's endpoint URL."""

    return moto.endpoint_url


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
                "expiry_time": datetime.now(timezone.utc) + timedelta(seconds=life),
            }
            self.issued.append(creds)
            return creds
        finally:
            with self._lock:
                self.active -= 1

    def secrets(self) -> List[str]:
        """Substrings that must never show up in output."""

        return [self.secret_marker, self.token_marker]


@pytest.fixture
def getter() -> Getter:
    return Getter()


@pytest.fixture
def make_getter() -> Callable[..., Getter]:
    return Getter


_CREDENTIAL_RE = re.compile(r"Credential=([A-Z0-9]+)/")


def record_access_keys(client: Any) -> List[str]:
    """Record the access key each request of ``client`` is signed with."""

    seen: List[str] = []

    def before_send(request: Any, **_: Any) -> None:
        auth = request.headers.get("Authorization", b"")
        if isinstance(auth, bytes):
            auth = auth.decode()
        match = _CREDENTIAL_RE.search(auth)
        seen.append(match.group(1) if match else "")

    client.meta.events.register("before-send.*", before_send)
    return seen
