"""gobrs: boto3-refresh-session on a Go core.

Refreshable :class:`boto3.session.Session` objects whose temporary AWS
credentials are fetched, cached and renewed by a Go library (libbrs.so)::

    from gobrs import RefreshableSession

    session = RefreshableSession(
        method="custom",
        custom_credentials_method=my_getter,
        region_name="us-east-1",
    )
    session.client("s3").list_buckets()

Importing gobrs loads neither boto3 nor the Go library: names are imported
on first use, and the library is loaded when the first session is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict

from ._lazy import lazy
from ._version import __version__ as __version__

# public name -> module that defines it (imported on first access)
_EXPORTS: Dict[str, str] = {
    "RefreshableSession": "gobrs.session",
    "BaseRefreshableSession": "gobrs.session",
    "CustomRefreshableSession": "gobrs.custom",
    "STSRefreshableSession": "gobrs.sts",
    "AssumeRoleConfig": "gobrs.sts",
    "STSClientConfig": "gobrs.sts",
    "IOTX509RefreshableSession": "gobrs.iot",
    "BRSError": "gobrs.exceptions",
    "BRSValidationError": "gobrs.exceptions",
    "BRSConfigurationError": "gobrs.exceptions",
    "BRSCredentialError": "gobrs.exceptions",
    "BRSConnectionError": "gobrs.exceptions",
    "BRSRequestError": "gobrs.exceptions",
    "BRSClosedError": "gobrs.exceptions",
    "BRSForkError": "gobrs.exceptions",
    "BRSWarning": "gobrs.exceptions",
    "SessionCache": "gobrs.cache",
    "CacheError": "gobrs.cache",
    "ClientCacheError": "gobrs.cache",
    "ClientCacheExistsError": "gobrs.cache",
    "ClientCacheNotFoundError": "gobrs.cache",
    "ResourceCacheError": "gobrs.cache",
    "ResourceCacheExistsError": "gobrs.cache",
    "ResourceCacheNotFoundError": "gobrs.cache",
    "ClientCacheKey": "gobrs.cache",
    "ResourceCacheKey": "gobrs.cache",
    "TemporaryCredentials": "gobrs.utils.typing",
    "Identity": "gobrs.utils.typing",
    "EvictionPolicy": "gobrs.utils.typing",
    "Method": "gobrs.utils.typing",
    "RefreshMethod": "gobrs.utils.typing",
    "RegistryKey": "gobrs.utils.typing",
    "AssumeRoleParams": "gobrs.utils.typing",
    "STSClientParams": "gobrs.utils.typing",
    "PKCS11": "gobrs.utils.typing",
    "Transport": "gobrs.utils.typing",
    "IOT_EXTRA_INSTALLED": "gobrs.utils.extras",
}

# submodules reachable as attributes, as boto3-refresh-session's are
# (``boto3_refresh_session.config`` is its ``utils.config``)
_SUBMODULES: Dict[str, str] = {
    "cache": "gobrs.cache",
    "config": "gobrs.utils.config",
    "custom": "gobrs.custom",
    "exceptions": "gobrs.exceptions",
    "extras": "gobrs.utils.extras",
    "iot": "gobrs.iot",
    "methods": "gobrs.methods",
    "session": "gobrs.session",
    "sts": "gobrs.sts",
    "typing": "gobrs.utils.typing",
    "utils": "gobrs.utils",
}


__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .cache import CacheError as CacheError
    from .cache import ClientCacheError as ClientCacheError
    from .cache import ClientCacheExistsError as ClientCacheExistsError
    from .cache import ClientCacheKey as ClientCacheKey
    from .cache import ClientCacheNotFoundError as ClientCacheNotFoundError
    from .cache import ResourceCacheError as ResourceCacheError
    from .cache import ResourceCacheExistsError as ResourceCacheExistsError
    from .cache import ResourceCacheKey as ResourceCacheKey
    from .cache import ResourceCacheNotFoundError as ResourceCacheNotFoundError
    from .cache import SessionCache as SessionCache
    from .custom import CustomRefreshableSession as CustomRefreshableSession
    from .exceptions import BRSClosedError as BRSClosedError
    from .exceptions import BRSConfigurationError as BRSConfigurationError
    from .exceptions import BRSConnectionError as BRSConnectionError
    from .exceptions import BRSCredentialError as BRSCredentialError
    from .exceptions import BRSError as BRSError
    from .exceptions import BRSForkError as BRSForkError
    from .exceptions import BRSRequestError as BRSRequestError
    from .exceptions import BRSValidationError as BRSValidationError
    from .exceptions import BRSWarning as BRSWarning
    from .session import BaseRefreshableSession as BaseRefreshableSession
    from .session import RefreshableSession as RefreshableSession
    from .utils.extras import IOT_EXTRA_INSTALLED as IOT_EXTRA_INSTALLED
    from .utils.typing import PKCS11 as PKCS11
    from .utils.typing import AssumeRoleParams as AssumeRoleParams
    from .utils.typing import EvictionPolicy as EvictionPolicy
    from .utils.typing import Identity as Identity
    from .utils.typing import Method as Method
    from .utils.typing import RefreshMethod as RefreshMethod
    from .utils.typing import RegistryKey as RegistryKey
    from .utils.typing import STSClientParams as STSClientParams
    from .utils.typing import TemporaryCredentials as TemporaryCredentials
    from .utils.typing import Transport as Transport


__getattr__, __dir__ = lazy(__name__, _EXPORTS, _SUBMODULES)
