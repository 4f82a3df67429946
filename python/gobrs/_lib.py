"""ctypes bindings to libbrs.so, the Go core of gobrs (``include/brs.h``).

Nothing here runs at import: the library is loaded by :func:`load`, which the
first session calls. ``GOBRS_LIBRARY`` names the library to load; by default
it is the ``libbrs.so`` installed next to this file.

Calls into the library go through :class:`ctypes.CDLL`, which releases the
GIL for the duration of each call; the callbacks the library makes
(credential getters, log lines) take the GIL, from whatever thread the Go
runtime runs them on.

The Go runtime does not survive ``fork``: a child forked after the library
was loaded never calls into it. Right before such a fork the parent opens its
channel (``brs_channel_open``), and the child reads the parent's sessions
through it in pure Python (:mod:`gobrs._channel`); the parent's Go runtime
answers. A child of a parent that never loaded the library loads its own and
works.
"""

from __future__ import annotations

__all__ = [
    "FORK_MESSAGE",
    "PICKLE_MESSAGE",
    "CallbackState",
    "Handler",
    "NativeSession",
    "Sealed",
    "forked",
    "library_path",
    "load",
    "refuse_pickle",
    "track",
    "unseal",
    "version",
]

import _thread
import atexit
import ctypes
import json
import logging
import os
import queue
import threading
import weakref
from ctypes import POINTER, byref, c_char_p, c_int, c_int64, c_size_t, c_uint64, c_void_p
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Tuple, Type, TypeVar, cast

from . import _channel
from .exceptions import (
    BRSClientError,
    BRSClosedError,
    BRSConfigurationError,
    BRSConnectionClosedError,
    BRSConnectionError,
    BRSConnectTimeoutError,
    BRSCredentialError,
    BRSEndpointConnectionError,
    BRSError,
    BRSExpiredCredentialError,
    BRSExpiryFormatError,
    BRSForkError,
    BRSParamValidationError,
    BRSPickleError,
    BRSReadTimeoutError,
    BRSRequestError,
    BRSServiceValidationError,
    BRSSSLError,
    BRSTimeoutError,
    BRSTypeError,
    BRSValidationError,
)

# Status codes (brs.h).
OK = 0
ERROR = 1
EVALIDATION = 2
ECONFIGURATION = 3
ECREDENTIAL = 4
ECONNECTION = 5
EREQUEST = 6
ECLOSED = 7
EFORKED = 8

# What a callback is asked for (brs.h).
REQ_CREDENTIALS = 1
REQ_SOURCE_CREDENTIALS = 2
REQ_MFA_TOKEN = 3

_ERRORS: Dict[int, Type[BRSError]] = {
    ERROR: BRSError,
    EVALIDATION: BRSValidationError,
    ECONFIGURATION: BRSConfigurationError,
    ECREDENTIAL: BRSCredentialError,
    ECONNECTION: BRSConnectionError,
    EREQUEST: BRSRequestError,
    ECLOSED: BRSClosedError,
    EFORKED: BRSForkError,
}

FORK_MESSAGE = (
    "gobrs cannot create a session in a process forked after gobrs started "
    "(the Go runtime does not survive fork): create the session before the "
    "fork (forked processes read it through the parent), or use the 'spawn' "
    "or 'forkserver' start method of multiprocessing"
)

CLOSED_MESSAGE = "the session is closed; create a new session"

PICKLE_MESSAGE = (
    "a gobrs session or its credentials cannot be pickled or copied (to send "
    "it to another process, say): its Go session belongs to this process; "
    "create a session in each process that needs one"
)


class Sealed:
    """A value that may hold secrets (a config with a key, a PIN...), passed
    around without showing it: its repr is masked, so that error trackers
    and traceback formatters that capture the locals of frames (Sentry, rich)
    see no secret. :func:`unseal` returns the value.
    """

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<gobrs sealed value>"

    def __reduce_ex__(self, protocol: Any) -> Any:
        return refuse_pickle()


def unseal(value: Any) -> Any:
    """The value inside a :class:`Sealed`, or ``value`` itself."""

    return value._value if isinstance(value, Sealed) else value


def refuse_pickle() -> Any:
    """Raise the error of an attempt to pickle or copy a session.

    Raises
    ------
    BRSPickleError
        Always.
    """

    raise BRSPickleError(PICKLE_MESSAGE)


class BrsError(ctypes.Structure):
    """``struct brs_error``."""

    _fields_ = [
        ("status", c_int),
        ("http_status", c_int),
        ("message", c_char_p),
        ("param", c_char_p),
        ("value", c_char_p),
        ("aws_code", c_char_p),
        ("details", c_char_p),
    ]


class BrsCredentials(ctypes.Structure):
    """``struct brs_credentials``."""

    _fields_ = [
        ("access_key", c_char_p),
        ("secret_key", c_char_p),
        ("token", c_char_p),
        ("expiry_time", c_char_p),
        ("expiry_unix_ms", c_int64),
        ("valid_for_ms", c_int64),
    ]


#: ``brs_callback``: int (*)(void *user_data, int request, brs_result *result)
CALLBACK = ctypes.CFUNCTYPE(c_int, c_void_p, c_int, c_void_p)
#: ``brs_log_fn``: void (*)(void *user_data, int level, const char *message)
LOG_FN = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_char_p)
#: ``brs_refresh_fn``: void (*)(void *user_data, const struct brs_credentials *creds)
REFRESH_FN = ctypes.CFUNCTYPE(None, c_void_p, POINTER(BrsCredentials))

_logger = logging.getLogger("gobrs")
_logger.addHandler(logging.NullHandler())  # a library: silent unless the application configures logging

_load_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_loaded_pid: Optional[int] = None
#: The pid of the process loading the library right now (under _load_lock).
_loading_pid: Optional[int] = None
#: The channel serving this process's sessions to forked children: opened
#: by the process that loaded the library at its first fork, inherited by
#: its descendants.
_served: Optional[_channel.Channel] = None
_log_fn: Any = None  # the ctypes log callback, kept alive for the process
_tracked: "weakref.WeakSet[_Invalidatable]" = weakref.WeakSet()

#: The ctypes callbacks of every open Go session, by handle: they are
#: released only once the Go session is really closed, never while Go may
#: still call them.
_callbacks: Dict[int, Tuple[Any, ...]] = {}
#: Handles the garbage collector dropped, for the closer thread to close.
_to_close: "queue.SimpleQueue[int]" = queue.SimpleQueue()
_closer_pid: Optional[int] = None
_exiting = False
#: How long interpreter exit waits for the Go sessions to close (a
#: callback that never returns must not hold the exit).
EXIT_CLOSE_SECONDS = 1.0

#: Per thread: the handle of the session whose callback the thread runs.
_tls = threading.local()
#: While a session's callback reads another session: reader -> read handle.
_waits: Dict[int, int] = {}


class _Invalidatable(Protocol):
    def invalidate(self) -> None: ...


def library_path() -> str:
    """Return the path of the library :func:`load` loads.

    Returns
    -------
    str
        ``$GOBRS_LIBRARY`` when set, else the ``libbrs.so`` installed inside
        the gobrs package.
    """

    env = os.environ.get("GOBRS_LIBRARY")
    if env:
        return env
    return str(Path(__file__).resolve().with_name("libbrs.so"))


def forked() -> bool:
    """Whether this process was forked after the library was loaded."""

    return _loaded_pid is not None and _loaded_pid != os.getpid()


def load() -> ctypes.CDLL:
    """Load libbrs.so once per process and return it.

    Returns
    -------
    ctypes.CDLL
        The library, its functions declared.

    Raises
    ------
    BRSForkError
        In a child forked after the library was loaded.
    BRSConfigurationError
        When the library cannot be found or loaded.
    """

    global _loading_pid
    if forked():
        raise BRSForkError(FORK_MESSAGE)
    lib = _lib
    if lib is None:
        with _load_lock:
            lib = _lib
            if lib is None:
                _loading_pid = os.getpid()
                try:
                    lib = _load_locked()
                finally:
                    _loading_pid = None
    return lib


def _load_locked() -> ctypes.CDLL:
    global _lib, _loaded_pid, _log_fn
    path = library_path()
    if not os.path.exists(path):
        raise BRSConfigurationError(
            f"the gobrs library was not found at {path}: reinstall gobrs "
            "(pip install builds it with Go) or set GOBRS_LIBRARY to the "
            "path of libbrs.so",
            param="GOBRS_LIBRARY",
            value=path,
        )
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:
        raise BRSConfigurationError(
            f"the gobrs library at {path} could not be loaded: {exc}",
            param="GOBRS_LIBRARY",
            value=path,
        ) from exc
    try:
        _declare(lib)
    except AttributeError as exc:
        raise BRSConfigurationError(
            f"{path} is not a gobrs library (missing {exc})",
            param="GOBRS_LIBRARY",
            value=path,
        ) from exc
    _log_fn = LOG_FN(_forward_log)
    lib.brs_set_logger(_log_fn, None)
    _lib, _loaded_pid = lib, os.getpid()
    # Silence the logger before the interpreter goes away, so that no Go
    # thread calls into a finalizing interpreter (the sessions themselves
    # are closed by weakref.finalize's own exit hook).
    atexit.register(_at_exit)
    return lib


def _declare(lib: ctypes.CDLL) -> None:
    """Declare argument and result types of every brs_* function."""

    err_p = POINTER(BrsError)
    creds_p = POINTER(BrsCredentials)
    sigs: Dict[str, Tuple[Any, List[Any]]] = {
        "brs_version": (c_char_p, []),
        "brs_errstr": (c_char_p, [c_int]),
        "brs_new_session": (c_int, [c_char_p, CALLBACK, c_void_p, POINTER(c_uint64), err_p]),
        "brs_credentials": (c_int, [c_uint64, creds_p, err_p]),
        "brs_credentials_into": (c_int, [c_uint64, c_char_p, c_size_t, creds_p, err_p]),
        "brs_refresh": (c_int, [c_uint64, creds_p, err_p]),
        "brs_whoami": (c_int, [c_uint64, POINTER(c_void_p), err_p]),
        "brs_warnings": (c_int, [c_uint64, POINTER(c_void_p), err_p]),
        "brs_close_session": (c_int, [c_uint64]),
        "brs_close_all": (c_int, [c_int64]),
        "brs_result_set": (c_int, [c_void_p, c_char_p, c_char_p]),
        "brs_on_refresh": (c_int, [c_uint64, REFRESH_FN, c_void_p]),
        "brs_set_logger": (c_int, [LOG_FN, c_void_p]),
        "brs_free": (None, [c_void_p]),
        "brs_credentials_clear": (None, [creds_p]),
        "brs_error_clear": (None, [err_p]),
        "brs_channel_open": (c_int, [c_char_p, POINTER(c_void_p), POINTER(c_void_p), err_p]),
        "brs_channel_close": (c_int, []),
        "brs_host_serve": (c_int, [c_int, c_char_p]),  # called by the helper of gobrs._host
        "brs_serve": (c_int, [c_uint64, c_char_p, POINTER(c_uint64), err_p]),
        "brs_serve_info": (c_int, [c_uint64, POINTER(c_void_p), err_p]),
        "brs_serve_stop": (c_int, [c_uint64]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def _forward_log(_user_data: Any, level: int, message: Optional[bytes]) -> None:
    """Forward one log line of the library to ``logging.getLogger("gobrs")``."""

    try:
        if level < 0:
            py_level = logging.DEBUG
        elif level < 4:
            py_level = logging.INFO
        elif level < 8:
            py_level = logging.WARNING
        else:
            py_level = logging.ERROR
        if _logger.isEnabledFor(py_level):
            text = message.decode("utf-8", "replace") if message else ""
            _logger.log(py_level, "%s", text)
    except BaseException:  # never let an exception unwind into Go
        pass


def _at_exit() -> None:
    """Close every Go session, waiting at most EXIT_CLOSE_SECONDS.

    A session whose callback is still running after that (a getter that
    never returns) is left to the end of the process: its callbacks are
    kept for ever, so that Go never calls freed memory.
    """

    global _exiting
    _exiting = True
    lib = _lib
    if lib is None or forked():
        return
    lib.brs_set_logger(LOG_FN(), None)
    if _served is not None:
        lib.brs_channel_close()  # removes the socket
    if lib.brs_close_all(int(EXIT_CLOSE_SECONDS * 1000)) != OK:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(_callbacks))
    else:
        _callbacks.clear()


def _open_channel(lib: ctypes.CDLL) -> _channel.Channel:
    """Open this process's channel (``brs_channel_open``).

    ``GOBRS_CHANNEL_DIR`` names the socket's directory; by default it is
    ``$XDG_RUNTIME_DIR/gobrs`` or ``/tmp/gobrs-<uid>``.
    """

    where = os.environ.get("GOBRS_CHANNEL_DIR")
    path, token, err = c_void_p(), c_void_p(), BrsError()
    rc = lib.brs_channel_open(where.encode() if where else None, byref(path), byref(token), byref(err))
    if rc != OK:
        _raise_status(lib, rc, err, None)
    try:
        if not path.value or not token.value:
            raise BRSError("brs_channel_open returned no path or token")
        return _channel.Channel(
            ctypes.string_at(path.value).decode(), ctypes.string_at(token.value).decode(), os.getpid()
        )
    finally:
        lib.brs_free(path)
        lib.brs_free(token)


def _before_fork() -> None:
    """Open the channel before the first fork of a process with sessions."""

    global _served
    lib = _lib
    if lib is None or _served is not None or forked() or not _tracked:
        return
    try:
        _served = _open_channel(lib)
    except Exception as exc:  # a fork hook must not raise; children will report it
        _logger.warning("gobrs: forked processes cannot read this process's sessions: %s", exc)


def _after_fork_in_child() -> None:
    """Make the child safe: a lock the parent held is new, a library the
    parent was loading counts as loaded, and every Python-side copy of the
    parent's credentials is dropped so that the next read asks the parent."""

    global _load_lock, _loaded_pid, _loading_pid
    _load_lock = threading.Lock()
    if _loading_pid is not None:  # forked while another thread loaded Go
        _loaded_pid, _loading_pid = _loading_pid, None
    for obj in list(_tracked):
        try:
            obj.invalidate()
        except Exception:  # pragma: no cover - invalidate only assigns
            pass


def track(obj: _Invalidatable) -> None:
    """Have ``obj.invalidate()`` called in a forked child of this process."""

    _tracked.add(obj)


def version() -> str:
    """Return the version of the loaded library (loading it if needed)."""

    raw = load().brs_version()
    return raw.decode("ascii", "replace") if raw else ""


#: A method's callback handler: given the request (REQ_CREDENTIALS,
#: REQ_SOURCE_CREDENTIALS or REQ_MFA_TOKEN) it returns the answer's keys
#: and values (all str), or raises.
Handler = Callable[[int], Mapping[str, str]]


class CallbackState:
    """What the library's callback needs: the handler and its last failure.

    It never references the session, so that a session (and its
    credentials) can be collected while the library holds the callback.

    Parameters
    ----------
    handler : Handler
        Answers the library's requests.
    param : str
        The user-facing parameter the handler stands for (e.g.
        ``"custom_credentials_method"``), named in errors.
    """

    __slots__ = ("handler", "param", "last_exc", "thread", "handle")

    def __init__(self, handler: Handler, param: str) -> None:
        self.handler = handler
        self.param = param
        #: The exception the handler raised in its latest call, if any.
        self.last_exc: Optional[BaseException] = None
        #: The thread running the handler right now, if any.
        self.thread: Optional[int] = None
        #: The session's handle (0 until brs_new_session returned).
        self.handle = 0


def _make_callback(state: CallbackState) -> Any:
    """Wrap ``state.handler`` into a ``brs_callback`` that never raises."""

    def trampoline(_user_data: Any, request: int, result: Any) -> int:
        state.thread = threading.get_ident()
        state.last_exc = None
        outer = getattr(_tls, "inside", 0)
        _tls.inside = state.handle
        try:
            answer = state.handler(request)
            lib = _lib
            assert lib is not None
            for key, value in answer.items():
                if not isinstance(value, str):
                    raise BRSCredentialError(
                        f"{key!r} must be a string, not {type(value).__name__}",
                        param=key,
                    )
                if "\x00" in value:
                    raise BRSCredentialError(f"{key!r} contains a NUL character", param=key)
                try:
                    encoded = value.encode("utf-8")
                except UnicodeEncodeError:
                    encoded = None
                if encoded is None:
                    # raised outside the except clause: the encode error,
                    # which holds the whole value, is not its context
                    raise BRSCredentialError(f"{key!r} is not valid Unicode text (a lone surrogate)", param=key)
                if lib.brs_result_set(result, key.encode(), encoded) != OK:
                    raise BRSCredentialError(f"{key!r} was refused by gobrs", param=key)
            return 0
        except BaseException as exc:  # nothing may unwind into Go
            state.last_exc = exc
            try:
                if isinstance(exc, BRSError):
                    text = exc.message
                else:
                    text = f"{state.param} raised {type(exc).__name__}"
                if _lib is not None:
                    _lib.brs_result_set(result, b"error", text.encode("utf-8", "replace"))
            except BaseException:
                pass
            return 1
        finally:
            state.thread = None
            _tls.inside = outer

    return CALLBACK(trampoline)


def _text(raw: Optional[bytes]) -> Optional[str]:
    return raw.decode("utf-8", "replace") if raw else None


def _raise_status(lib: ctypes.CDLL, rc: int, err: BrsError, state: Optional[CallbackState]) -> None:
    """Release ``err`` and raise the error that ``rc`` and ``err`` describe.

    A credential failure caused by an exception in the Python handler (the
    user's getter or MFA callable) is raised as that very exception object,
    as boto3-refresh-session lets it through. Otherwise the BRS* class of
    ``rc`` is raised, or the subclass of it that is also the class botocore
    would raise (``err.details``, see :func:`_error`).
    """

    try:
        message = _text(err.message) or f"gobrs call failed with status {rc}"
        param = _text(err.param)
        value = _text(err.value)
        code = _text(err.aws_code)
        status_code = err.http_status or None
        details = _details(err.details)
    finally:
        lib.brs_error_clear(byref(err))
    exc = state.last_exc if (state is not None and rc == ECREDENTIAL) else None
    if exc is not None:
        raise exc
    if rc == EFORKED:
        raise BRSForkError(FORK_MESSAGE)
    if rc == ECLOSED:
        raise BRSClosedError(CLOSED_MESSAGE)
    raise _error(rc, message, code, status_code, param, value, details)


def _details(raw: Optional[bytes]) -> Dict[str, Any]:
    """``brs_error.details``: a JSON object, or {}."""

    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


_CONNECTION_ERRORS: Dict[str, Type[BRSConnectionError]] = {
    "endpoint": BRSEndpointConnectionError,
    "connect_timeout": BRSConnectTimeoutError,
    "read_timeout": BRSReadTimeoutError,
    "closed": BRSConnectionClosedError,
    "tls": BRSSSLError,
    "timeout": BRSTimeoutError,
}

_EXPIRY_ERRORS: Dict[str, Type[BRSCredentialError]] = {
    "expired": BRSExpiredCredentialError,
    "unparsable": BRSExpiryFormatError,
}


def _error(
    rc: int,
    message: str,
    code: Optional[str],
    status_code: Optional[int],
    param: Optional[str],
    value: Optional[str],
    details: Dict[str, Any],
) -> BRSError:
    """The exception for status ``rc``: its BRS* class, or the subclass of
    it that is also botocore's class for the same failure (``details``)."""

    fields: Dict[str, Any] = {"code": code, "status_code": status_code, "param": param, "value": value}
    operation = details.get("operation")
    if rc == EREQUEST and operation:
        response = _response(code, details.get("error_message", message), status_code, details.get("request_id"))
        return BRSClientError(message, response=response, operation_name=operation.split(" ")[0], **fields)
    if rc == ECONNECTION and details.get("connection") in _CONNECTION_ERRORS:
        cls = _CONNECTION_ERRORS[details["connection"]]
        if cls is BRSTimeoutError:
            return cls(message, **fields)
        return cls(message, endpoint_url=details.get("endpoint"), **fields)  # type: ignore[call-arg]
    if rc == EVALIDATION and details.get("botocore") == "ParamValidationError":
        return BRSParamValidationError(message, **fields)
    if rc == EVALIDATION and details.get("wrong_type") is True:
        return BRSTypeError(message, **fields)
    if rc == EVALIDATION and details.get("botocore") == "ClientError":
        response = _response(details.get("error_code"), message, details.get("http_status"), None)
        return BRSServiceValidationError(message, response=response, operation_name=details.get("operation"), **fields)
    if rc == ECREDENTIAL and details.get("reason") in _EXPIRY_ERRORS:
        return _EXPIRY_ERRORS[details["reason"]](message, **fields)
    return _ERRORS.get(rc, BRSError)(message, **fields)


def _response(code: Any, message: Any, status: Any, request_id: Any) -> Dict[str, Any]:
    """An error response shaped as botocore parses one."""

    metadata: Dict[str, Any] = {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}
    if request_id:
        metadata["RequestId"] = request_id
    return {"Error": {"Type": "Sender", "Code": code or "", "Message": message or ""}, "ResponseMetadata": metadata}


#: What NativeSession.credentials returns: access key, secret key, token,
#: expiry (ISO 8601), expiry (Unix ms), how long it may be reused (ms).
CredentialsTuple = Tuple[str, str, str, str, int, int]
#: What a function handed to _interruptibly or _from_callback returns.
_T = TypeVar("_T")


class NativeSession:
    """One open session of the library and the callback it may call.

    The session is closed by :meth:`close` or, at the latest, when this
    object is collected or the interpreter exits. The callback object stays
    alive until the library's session is closed (the library never calls it
    after that).

    Parameters
    ----------
    config : Mapping[str, Any] | Sealed
        The JSON config of ``brs_new_session`` (include/brs.h), sealed
        when it holds secrets.
    handler : Handler, optional
        Answers the library's callback requests; None for no callback.
    param : str, optional
        The parameter the handler stands for, named in errors.
    """

    __slots__ = ("_lib", "_handle", "_state", "_finalizer", "_closed", "_buf", "_buf_lock", "_listener", "__weakref__")

    def __init__(self, config: Mapping[str, Any], handler: Optional[Handler] = None, param: str = "callback") -> None:
        self._closed = False
        lib = load()
        try:
            data = Sealed(json.dumps(dict(unseal(config)), allow_nan=False).encode("utf-8"))
        except (TypeError, ValueError) as exc:
            where, bad = _unencodable(dict(unseal(config)), "")
            raise BRSValidationError(
                f"{where or 'the session configuration'} must be text, a number, a bool, a list or a dict, "
                f"not {type(bad).__name__}" + (f" {bad!r}" if isinstance(bad, float) else ""),
                param=where or None,
            ) from None if where else exc
        del config  # no secret stays in a local of a frame a traceback may show
        state = CallbackState(handler, param) if handler is not None else None
        callback = _make_callback(state) if state is not None else CALLBACK()
        handle = c_uint64(0)
        err = BrsError()
        rc = _interruptibly(_new_session, lib, data, callback, byref(handle), byref(err))
        del data
        if rc != OK:
            _raise_status(lib, rc, err, state)
        _start_closer()
        self._lib = lib
        self._handle = handle.value
        self._state = state
        if state is not None:
            state.handle = handle.value
        self._buf = BrsCredentials()
        self._buf_lock = threading.Lock()
        self._listener = _Listener()
        pushed = _make_listener(self._listener)
        _callbacks[self._handle] = (callback, pushed)
        # The collector may run anywhere, a Go callback thread of this very
        # session included: _close_handle hands the close to the closer
        # thread where it may not wait. Exit is _at_exit's.
        self._finalizer = weakref.finalize(self, _close_handle, lib, self._handle)
        self._finalizer.atexit = False
        lib.brs_on_refresh(self._handle, pushed, None)

    def listen(self, fn: Callable[[CredentialsTuple], Any]) -> None:
        """Have every refreshed set pushed to ``fn`` (``brs_on_refresh``).

        ``fn(values)`` gets what :meth:`credentials` returns. It runs on a library thread; it
        is held weakly (a bound method does not keep its object alive) and
        its exceptions are swallowed.
        """

        self._listener.target = weakref.WeakMethod(fn) if hasattr(fn, "__self__") else weakref.ref(fn)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""

        return self._closed

    def __reduce_ex__(self, protocol: Any) -> Any:
        return refuse_pickle()

    def _check(self) -> Optional[_channel.Channel]:
        """Refuse a closed session; in a forked child, return the channel
        to read it through (None in the process that runs it)."""

        if self._closed:
            raise BRSClosedError(CLOSED_MESSAGE)
        if forked():
            if _served is None:
                raise BRSForkError(
                    "the process that created this session opened no channel before the fork "
                    "(see the gobrs log); " + FORK_MESSAGE
                )
            return _served
        return None

    def credentials(self, refresh: bool = False) -> CredentialsTuple:
        """Return the current credentials (``brs_credentials``).

        Parameters
        ----------
        refresh : bool, optional
            Force a refresh first (``brs_refresh``). Default is False.

        Returns
        -------
        CredentialsTuple
            Access key, secret key, token, expiry (ISO 8601), expiry (Unix
            ms), and the milliseconds during which they may be reused.
        """

        served = self._check()
        if served is not None:
            return _channel.credentials(served, self._handle, refresh)
        inside = getattr(_tls, "inside", 0)
        if inside:
            return self._from_callback(inside, self._read, refresh)
        return _interruptibly(self._read, refresh)

    def _read(self, refresh: bool) -> CredentialsTuple:
        lib = self._lib
        own = self._buf_lock.acquire(False)
        out = self._buf if own else BrsCredentials()
        try:
            err = BrsError()
            fn = lib.brs_refresh if refresh else lib.brs_credentials
            rc = fn(self._handle, byref(out), byref(err))
            if rc != OK:
                _raise_status(lib, rc, err, self._state)
            try:
                return _decode(out)
            finally:
                lib.brs_credentials_clear(byref(out))
        finally:
            if own:
                self._buf_lock.release()

    def _from_callback(self, inside: int, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn(*args)`` for a callback of session ``inside`` reading this
        one, unless that closes a cycle of sessions waiting for each other's
        callbacks (A's getter reads B whose getter reads A), which would
        deadlock: that raises BRSError at once."""

        handle, seen = self._handle, set()
        while handle and handle not in seen:
            if handle == inside:
                raise BRSError(
                    "a session's credential callback reads a session whose callback is waiting for it "
                    "(directly or through other sessions); this would deadlock"
                )
            seen.add(handle)
            handle = _waits.get(handle, 0)
        _waits[inside] = self._handle
        try:
            return fn(*args)
        finally:
            _waits.pop(inside, None)

    def whoami(self) -> Dict[str, Any]:
        """Return the identity of the credentials (``brs_whoami``)."""

        served = self._check()
        if served is not None:
            return _channel.whoami(served, self._handle)
        lib = self._lib
        out = c_void_p()
        err = BrsError()
        inside = getattr(_tls, "inside", 0)
        if inside:
            rc = self._from_callback(inside, lib.brs_whoami, self._handle, byref(out), byref(err))
        else:
            rc = _interruptibly(lib.brs_whoami, self._handle, byref(out), byref(err))
        if rc != OK:
            _raise_status(lib, rc, err, self._state)
        result = _take_json(lib, out, b"{}")
        return result if isinstance(result, dict) else {"identity": result}

    def warnings(self) -> List[Dict[str, str]]:
        """What the session does otherwise than its config asked
        (``brs_warnings``): ``{"param", "message"[, "value"]}`` each."""

        lib = self._lib
        out = c_void_p()
        err = BrsError()
        rc = lib.brs_warnings(self._handle, byref(out), byref(err))
        if rc != OK:
            _raise_status(lib, rc, err, self._state)
        return [w for w in _take_json(lib, out, b"[]") if isinstance(w, dict)]

    def close(self) -> None:
        """Close the library's session, waiting for a refresh in flight.

        Safe to call more than once. It must not be called from inside the
        session's own callback (the library would wait for it).
        """

        state = self._state
        if state is not None and state.thread == threading.get_ident():
            raise BRSError("a session cannot be closed from inside its own credential callback")
        self._closed = True
        if self._finalizer.detach() is not None:
            _close_handle(self._lib, self._handle)


def _take_json(lib: ctypes.CDLL, out: c_void_p, default: bytes) -> Any:
    """Decode the JSON text the library returned in ``out``, and free it."""

    try:
        return json.loads(ctypes.string_at(out.value) if out.value else default)
    finally:
        lib.brs_free(out)


def _new_session(lib: ctypes.CDLL, data: Sealed, callback: Any, handle: Any, err: Any) -> int:
    """``brs_new_session`` of the sealed JSON config ``data``."""

    return lib.brs_new_session(unseal(data), callback, None, handle, err)  # type: ignore[no-any-return]


def _unencodable(value: Any, path: str) -> Tuple[str, Any]:
    """The config path (``"a.b[0]"``) and value of the first part of
    ``value`` that JSON cannot encode, or ``("", None)``."""

    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return path, key
            where, bad = _unencodable(item, f"{path}.{key}" if path else str(key))
            if where:
                return where, bad
        return "", None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            where, bad = _unencodable(item, f"{path}[{i}]")
            if where:
                return where, bad
        return "", None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return path, value
    return "", None


class _Listener:
    """Where a session's refresh pushes go: a weak reference, or None."""

    __slots__ = ("target",)

    def __init__(self) -> None:
        self.target: Optional[Callable[[], Any]] = None


def _decode(out: BrsCredentials) -> CredentialsTuple:
    return (
        out.access_key.decode("utf-8"),
        out.secret_key.decode("utf-8"),
        out.token.decode("utf-8"),
        out.expiry_time.decode("utf-8"),
        int(out.expiry_unix_ms),
        max(0, int(out.valid_for_ms)),
    )


def _make_listener(holder: _Listener) -> Any:
    """The ``brs_refresh_fn`` of a session: decode and hand to the target."""

    def on_refresh(_user_data: Any, creds: Any) -> None:
        try:
            ref = holder.target
            fn = ref() if ref is not None else None
            if fn is not None:
                fn(_decode(creds.contents))
        except BaseException:  # nothing may propagate into C
            _logger.debug("gobrs: a refresh push could not be applied")

    return REFRESH_FN(on_refresh)


def _close_handle(lib: ctypes.CDLL, handle: int) -> None:
    """Close ``handle`` now, or have the closer thread do it when this
    thread may not (it runs one of the session's own callbacks); its
    callbacks are released only once the Go session is closed."""

    if forked() or _exiting:
        return  # the parent owns the handle / _at_exit closes everything
    rc = lib.brs_close_session(handle)
    if rc == ERROR:  # refused: this thread is inside the session's callback
        _to_close.put(handle)
    else:
        _callbacks.pop(handle, None)


def _start_closer() -> None:
    """Start this process's closer thread, once."""

    global _closer_pid
    if _closer_pid == os.getpid():
        return
    with _load_lock:
        if _closer_pid != os.getpid():
            threading.Thread(target=_closer, name="gobrs-close", daemon=True).start()
            _closer_pid = os.getpid()


def _closer() -> None:
    """Close the sessions the garbage collector dropped.

    The collector runs finalizers on whatever thread allocates, a Go
    callback thread of the very session being collected included, where
    closing it would deadlock (and was refused): it only queues the handle,
    and this thread, which never runs a callback, closes it.
    """

    while True:
        handle = _to_close.get()
        lib = _lib
        if lib is None or forked() or _exiting:
            continue
        try:
            _close_handle(lib, handle)
        except BaseException:  # pragma: no cover - a ctypes call that raised
            _logger.debug("gobrs: a collected session could not be closed")


def _interruptibly(fn: Callable[..., _T], *args: Any) -> _T:
    """Call ``fn(*args)``, which may block in Go, so that Ctrl-C reaches the
    main thread at once.

    Python runs signal handlers on the main thread only, between bytecodes:
    a main thread blocked in a Go call would see Ctrl-C only when the call
    returns. There the call runs on a helper thread while the main thread
    waits on a lock, waking every 50 ms for signals delivered to another
    thread. Other threads call directly.
    The per-request path (a valid Python-side copy) never comes here.
    """

    if _thread.get_ident() != threading.main_thread().ident:
        return fn(*args)
    if not _idle_helpers.acquire(False):
        try:
            threading.Thread(target=_helper, name="gobrs-call", daemon=True).start()
        except RuntimeError:  # no new thread at interpreter exit: call here
            return fn(*args)
    job = _Job(fn, args)
    _jobs.put(job)
    # KeyboardInterrupt leaves the helper to finish alone. The timeout: a
    # signal the kernel delivered to another thread (a Go thread, say) is
    # run by this one only when it next wakes.
    while not job.done.acquire(timeout=0.05):
        pass
    if job.exc is not None:
        try:
            raise job.exc
        finally:
            job.exc = None
    return cast(_T, job.result)


class _Job:
    """One call handed to a helper thread."""

    __slots__ = ("fn", "args", "result", "exc", "done")

    def __init__(self, fn: Callable[..., Any], args: Tuple[Any, ...]) -> None:
        self.fn, self.args = fn, args
        self.result: Any = None
        self.exc: Optional[BaseException] = None
        self.done = _thread.allocate_lock()
        self.done.acquire()


_jobs: "queue.SimpleQueue[_Job]" = queue.SimpleQueue()
#: One count per helper thread waiting for a job.
_idle_helpers = threading.Semaphore(0)


def _helper() -> None:
    while True:
        job = _jobs.get()
        try:
            job.result = job.fn(*job.args)
        except BaseException as exc:
            job.exc = exc
        job.fn = job.args = None  # type: ignore[assignment]
        job.done.release()
        _idle_helpers.release()


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
