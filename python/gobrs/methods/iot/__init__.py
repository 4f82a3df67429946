"""The ``iot`` method (defined in :mod:`gobrs.iot`). Unlike in
boto3-refresh-session it needs no extra; ``mqtt()`` needs the ``iot`` extra
(awsiotsdk)."""

from __future__ import annotations

__all__ = ["IOTX509RefreshableSession"]

from . import x509 as x509
from .x509 import IOTX509RefreshableSession
