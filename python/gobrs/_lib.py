"""ctypes bindings to libbrs.so, the Go core of gobrs (``include/brs.h``).

Nothing here runs at import: the library is loaded by :func:`load`, which the
first session calls. ``GOBRS_LIBRARY`` names the library to load; by default
it is the ``libbrs.so`` installed next to this file.

Calls into the library go through :class:`ctypes.CDLL`, which releases the
GIL for the duration of each call; the callbacks the library makes
(credential getters, log lines) take the GIL, from whatever thread the Go
runtime runs them on.

The Go runtime does not survive ``fork``: a child forked after the library
was loaded gets :class:`~gobrs.exceptions.BRSForkError` from every call,
without the library being touched. A child of a parent that never loaded the
library loads its own and works.
"""

from __future__ import annotations

__all__ = [
    "FORK_MESSAGE",
    "PICKLE_MESSAGE",
    "CallbackState",
    "Handler",
    "NativeSession",
    "forked",
    "library_path",
    "load",
    "refuse_pickle",
    "track",
    "version",
]

import atexit
import ctypes
import json
import logging
import os
import threading
import time
import weakref
from ctypes import POINTER, byref, c_char_p, c_int, c_int64, c_size_t, c_uint64, c_void_p
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Tuple, Type

from .exceptions import (
    BRSClosedError,
    BRSConfigurationError,
    BRSConnectionError,
    BRSCredentialError,
    BRSError,
    BRSForkError,
    BRSRequestError,
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
    "gobrs cannot be used in a process forked after gobrs started (the Go "
    "runtime does not survive fork): create sessions after the fork, or use "
    "the 'spawn' or 'forkserver' start method of multiprocessing"
)

CLOSED_MESSAGE = "the session is closed; create a new session"

PICKLE_MESSAGE = (
    "a gobrs session or its credentials cannot be pickled or copied (to send "
    "it to another process, say): its Go session belongs to this process; "
    "create a session in each process that needs one"
)


def refuse_pickle() -> Any:
    """Raise the error of an attempt to pickle or copy a session.

    Raises
    ------
    BRSForkError
        Always.
    """

    raise BRSForkError(PICKLE_MESSAGE)


class BrsError(ctypes.Structure):
    """``struct brs_error``."""

    _fields_ = [
        ("status", c_int),
        ("http_status", c_int),
        ("message", c_char_p),
        ("param", c_char_p),
        ("value", c_char_p),
        ("aws_code", c_char_p),
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
_log_fn: Any = None  # the ctypes log callback, kept alive for the process
_tracked: "weakref.WeakSet[_Invalidatable]" = weakref.WeakSet()


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

    lib = _lib
    if lib is None:
        with _load_lock:
            lib = _lib if _lib is not None else _load_locked()
    if forked():
        raise BRSForkError(FORK_MESSAGE)
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
    os.register_at_fork(after_in_child=_after_fork_in_child)
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
        "brs_close_session": (c_int, [c_uint64]),
        "brs_result_set": (c_int, [c_void_p, c_char_p, c_char_p]),
        "brs_on_refresh": (c_int, [c_uint64, REFRESH_FN, c_void_p]),
        "brs_set_logger": (c_int, [LOG_FN, c_void_p]),
        "brs_free": (None, [c_void_p]),
        "brs_credentials_clear": (None, [creds_p]),
        "brs_error_clear": (None, [err_p]),
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
    lib = _lib
    if lib is not None and not forked():
        lib.brs_set_logger(LOG_FN(), None)


def _after_fork_in_child() -> None:
    """Drop every Python-side copy of the parent's credentials."""

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

    __slots__ = ("handler", "param", "last_exc", "thread")

    def __init__(self, handler: Handler, param: str) -> None:
        self.handler = handler
        self.param = param
        #: The exception the handler raised in its latest call, if any.
        self.last_exc: Optional[BaseException] = None
        #: The thread running the handler right now, if any.
        self.thread: Optional[int] = None


def _make_callback(state: CallbackState) -> Any:
    """Wrap ``state.handler`` into a ``brs_callback`` that never raises."""

    def trampoline(_user_data: Any, request: int, result: Any) -> int:
        state.thread = threading.get_ident()
        state.last_exc = None
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
                    # not chained: the encode error holds the whole value
                    raise BRSCredentialError(
                        f"{key!r} is not valid Unicode text (a lone surrogate)", param=key
                    ) from None
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

    return CALLBACK(trampoline)


def _text(raw: Optional[bytes]) -> Optional[str]:
    return raw.decode("utf-8", "replace") if raw else None


def _raise_status(lib: ctypes.CDLL, rc: int, err: BrsError, state: Optional[CallbackState]) -> None:
    """Release ``err`` and raise the BRSError that ``rc`` and ``err`` describe.

    A credential failure caused by an exception in the Python handler is
    raised as that exception (when it is a BRSError) or as a
    BRSCredentialError whose ``__cause__`` is the handler's exception.
    """

    try:
        message = _text(err.message) or f"gobrs call failed with status {rc}"
        param = _text(err.param)
        value = _text(err.value)
        code = _text(err.aws_code)
        status_code = err.http_status or None
    finally:
        lib.brs_error_clear(byref(err))
    exc = state.last_exc if (state is not None and rc == ECREDENTIAL) else None
    if exc is not None:
        assert state is not None
        if isinstance(exc, BRSError):
            new = type(exc)(
                exc.message,
                code=exc.code,
                status_code=exc.status_code,
                details=exc.details,
                param=exc.param,
                value=exc.value,
            )
            cause = exc.__cause__
        else:
            new = BRSCredentialError(
                f"{state.param} raised {type(exc).__name__}; see the cause",
                param=state.param,
            )
            cause = exc
        raise new from cause
    if rc == EFORKED:
        raise BRSForkError(FORK_MESSAGE)
    if rc == ECLOSED:
        raise BRSClosedError(CLOSED_MESSAGE)
    cls = _ERRORS.get(rc, BRSError)
    raise cls(message, code=code, status_code=status_code, param=param, value=value)


#: What NativeSession.credentials returns: access key, secret key, token,
#: expiry (ISO 8601), expiry (Unix ms), how long it may be reused (ms).
CredentialsTuple = Tuple[str, str, str, str, int, int]


class NativeSession:
    """One open session of the library and the callback it may call.

    The session is closed by :meth:`close` or, at the latest, when this
    object is collected or the interpreter exits. The callback object stays
    alive until the library's session is closed (the library never calls it
    after that).

    Parameters
    ----------
    config : Mapping[str, Any]
        The JSON config of ``brs_new_session`` (include/brs.h).
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
            data = json.dumps(dict(config), allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            where, bad = _unencodable(dict(config), "")
            raise BRSValidationError(
                f"{where or 'the session configuration'} must be text, a number, a bool, a list or a dict, "
                f"not {type(bad).__name__}" + (f" {bad!r}" if isinstance(bad, float) else ""),
                param=where or None,
            ) from None if where else exc
        state = CallbackState(handler, param) if handler is not None else None
        callback = _make_callback(state) if state is not None else CALLBACK()
        handle = c_uint64(0)
        err = BrsError()
        rc = lib.brs_new_session(data, callback, None, byref(handle), byref(err))
        if rc != OK:
            _raise_status(lib, rc, err, state)
        self._lib = lib
        self._handle = handle.value
        self._state = state
        self._buf = BrsCredentials()
        self._buf_lock = threading.Lock()
        self._listener = _Listener()
        pushed = _make_listener(self._listener)
        self._finalizer = weakref.finalize(self, _close_handle, lib, self._handle, callback, state, pushed)
        lib.brs_on_refresh(self._handle, pushed, None)

    def listen(self, fn: Callable[[CredentialsTuple, float], Any]) -> None:
        """Have every refreshed set pushed to ``fn`` (``brs_on_refresh``).

        ``fn(values, monotonic_time)`` gets what :meth:`credentials` returns
        and the monotonic clock at the push. It runs on a library thread; it
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

    def _check(self) -> None:
        if forked():
            raise BRSForkError(FORK_MESSAGE)
        if self._closed:
            raise BRSClosedError(CLOSED_MESSAGE)

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

        self._check()
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

    def whoami(self) -> Dict[str, Any]:
        """Return the identity of the credentials (``brs_whoami``)."""

        self._check()
        lib = self._lib
        out = c_void_p()
        err = BrsError()
        rc = lib.brs_whoami(self._handle, byref(out), byref(err))
        if rc != OK:
            _raise_status(lib, rc, err, self._state)
        try:
            raw = ctypes.string_at(out.value) if out.value else b"{}"
        finally:
            lib.brs_free(out)
        result = json.loads(raw)
        return result if isinstance(result, dict) else {"identity": result}

    def close(self) -> None:
        """Close the library's session, waiting for a refresh in flight.

        Safe to call more than once. It must not be called from inside the
        session's own callback (the library would wait for it).
        """

        state = self._state
        if state is not None and state.thread == threading.get_ident():
            raise BRSError("a session cannot be closed from inside its own credential callback")
        self._closed = True
        self._finalizer()


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
                fn(_decode(creds.contents), time.monotonic())
        except BaseException:  # nothing may propagate into C
            _logger.debug("gobrs: a refresh push could not be applied")

    return REFRESH_FN(on_refresh)


def _close_handle(
    lib: ctypes.CDLL, handle: int, callback: Any, state: Optional[CallbackState], pushed: Any = None
) -> None:
    """Close ``handle``; ``callback`` and ``pushed`` are released only after that.

    Run by :meth:`NativeSession.close`, or by the garbage collector or at
    interpreter exit. When the collector runs it inside the session's own
    callback (the only thread that must not wait for it), the close moves
    to a new thread.
    """

    if forked():
        return  # the parent owns the handle; the child cannot call Go
    if state is not None and state.thread == threading.get_ident():
        threading.Thread(
            target=_close_handle, args=(lib, handle, callback, None, pushed), name="gobrs-close", daemon=True
        ).start()
        return
    lib.brs_close_session(handle)
