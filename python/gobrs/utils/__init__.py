"""Helpers shared by the gobrs session classes: boto3-refresh-session's
``utils`` package under gobrs (``config``, ``constants``, ``extras``,
``internal``, ``typing``).

Names are imported on first use, so that importing a submodule (the session
classes import ``gobrs.utils.typing``) stays cheap.
"""

from __future__ import annotations

from typing import Dict

from .._lazy import lazy

_SUBMODULES = ("config", "constants", "extras", "internal", "typing")

# public name -> module that defines it (imported on first access)
_EXPORTS: Dict[str, str] = {
    "AssumeRoleConfig": "gobrs.utils.config",
    "STSClientConfig": "gobrs.utils.config",
    "ASSUME_ROLE_CONFIG_PARAMETERS": "gobrs.utils.constants",
    "STS_CLIENT_CONFIG_PARAMETERS": "gobrs.utils.constants",
    "SUBPROCESS_ALLOWED_PARAMETERS": "gobrs.utils.constants",
    "IOT_EXTRA_INSTALLED": "gobrs.utils.extras",
    "AWSCRTResponse": "gobrs.utils.internal",
    "BRSSession": "gobrs.utils.internal",
    "CredentialProvider": "gobrs.utils.internal",
    "Registry": "gobrs.utils.internal",
    "refreshable_session": "gobrs.utils.internal",
    "AssumeRoleParams": "gobrs.utils.typing",
    "EvictionPolicy": "gobrs.utils.typing",
    "Identity": "gobrs.utils.typing",
    "Method": "gobrs.utils.typing",
    "PKCS11": "gobrs.utils.typing",
    "RefreshMethod": "gobrs.utils.typing",
    "RegistryKey": "gobrs.utils.typing",
    "STSClientParams": "gobrs.utils.typing",
    "TemporaryCredentials": "gobrs.utils.typing",
    "Transport": "gobrs.utils.typing",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy(__name__, _EXPORTS, {name: f"{__name__}.{name}" for name in _SUBMODULES})
