"""The ``custom`` method: credentials from a getter the user writes."""

from __future__ import annotations

__all__ = ["CustomRefreshableSession"]

import functools
from datetime import datetime
from typing import Any, Callable, Dict, Mapping, Optional

from . import _lib
from .exceptions import BRSCredentialError, BRSResultTypeError, BRSValidationError
from .session import BaseRefreshableSession
from .utils.typing import Identity, TemporaryCredentials

_REQUIRED = ("access_key", "secret_key", "token", "expiry_time")
_PARAM = "custom_credentials_method"


def _call_getter(
    getter: Callable[..., Mapping[str, Any]],
    kwargs: Mapping[str, Any],
    request: int,
) -> Dict[str, str]:
    """Call the user's getter and check its answer (runs on a Go thread)."""

    if request != _lib.REQ_CREDENTIALS:
        raise BRSCredentialError(f"the custom method got an unexpected request {request}", param=_PARAM)
    result = getter(**kwargs)
    if not isinstance(result, Mapping):
        raise BRSResultTypeError(
            "custom_credentials_method must return a dict with 'access_key', "
            f"'secret_key', 'token' and 'expiry_time', not {type(result).__name__}",
            param=_PARAM,
            details={"type": type(result).__name__},
        )
    missing = [key for key in _REQUIRED if key not in result]
    if missing:
        raise BRSCredentialError(
            "The dict returned by custom_credentials_method is missing required key-value pairs.",
            details={"missing": sorted(missing)},
        )
    # the trampoline (gobrs._lib) checks that each value is a string
    answer: Dict[str, str] = {key: result[key] for key in ("access_key", "secret_key", "token")}
    expiry = result["expiry_time"]
    if isinstance(expiry, datetime):
        # aware: its own offset; naive: read as UTC, like an ISO 8601
        # string without an offset
        answer["expiry_time"] = expiry.isoformat()
    elif isinstance(expiry, str):
        answer["expiry_time"] = expiry
    else:
        raise BRSCredentialError(
            "'expiry_time' must be an ISO 8601 string.",
            param="expiry_time",
            value=expiry,
        )
    return answer


class CustomRefreshableSession(
    BaseRefreshableSession, registry_key="custom", go_method="custom", refresh_method="custom"
):
    """A :class:`boto3.session.Session` that automatically refreshes
    temporary credentials returned by a credential getter you write.

    Parameters
    ----------
    custom_credentials_method : Callable[..., TemporaryCredentials | Dict[str, Any]]
        Required. Called (with ``custom_credentials_method_args`` as keyword
        arguments) whenever credentials are needed; returns a dict with
        ``access_key``, ``secret_key``, ``token`` and ``expiry_time`` (an
        ISO 8601 string or a :class:`datetime.datetime`; a time without an
        offset, or a naive datetime, is read as UTC). It may run on a thread
        of gobrs's own, never twice at the same time for one session.
    custom_credentials_method_args : Dict[str, Any], optional
        Keyword arguments for ``custom_credentials_method``.

    Other Parameters
    ----------------
    **kwargs : Any, optional
        The parameters every gobrs session takes (``defer_refresh``,
        ``advisory_timeout``, ... : :class:`~gobrs.session.BaseRefreshableSession`)
        and those of :class:`boto3.session.Session`.

    Attributes
    ----------
    credentials : TemporaryCredentials
        The current temporary AWS security credentials.

    Methods
    -------
    get_identity() -> Identity
        Describes the credential getter.

    Raises
    ------
    BRSValidationError
        If a parameter has the wrong type; the error names it.
    BRSCredentialError
        When credentials are needed and the getter returns something other
        than a dict, misses a key, or returns an ``expiry_time`` that is not
        a timestamp (string or datetime) or credentials that have already
        expired (see :mod:`gobrs.exceptions` for the subclasses that are
        also the class boto3-refresh-session raises there).
    Exception
        Whatever the getter raises reaches the caller as that same object,
        as with boto3-refresh-session.

    Examples
    --------
    >>> from gobrs import RefreshableSession
    >>> def getter(role):
    ...     ...
    ...     return {
    ...         "access_key": "...",
    ...         "secret_key": "...",
    ...         "token": "...",
    ...         "expiry_time": "2030-01-01T00:00:00Z",
    ...     }
    >>> session = RefreshableSession(
    ...     method="custom",
    ...     custom_credentials_method=getter,
    ...     custom_credentials_method_args={"role": "reader"},
    ...     region_name="us-east-1",
    ... )
    >>> session.client("s3").list_buckets()
    """

    def __init__(
        self,
        custom_credentials_method: Callable[..., TemporaryCredentials | Dict[str, Any]],
        custom_credentials_method_args: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        if not callable(custom_credentials_method):
            raise BRSValidationError(
                "The 'custom_credentials_method' parameter must be a callable "
                "object that returns temporary AWS credentials when called.",
                param="custom_credentials_method",
            )
        if custom_credentials_method_args is not None and not (
            isinstance(custom_credentials_method_args, dict)
            and all(isinstance(key, str) for key in custom_credentials_method_args)
        ):
            raise BRSValidationError(
                "The 'custom_credentials_method_args' parameter must be a dict "
                "of keyword arguments (str keys) for the custom credentials method.",
                param="custom_credentials_method_args",
            )
        super().__init__(**kwargs)
        self._custom_get_credentials = custom_credentials_method
        self._custom_get_credentials_args: Dict[str, Any] = (
            custom_credentials_method_args if custom_credentials_method_args is not None else {}
        )
        handler = functools.partial(_call_getter, custom_credentials_method, self._custom_get_credentials_args)
        self._start({}, handler, _PARAM)

    def get_identity(self) -> Identity:
        """Returns metadata about the custom credential getter.

        Returns
        -------
        Identity
            ``{"method": "custom", "source": repr(<getter name>)}``.
        """

        getter = self._custom_get_credentials
        source = getattr(getter, "__name__", repr(getter))
        return {"method": "custom", "source": repr(source)}
