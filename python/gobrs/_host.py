"""Sessions created in a forked child: hosted by a helper process.

A process forked after gobrs loaded its Go library cannot run Go, so a
session it creates runs in a helper: a fresh interpreter, started once per
such process (``subprocess``, i.e. fork + exec: nothing of the parent's Go
runtime survives exec), that loads libbrs.so and calls ``brs_host_serve``
on one end of a socketpair. The helper's Go runtime runs the sessions with
the usual refresh rules and serves them on a channel of its own, which this
process (and its own forked children) read through :mod:`gobrs._channel`;
the sessions' callbacks (custom getter, source credentials, MFA token) come
back over the socketpair and run here, in the process that created the
session, as they would without fork. The helper exits when this process
does, even when it is killed (its end of the socketpair reaches EOF).
"""

from __future__ import annotations

__all__ = ["HostedSession"]

import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import weakref
from typing import Any, Callable, Dict, List, Mapping, Optional

from . import _channel, _lib
from .exceptions import BRSClosedError, BRSConnectionError, BRSCredentialError, BRSError, BRSValidationError

#: The helper: load the library and serve the socketpair (argv: library,
#: fd, socket directory or "").
_BOOT = (
    "import ctypes, sys\n"
    "lib = ctypes.CDLL(sys.argv[1])\n"
    "lib.brs_host_serve.argtypes = [ctypes.c_int, ctypes.c_char_p]\n"
    "sys.exit(lib.brs_host_serve(int(sys.argv[2]), sys.argv[3].encode() or None))\n"
)

#: Seconds to wait for the helper's first line and for a command's answer.
_START_TIMEOUT = 30.0


class _Host:
    """This process's helper and the thread that reads its messages."""

    def __init__(self) -> None:
        mine, theirs = socket.socketpair()
        where = os.environ.get("GOBRS_CHANNEL_DIR", "")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _BOOT, _lib.library_path(), str(theirs.fileno()), where],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # no Ctrl-C of ours: it ends when we do
            )
        except OSError as exc:
            mine.close()
            raise BRSConnectionError(f"gobrs could not start its helper process: {exc}") from None
        finally:
            theirs.close()
        self.pid = os.getpid()
        self.sock = mine
        self.reader = mine.makefile("rb")
        self.wlock = threading.Lock()
        self.pending: Dict[int, List[Any]] = {}
        self.ids = itertools.count(1)
        self.handlers: Dict[int, Callable[[int], Mapping[str, str]]] = {}
        #: The exception each session's callback raised last, by handle.
        self.failures: Dict[int, BaseException] = {}
        self.lock = threading.Lock()
        mine.settimeout(_START_TIMEOUT)
        hello = self._read()
        if hello is None or "path" not in hello:
            self.close()
            why = (hello or {}).get("error", {}).get("message", "it exited") if hello else "it exited"
            raise BRSConnectionError(f"gobrs's helper process could not start: {why}")
        mine.settimeout(None)
        self.channel = _channel.Channel(str(hello["path"]), str(hello["token"]), int(hello["pid"]))
        threading.Thread(target=self._loop, name="gobrs-host", daemon=True).start()

    def _read(self) -> Optional[Dict[str, Any]]:
        try:
            line = self.reader.readline()
        except OSError:
            return None
        if not line:
            return None
        msg = json.loads(line)
        return msg if isinstance(msg, dict) else None

    def _send(self, msg: Mapping[str, Any]) -> None:
        data = json.dumps(msg).encode() + b"\n"
        with self.wlock:
            self.sock.sendall(data)

    def _loop(self) -> None:
        """Dispatch the helper's messages until it goes away."""

        while True:
            msg = self._read()
            if msg is None:
                break
            if "call" in msg:
                threading.Thread(target=self._run_callback, args=(msg,), name="gobrs-callback", daemon=True).start()
                continue
            with self.lock:
                slot = self.pending.pop(msg.get("id", 0), None)
            if slot is not None:
                slot[1] = msg
                slot[0].set()
        with self.lock:
            waiting, self.pending = self.pending, {}
        for slot in waiting.values():
            slot[0].set()

    def _run_callback(self, msg: Dict[str, Any]) -> None:
        """Run a session's callback for the helper and send the answer."""

        reply: Dict[str, Any] = {"reply": msg["call"]}
        handler = self.handlers.get(msg.get("session", 0))
        try:
            if handler is None:
                raise BRSError("the session has no callback")
            answer = dict(handler(int(msg["request"])))
            for key, value in answer.items():
                if not isinstance(value, str):
                    raise BRSCredentialError(f"{key!r} must be a string, not {type(value).__name__}", param=key)
            reply["answer"] = answer
        except BaseException as exc:  # reported to the reader that waits for the refresh
            reply["error"] = exc.message if isinstance(exc, BRSError) else f"it raised {type(exc).__name__}"
            self.failures[msg.get("session", 0)] = exc
        try:
            self._send(reply)
        except OSError:
            pass

    def command(self, msg: Dict[str, Any], timeout: float = _START_TIMEOUT) -> Dict[str, Any]:
        """Send a command and wait (at most ``timeout`` seconds) for its answer."""

        slot: List[Any] = [threading.Event(), None]
        with self.lock:
            ident = next(self.ids)
            self.pending[ident] = slot
        try:
            self._send(dict(msg, id=ident))
        except OSError:
            slot[0].set()
        slot[0].wait(timeout)
        answer = slot[1]
        if answer is None:
            raise BRSConnectionError("gobrs's helper process is gone; create the session again")
        return answer  # type: ignore[no-any-return]

    def close(self) -> None:
        try:
            self.sock.close()
        finally:
            if self.proc.poll() is None:
                try:
                    self.proc.wait(2)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()


_host: Optional[_Host] = None
_host_lock = threading.Lock()


def _get_host() -> _Host:
    global _host
    with _host_lock:
        if _host is None or _host.pid != os.getpid() or _host.proc.poll() is not None:
            _host = _Host()
        return _host


def _after_fork_in_child() -> None:
    """A child of a process with a helper gets its own helper when it needs
    one; its copy of the parent's socketpair end is closed so that the
    parent's helper sees the parent exit."""

    global _host, _host_lock
    _host_lock = threading.Lock()
    host, _host = _host, None
    if host is not None:
        try:
            os.close(host.sock.detach())
        except OSError:
            pass


os.register_at_fork(after_in_child=_after_fork_in_child)


class HostedSession:
    """A session created in a forked child, run by the helper process.

    It has the interface of :class:`gobrs._lib.NativeSession`.

    Parameters
    ----------
    config : Mapping[str, Any]
        The JSON config of ``brs_new_session``.
    handler : gobrs._lib.Handler, optional
        Answers the session's callback requests; it runs in this process.
    param : str, optional
        The parameter the handler stands for, named in errors.
    """

    __slots__ = ("_host", "_channel", "_handle", "_closed", "_owner", "_warnings", "__weakref__")

    def __init__(
        self, config: Mapping[str, Any], handler: Optional[_lib.Handler] = None, param: str = "callback"
    ) -> None:
        self._closed = False
        try:
            data = json.loads(json.dumps(dict(_lib.unseal(config)), allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise BRSValidationError(f"the session configuration cannot be encoded: {exc}") from None
        host = _get_host()
        handle = next(host.ids)
        if handler is not None:  # before "new": an eager first fetch calls it
            host.handlers[handle] = handler
        answer = host.command({"op": "new", "session": handle, "config": data, "hooks": handler is not None})
        if "error" in answer:
            host.handlers.pop(handle, None)
            err = answer["error"]
            raise _channel._KINDS.get(str(err.get("kind")), BRSError)(
                str(err.get("message")), param=err.get("param") or None, value=err.get("value") or None
            )
        self._host = host
        self._channel = host.channel
        self._handle = handle
        self._owner = os.getpid()
        self._warnings: List[Dict[str, str]] = [w for w in answer.get("warnings") or () if isinstance(w, dict)]
        weakref.finalize(self, _close, host, handle, False)

    def warnings(self) -> List[Dict[str, str]]:
        """What the session does otherwise than its config asked (see
        :meth:`gobrs._lib.NativeSession.warnings`)."""

        return self._warnings

    def listen(self, fn: Callable[[Any, float], Any]) -> None:
        """Refreshes are not pushed: the copy asks the helper at its deadline."""

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""

        return self._closed

    def __reduce_ex__(self, protocol: Any) -> Any:
        return _lib.refuse_pickle()

    def _check(self) -> None:
        if self._closed:
            raise BRSClosedError(_lib.CLOSED_MESSAGE)

    def credentials(self, refresh: bool = False) -> _lib.CredentialsTuple:
        """Return the current credentials, as NativeSession.credentials does."""

        self._check()
        self._host.failures.pop(self._handle, None)
        try:
            return _channel.credentials(self._channel, self._handle, refresh)
        except BRSCredentialError as exc:
            cause = self._host.failures.pop(self._handle, None)
            if cause is not None and os.getpid() == self._owner:
                if isinstance(cause, BRSError):
                    raise cause from cause.__cause__
                raise exc from cause
            raise

    def whoami(self) -> Dict[str, Any]:
        """Return the identity of the credentials."""

        self._check()
        return _channel.whoami(self._channel, self._handle)

    def close(self) -> None:
        """Close the session in the helper (in a child of this process, only
        this process's view of it)."""

        self._closed = True
        if os.getpid() == self._owner:
            _close(self._host, self._handle, True)


def _close(host: _Host, handle: int, wait: bool) -> None:
    """Close ``handle`` in the helper; wait (at most the channel's timeout)
    for it only when asked: the collector may run this on any thread,
    including the one that reads the helper's answers."""

    host.handlers.pop(handle, None)
    if host.pid != os.getpid():
        return
    try:
        if wait:
            host.command({"op": "close", "session": handle}, _channel.TIMEOUT)
        else:
            host._send({"id": 0, "op": "close", "session": handle})
    except (BRSError, OSError):
        pass
