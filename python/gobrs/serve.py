"""The container-credentials server of ``gobrs serve`` (``brs_serve``).

One :class:`Server` serves one session of the Go library on a loopback
address with the AWS container-credentials protocol, so that every process
on the host whose SDK has ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and
``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` set reads that one session
(docs/serve.md). The server itself runs in Go (core/credserver/http.go);
this module only calls it::

    from gobrs import RefreshableSession
    from gobrs.serve import Server

    session = RefreshableSession(method="custom", custom_credentials_method=getter)
    with Server(session) as server:
        print(server.env_lines())  # for the processes that read it
"""

from __future__ import annotations

__all__ = ["Server", "URL_VAR", "TOKEN_FILE_VAR"]

import ctypes
import json
import weakref
from ctypes import byref, c_uint64, c_void_p
from types import TracebackType
from typing import Any, Dict, Mapping, Optional, Type

from ._lib import OK, BrsError, NativeSession, _raise_status, load
from .exceptions import BRSValidationError

#: The variables that point an AWS SDK at a container-credentials server.
URL_VAR = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_FILE_VAR = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"


def _native_of(session: Any) -> NativeSession:
    """The library session of a gobrs session (or of a NativeSession)."""

    if isinstance(session, NativeSession):
        return session
    native = getattr(getattr(session, "_credentials", None), "_native", None)
    if isinstance(native, NativeSession):
        return native
    raise BRSValidationError(
        f"session must be a gobrs session made in this process, not {type(session).__name__}", param="session"
    )


class Server:
    """A running container-credentials server of one session.

    Parameters
    ----------
    session : RefreshableSession | NativeSession
        The session to serve: a gobrs session (``RefreshableSession`` and
        the other classes, custom getters included: they run in this
        process) or a :class:`gobrs._lib.NativeSession`. It stays the
        caller's: close it after :meth:`stop`.
    options : Mapping[str, Any], optional
        The ``options_json`` keys of ``brs_serve`` (include/brs.h):
        ``listen``, ``path``, ``token_file``, ``env_file``,
        ``max_connections``, ``max_header_bytes``, ``max_headers``,
        ``max_requests_per_second``, ``request_timeout``.

    Raises
    ------
    BRSValidationError
        For a bad option (``param`` names it), a non-loopback ``listen``
        included.
    BRSConfigurationError
        When the address cannot be bound or a file cannot be written.
    BRSClosedError
        When the session is closed.
    """

    def __init__(self, session: Any, options: Optional[Mapping[str, Any]] = None) -> None:
        native = _native_of(session)
        self._lib = load()
        self._id = 0
        data = json.dumps(dict(options or {}), allow_nan=False).encode("utf-8")
        out, err = c_uint64(0), BrsError()
        rc = self._lib.brs_serve(native._handle, data, byref(out), byref(err))
        if rc != OK:
            _raise_status(self._lib, rc, err, None)
        self._id = out.value
        # stopped (its files removed) when collected, or at exit at the latest
        self._finalizer = weakref.finalize(self, self._lib.brs_serve_stop, self._id)
        info = self.info()
        #: The value of AWS_CONTAINER_CREDENTIALS_FULL_URI.
        self.url: str = info["url"]
        #: The absolute path of the token file (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).
        self.token_file: str = info["token_file"]

    def info(self) -> Dict[str, Any]:
        """Return ``brs_serve_info``: url, token_file, address and the counts
        served, refused and failed. It holds no secret.

        Raises
        ------
        BRSClosedError
            After :meth:`stop`.
        """

        out, err = c_void_p(), BrsError()
        rc = self._lib.brs_serve_info(self._id, byref(out), byref(err))
        if rc != OK:
            _raise_status(self._lib, rc, err, None)
        try:
            result: Dict[str, Any] = json.loads(ctypes.string_at(out.value) if out.value else b"{}")
        finally:
            self._lib.brs_free(out)
        return result

    def env(self) -> Dict[str, str]:
        """The two variables that point an AWS SDK at this server."""

        return {URL_VAR: self.url, TOKEN_FILE_VAR: self.token_file}

    def env_lines(self) -> str:
        """``NAME=value`` lines of :meth:`env`, each ending in a newline."""

        return "".join(f"{k}={v}\n" for k, v in self.env().items())

    def stop(self) -> None:
        """Stop serving and remove the token file (and env file). Safe to
        call more than once."""

        if self._id:
            self._finalizer()  # brs_serve_stop, once
            self._id = 0

    def __enter__(self) -> "Server":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<gobrs.serve.Server {self.url if self._id else 'stopped'}>"
