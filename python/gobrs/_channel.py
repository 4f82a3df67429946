"""The child side of the channel: read a parent's sessions without Go.

A process forked after gobrs loaded its Go library must never call into it
(the Go runtime does not survive fork). Right before such a fork, the
parent opens its *channel* (``brs_channel_open``, served by
``core/credserver``): a Unix socket in a directory only the user may enter,
guarded by the peer's uid and a random token. Every forked descendant
inherits the socket's path and token in memory and reads the parent's
sessions over it, in pure Python (socket + json): the parent's Go runtime
answers, by the parent's refresh rules, so the whole process tree shares one
refresh per session. The child keeps its copy until the deadline the parent
gave (``valid_for_ms``), as the parent's own Python copy does, and asks
again only then.

The protocol is documented in ``include/brs.h`` (brs_channel_open) and
``core/credserver``; ``docs/reliability.md`` explains the design.
"""

from __future__ import annotations

__all__ = ["Channel", "TIMEOUT", "credentials", "request", "whoami"]

import json
import socket
from typing import Any, Dict, NamedTuple, Type

from .exceptions import (
    BRSClosedError,
    BRSConfigurationError,
    BRSConnectionError,
    BRSCredentialError,
    BRSError,
    BRSRequestError,
    BRSValidationError,
)

#: Seconds a child waits for any line of an answer: the server sends a
#: heartbeat every 0.5 s while it works, so silence this long means the
#: parent is gone or stopped answering.
TIMEOUT = 2.0

#: The longest answer line a child reads.
_MAX_LINE = 1 << 20

_KINDS: Dict[str, Type[BRSError]] = {
    "validation": BRSValidationError,
    "configuration": BRSConfigurationError,
    "credential": BRSCredentialError,
    "connection": BRSConnectionError,
    "request": BRSRequestError,
    "closed": BRSClosedError,
}


class Channel(NamedTuple):
    """Where a process's sessions are served: its socket and token.

    ``repr`` never shows the token.
    """

    path: str
    token: str
    pid: int

    def __repr__(self) -> str:
        return f"Channel(path={self.path!r}, pid={self.pid})"


def _gone(channel: Channel, why: str) -> BRSConnectionError:
    return BRSConnectionError(
        f"the gobrs session belongs to process {channel.pid}, which served it to this forked "
        f"process, and that process {why}; create a new session in this process",
        details={"pid": channel.pid},
    )


def request(channel: Channel, op: str, session: int, timeout: float = TIMEOUT) -> Dict[str, Any]:
    """Send one request over ``channel`` and return the answer's payload.

    Parameters
    ----------
    channel : Channel
        The serving process's channel.
    op : str
        ``"credentials"``, ``"refresh"``, ``"whoami"`` or ``"ping"``.
    session : int
        The session's handle in the serving process.
    timeout : float, optional
        Seconds of silence after which the server is deemed gone.

    Returns
    -------
    Dict[str, Any]
        The answer (``{"ok": true, "credentials": {...}}`` and the like).

    Raises
    ------
    BRSConnectionError
        When the serving process is gone or does not answer in time.
    BRSClosedError
        When the session was closed in the serving process.
    BRSError
        The serving session's own failure, of its class.
    """

    line = json.dumps({"token": channel.token, "op": op, "session": session}).encode() + b"\n"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(channel.path)
            sock.sendall(line)
            answer = _read_answer(sock)
        except socket.timeout:
            raise _gone(channel, f"did not answer for {timeout:g} s") from None
        except OSError as exc:
            raise _gone(channel, f"is gone ({exc.strerror or type(exc).__name__})") from None
    finally:
        sock.close()
    if answer.get("ok"):
        return answer
    err = answer.get("error") or {}
    kind = err.get("kind")
    if kind == "closed":
        raise BRSClosedError("the session is closed; create a new session")
    cls = _KINDS.get(str(kind), BRSError)
    raise cls(
        str(err.get("message") or "the serving process reported a failure"),
        code=err.get("code") or None,
        status_code=err.get("http_status") or None,
        param=err.get("param") or None,
        value=err.get("value") or None,
    )


def _read_answer(sock: socket.socket) -> Dict[str, Any]:
    """Read lines until one that is not a heartbeat; each read may wait the
    socket's timeout."""

    buf = b""
    while True:
        while b"\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError(0, "the connection closed")
            buf += chunk
            if len(buf) > _MAX_LINE:
                raise ConnectionResetError(0, "the answer is too long")
        line, _, buf = buf.partition(b"\n")
        try:
            answer = json.loads(line)
        except ValueError:
            raise ConnectionResetError(0, "the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise ConnectionResetError(0, "the answer is not a JSON object")
        if not answer.get("wait"):
            return answer


def credentials(channel: Channel, session: int, refresh: bool = False) -> "tuple[str, str, str, str, int, int]":
    """Return a session's credentials as ``NativeSession.credentials`` does.

    The tuple's last field is how long the copy may be kept (ms), the
    deadline the serving process gave, counted from when it answered; the
    caller counts it from before it asked, which is never later.
    """

    c = request(channel, "refresh" if refresh else "credentials", session)["credentials"]
    return (
        c["access_key"],
        c["secret_key"],
        c["token"],
        c["expiry_time"],
        int(c["expiry_unix_ms"]),
        max(0, int(c["valid_for_ms"])),
    )


def whoami(channel: Channel, session: int) -> Dict[str, Any]:
    """Return a session's identity, as ``NativeSession.whoami`` does."""

    identity = request(channel, "whoami", session).get("identity") or {}
    return identity if isinstance(identity, dict) else {"identity": identity}
