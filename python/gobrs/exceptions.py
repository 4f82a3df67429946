"""Exception and warning types of gobrs.

The classes mirror boto3-refresh-session's: every error is a
:class:`BRSError` carrying optional ``code``, ``status_code``, ``details``,
``param`` and ``value`` fields, and the subclasses say what went wrong. The
status codes of the C library (``include/brs.h``) map one to one onto them.
"""

from __future__ import annotations

__all__ = [
    "BRSClientError",
    "BRSClosedError",
    "BRSConfigurationError",
    "BRSConnectTimeoutError",
    "BRSConnectionClosedError",
    "BRSConnectionError",
    "BRSCredentialError",
    "BRSEndpointConnectionError",
    "BRSError",
    "BRSExpiredCredentialError",
    "BRSExpiryFormatError",
    "BRSForkError",
    "BRSParamValidationError",
    "BRSPickleError",
    "BRSReadTimeoutError",
    "BRSRequestError",
    "BRSResultTypeError",
    "BRSSSLError",
    "BRSServiceValidationError",
    "BRSTimeoutError",
    "BRSTypeError",
    "BRSValidationError",
    "BRSWarning",
]

import reprlib
import warnings
from typing import Any, Dict, List, Optional, Tuple

from botocore import exceptions as _botocore
from dateutil.parser import ParserError as _ParserError

from ._reprs import safe_repr, warning_stacklevel

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = _repr.maxlong = 200


def _show(value: Any) -> str:
    """``repr(value)`` cut to a few hundred characters: an oversized value
    (a megabyte string, a huge int) never makes an error's text huge."""

    try:
        return _repr.repr(value)
    except Exception:  # a repr that fails (e.g. an int over the digit limit)
        return f"<{type(value).__name__}>"


class BRSError(Exception):
    """Base class of every gobrs error.

    Parameters
    ----------
    message : str, optional
        What went wrong, for a human. Never contains a secret.
    code : str | int, optional
        A short machine-readable code, e.g. the service error code
        ``"AccessDenied"``.
    status_code : int, optional
        The HTTP status of a failed request, when there was one.
    details : Dict[str, Any], optional
        Structured extra information for debugging or logging.
    param : str, optional
        The name of the parameter or field at fault.
    value : Any, optional
        The offending value, when it is not secret.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | int | None = None,
        status_code: int | None = None,
        details: Dict[str, Any] | None = None,
        param: str | None = None,
        value: Any | None = None,
    ) -> None:
        self.message: str = message if message is not None else ""
        self.code = code
        self.status_code = status_code
        self.details = details
        self.param = param
        self.value = value
        # Exception's own __init__, not the next class in the MRO: the
        # botocore-compatible subclasses below also derive from botocore
        # classes whose __init__ takes other arguments
        Exception.__init__(self, self.message)

    def _fields(self) -> List[Tuple[str, Any]]:
        """The optional fields that are set, in display order."""

        pairs = (
            ("code", self.code),
            ("status_code", self.status_code),
            ("param", self.param),
            ("value", self.value),
            ("details", self.details),
        )
        return [(name, val) for name, val in pairs if val is not None]

    def __str__(self) -> str:
        extra = ", ".join(f"{name}={_show(val)}" for name, val in self._fields())
        if not extra:
            return self.message
        if not self.message:
            return extra
        return f"{self.message} ({extra})"

    @safe_repr
    def __repr__(self) -> str:
        parts = [repr(self.message)]
        parts.extend(f"{name}={_show(val)}" for name, val in self._fields())
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> Any:
        # keyword-only fields survive pickling (multiprocessing, concurrent
        # futures) instead of being dropped by Exception's default reduce
        return (_rebuild_error, (type(self), self.message, dict(self._fields())))


def _rebuild_error(cls: type, message: str, fields: Dict[str, Any]) -> BRSError:
    """Recreate an unpickled :class:`BRSError` with its fields."""

    return cls(message, **fields)  # type: ignore[no-any-return]


class BRSValidationError(BRSError):
    """A parameter is missing, of the wrong type or out of range."""


class BRSConfigurationError(BRSError):
    """Parameters that cannot work together, or a feature not available."""


class BRSCredentialError(BRSError):
    """The credential source failed or returned unusable credentials.

    An exception raised by the user's own credential getter or MFA
    callable is not wrapped: it reaches the caller as it is.
    """


class BRSConnectionError(BRSError):
    """A connection failed: refused, reset, timed out or a TLS failure."""


class BRSRequestError(BRSError):
    """A service answered a request with an error."""


class BRSClosedError(BRSError):
    """The session was closed; create a new one."""


class BRSForkError(BRSError):
    """A session was pickled or copied to be sent to another process, or a
    forked process cannot reach the process that runs its session.

    Sessions survive ``os.fork()``: a forked child reads its parent's
    sessions through the parent, and the sessions it creates run in a helper
    process (docs/reliability.md). What cannot work is a session following a
    pickle: create it before the fork, or in each process that needs one
    (the ``spawn`` and ``forkserver`` start methods of
    :mod:`multiprocessing`).
    """


class BRSPickleError(BRSForkError, TypeError, AttributeError):
    """A session or its credentials was pickled or deep-copied: its Go
    session belongs to this process and cannot follow the copy. Also the
    built-in :class:`TypeError` (what ``copy.deepcopy`` of a
    boto3-refresh-session session raises) and :class:`AttributeError` (what
    pickling one raises), so an existing ``except`` keeps catching it.
    """


# -- the classes boto3-refresh-session's callers catch -------------------------
#
# boto3-refresh-session lets botocore's (and Python's) exceptions through;
# gobrs raises these subclasses, which are both the BRS* class and the class
# boto3-refresh-session would raise for the same input, so that either
# ``except`` clause catches them.


class BRSClientError(BRSRequestError, _botocore.ClientError):
    """STS answered with an error: a :class:`BRSRequestError` that is also
    botocore's :class:`~botocore.exceptions.ClientError`.

    Parameters
    ----------
    message : str, optional
        What went wrong.
    response : Dict[str, Any], optional
        botocore's parsed error response: ``Error`` (``Code``,
        ``Message``) and ``ResponseMetadata`` (``HTTPStatusCode``,
        ``RequestId``).
    operation_name : str, optional
        The STS operation, e.g. ``"AssumeRole"``.
    **fields
        The :class:`BRSError` fields.
    """

    def __init__(
        self,
        message: Optional[str] = None,
        *,
        response: Optional[Dict[str, Any]] = None,
        operation_name: Optional[str] = None,
        **fields: Any,
    ) -> None:
        BRSRequestError.__init__(self, message, **fields)
        # botocore's stubs type these as a TypedDict and a str; gobrs's are
        # a plain dict of the same keys and None when the operation is unknown
        self.response: Dict[str, Any] = response if response is not None else {}  # type: ignore[assignment]
        self.operation_name = operation_name  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        return (
            _rebuild_client_error,
            (type(self), self.message, dict(self._fields()), self.response, self.operation_name),
        )


def _rebuild_client_error(
    cls: type, message: str, fields: Dict[str, Any], response: Dict[str, Any], operation_name: Optional[str]
) -> BRSError:
    """Recreate an unpickled :class:`BRSClientError`."""

    return cls(message, response=response, operation_name=operation_name, **fields)  # type: ignore[no-any-return]


class BRSServiceValidationError(BRSValidationError, BRSClientError):
    """A parameter that botocore lets through and STS refuses (over a
    maximum, outside the allowed characters). gobrs refuses it before
    asking STS; it is a :class:`BRSValidationError` and the
    :class:`~botocore.exceptions.ClientError` (code ``ValidationError``)
    STS's answer would have made.
    """


class BRSParamValidationError(BRSValidationError, _botocore.ParamValidationError):
    """A parameter botocore's own validation refuses (e.g.
    ``DurationSeconds=60``, under the API minimum): a
    :class:`BRSValidationError` that is also botocore's
    :class:`~botocore.exceptions.ParamValidationError`.
    """

    def __init__(self, message: Optional[str] = None, **fields: Any) -> None:
        BRSValidationError.__init__(self, message, **fields)
        self.kwargs = {"report": self.message}


class _BotocoreConnection(BRSConnectionError):
    """Base of the connection failures that are also botocore's classes:
    ``kwargs`` holds ``endpoint_url`` and ``error``, as botocore's do."""

    # (type checking) botocore's stubs give each of its classes its own
    # TypedDict for ``kwargs``, ``error`` an Exception; here it is the
    # message, so each subclass below ignores that mismatch (misc)

    def __init__(self, message: Optional[str] = None, *, endpoint_url: Optional[str] = None, **fields: Any) -> None:
        BRSConnectionError.__init__(self, message, **fields)
        self.kwargs: Dict[str, Any] = {"endpoint_url": endpoint_url, "error": self.message}
        self.endpoint_url = endpoint_url


class BRSEndpointConnectionError(_BotocoreConnection, _botocore.EndpointConnectionError):  # type: ignore[misc]
    """No connection to the endpoint (refused, unreachable, unknown host):
    also botocore's :class:`~botocore.exceptions.EndpointConnectionError`."""


class BRSConnectTimeoutError(_BotocoreConnection, _botocore.ConnectTimeoutError):  # type: ignore[misc]
    """Connecting timed out: also botocore's
    :class:`~botocore.exceptions.ConnectTimeoutError`."""


class BRSReadTimeoutError(_BotocoreConnection, _botocore.ReadTimeoutError):  # type: ignore[misc]
    """The answer did not come in time: also botocore's
    :class:`~botocore.exceptions.ReadTimeoutError`."""


class BRSConnectionClosedError(_BotocoreConnection, _botocore.ConnectionClosedError):  # type: ignore[misc]
    """The connection dropped before an answer: also botocore's
    :class:`~botocore.exceptions.ConnectionClosedError`."""


class BRSSSLError(_BotocoreConnection, _botocore.SSLError):  # type: ignore[misc]
    """The TLS handshake failed: also botocore's
    :class:`~botocore.exceptions.SSLError`."""


class BRSTypeError(BRSValidationError, TypeError):
    """A parameter of the wrong type, or an unknown or missing keyword
    argument (``AssumeRoleConfig(Bogus=1)``, a dict without ``RoleArn``):
    also the :class:`TypeError` Python raises there, as it does under
    boto3-refresh-session."""


class BRSResultTypeError(BRSCredentialError, AttributeError):
    """The credential getter returned something other than a mapping: also
    the :class:`AttributeError` boto3-refresh-session meets reading its
    keys."""


class BRSTimeoutError(BRSConnectionError, TimeoutError):
    """The IoT credentials request timed out: also the built-in
    :class:`TimeoutError` boto3-refresh-session's iot method raises."""


class BRSExpiredCredentialError(BRSCredentialError, RuntimeError):
    """The credential source answered with credentials that have already
    expired; a :class:`RuntimeError` as botocore's "refreshed credentials
    are still expired" error is."""


class BRSExpiryFormatError(BRSCredentialError, _ParserError):
    """``expiry_time`` is not a timestamp: also dateutil's
    :class:`~dateutil.parser.ParserError` (a :class:`ValueError`), which
    botocore raises there."""


class BRSWarning(UserWarning):
    """Base class of gobrs warnings.

    Parameters
    ----------
    message : str, optional
        The warning text.
    """

    def __init__(self, message: str | None = None) -> None:
        self.message: str = message if message is not None else ""
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @safe_repr
    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    @classmethod
    def warn(cls, message: str, *, stacklevel: int = 2) -> None:
        """Emit this warning.

        Parameters
        ----------
        message : str
            The warning text.
        stacklevel : int, optional
            As for :func:`warnings.warn`. Default is 2 (the caller of this
            method).
        """

        warnings.warn(cls(message), stacklevel=warning_stacklevel(stacklevel))
