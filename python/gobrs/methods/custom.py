"""The ``custom`` method (defined in :mod:`gobrs.custom`)."""

from __future__ import annotations

__all__ = ["CustomRefreshableSession"]

from ..custom import CustomRefreshableSession
