"""Exception and warning types of gobrs.

The classes mirror boto3-refresh-session's: every error is a
:class:`BRSError` carrying optional ``code``, ``status_code``, ``details``,
``param`` and ``value`` fields, and the subclasses say what went wrong. The
status codes of the C library (``include/brs.h``) map one to one onto them.
"""

from __future__ import annotations

__all__ = [
    "BRSClosedError",
    "BRSConfigurationError",
    "BRSConnectionError",
    "BRSCredentialError",
    "BRSError",
    "BRSForkError",
    "BRSRequestError",
    "BRSValidationError",
    "BRSWarning",
]

import reprlib
import warnings
from typing import Any, Dict, List, Tuple

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
        super().__init__(self.message)

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

    When the user's own credential getter raised, the original exception is
    the ``__cause__`` of this error.
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

        warnings.warn(cls(message), stacklevel=stacklevel)
