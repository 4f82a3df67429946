"""The ``iot`` method with an X.509 certificate (defined in
:mod:`gobrs.iot`)."""

from __future__ import annotations

__all__ = ["IOTX509RefreshableSession"]

from ...iot import IOTX509RefreshableSession
