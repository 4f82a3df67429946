"""Shared fixtures of the gobrs Python tests.

The tests run against the installed gobrs package (``make test-python``
installs it into .venv). AWS calls go to a moto server on 127.0.0.1 that the
``moto`` fixture starts once per test session and stops at the end. Helpers
that are not fixtures live in helpers.py.
"""

from __future__ import annotations

import os
from typing import Callable, Iterator

import pytest

# never reach out of the machine: no instance metadata, no proxies for
# loopback, no user AWS config
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)

from gobrs.testing import MotoServer  # noqa: E402
from helpers import Getter  # noqa: E402


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """A moto server on a free loopback port, for the whole test run."""

    with MotoServer() as server:
        yield server


@pytest.fixture
def endpoint(moto: MotoServer) -> str:
    """The moto server's endpoint URL."""

    return moto.endpoint_url


@pytest.fixture
def getter() -> Getter:
    """A fresh counting getter (helpers.Getter) with hour-long credentials."""

    return Getter()


@pytest.fixture
def make_getter() -> Callable[..., Getter]:
    """The helpers.Getter class, for tests that choose lifetimes or a delay."""

    return Getter
