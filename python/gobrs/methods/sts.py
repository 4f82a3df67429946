"""The ``sts`` method (defined in :mod:`gobrs.sts`)."""

from __future__ import annotations

__all__ = ["STSRefreshableSession"]

from ..sts import STSRefreshableSession
