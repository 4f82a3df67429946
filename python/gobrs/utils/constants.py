"""Parameter names, as boto3-refresh-session's ``utils.constants`` lists
them."""

from __future__ import annotations

__all__ = [
    "ASSUME_ROLE_CONFIG_PARAMETERS",
    "STS_CLIENT_CONFIG_PARAMETERS",
    "SUBPROCESS_ALLOWED_PARAMETERS",
]

import inspect
import subprocess
from typing import Set, Tuple

from .typing import AssumeRoleParams, STSClientParams

#: The keys of ``assume_role_kwargs`` (STS AssumeRole's parameters).
ASSUME_ROLE_CONFIG_PARAMETERS: Tuple[str, ...] = tuple(AssumeRoleParams.__annotations__)

#: The keys of ``sts_client_kwargs``.
STS_CLIENT_CONFIG_PARAMETERS: Tuple[str, ...] = tuple(STSClientParams.__annotations__)

#: The parameters of :func:`subprocess.run` and :class:`subprocess.Popen`.
SUBPROCESS_ALLOWED_PARAMETERS: Set[str] = set(inspect.signature(subprocess.run).parameters) | set(
    inspect.signature(subprocess.Popen).parameters
)
