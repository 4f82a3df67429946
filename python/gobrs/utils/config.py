"""The STS configuration classes, under boto3-refresh-session's module path
``utils.config``. They are defined in :mod:`gobrs.sts`."""

from __future__ import annotations

__all__ = ["AssumeRoleConfig", "STSClientConfig"]

from ..sts import AssumeRoleConfig, STSClientConfig
from ..sts import _Config as BaseConfig  # noqa: F401 - boto3-refresh-session's name of the base class
