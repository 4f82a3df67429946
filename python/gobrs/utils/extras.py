"""Whether optional dependencies (extras) are installed."""

from __future__ import annotations

__all__ = ["IOT_EXTRA_INSTALLED"]

from importlib.util import find_spec

#: Whether the ``iot`` extra (awsiotsdk, with awscrt) is installed, which
#: ``IOTX509RefreshableSession.mqtt()`` needs. gobrs fetches IoT credentials
#: without it.
IOT_EXTRA_INSTALLED: bool = find_spec("awscrt") is not None and find_spec("awsiot") is not None
