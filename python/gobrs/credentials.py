"""The botocore credentials object of a gobrs session.

botocore asks a session's credentials object for a frozen copy
(:meth:`get_frozen_credentials`) on every API call. This object keeps such a
copy together with the instant, on the wall clock, until which the Go core
said it may be reused; until then a call costs one clock read and one
comparison, and only then does it cross into Go, where the refresh windows,
single flight and background refresh live. botocore's own locking and
refresh logic is never used.

The deadline is on the wall clock (``time.time``), as the expiry is, not on
the monotonic clock, which stops while the machine is suspended: after a
resume the copy is never used past its expiry.
"""

from __future__ import annotations

__all__ = ["GoRefreshableCredentials"]

import time
from datetime import datetime, timezone
from operator import attrgetter
from typing import Any, Optional, Tuple

from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials

from . import _lib
from ._reprs import safe_repr

#: The clock of the deadline: the wall clock, which (unlike
#: ``time.monotonic``) goes on while the machine is suspended. Tests replace it.
_now = time.time
_NEVER = float("-inf")
_EMPTY = ReadOnlyCredentials("", "", "", None)


def _isoformat(expiry: str) -> str:
    """Go's RFC 3339 UTC expiry ("...:05Z", "...:05.5Z") spelled as
    boto3-refresh-session hands it out: :meth:`datetime.isoformat`, with
    "+00:00" and microseconds when there are any."""

    base, _, fraction = expiry.rstrip("Z").partition(".")
    micro = (fraction + "000000")[:6]
    if micro.strip("0"):
        return f"{base}.{micro}+00:00"
    return f"{base}+00:00"


def _read_only(self: Any, value: Any) -> None:
    raise AttributeError("gobrs credentials are read-only")


def _frozen_field(name: str, doc: str) -> property:
    """A read-only property: that field of the current frozen credentials."""

    field = attrgetter(name)

    def get(self: "GoRefreshableCredentials") -> str:
        return field(self.get_frozen_credentials())  # type: ignore[no-any-return]

    return property(get, _read_only, doc=doc)


class GoRefreshableCredentials(RefreshableCredentials):
    """Credentials kept fresh by a gobrs Go session.

    It is a :class:`botocore.credentials.RefreshableCredentials`, so botocore
    code that checks for one keeps working, but every read is answered from
    the Go session: botocore's refresh machinery, its lock and its timeouts
    are not used.

    Parameters
    ----------
    native : gobrs._lib.NativeSession
        The Go session the credentials come from. This object owns it: the
        Go session is closed when this object is collected (so clients made
        from a session keep working after the session object itself is
        gone) or when :meth:`close` is called.
    method : str
        The name botocore reports as the credentials' source (its
        ``method`` attribute), e.g. ``"custom"``.
    """

    def __init__(self, native: _lib.NativeSession, method: str) -> None:
        # botocore's __init__ is deliberately not called: it would set up the
        # lock and the attributes of its own refresh logic, none of it used.
        self.method = method
        self._native = native
        self._frozen: ReadOnlyCredentials = _EMPTY
        self._deadline: float = _NEVER
        self._snapshot: Tuple[ReadOnlyCredentials, str] = (_EMPTY, "")
        self._expiry_time: Optional[datetime] = None
        _lib.track(self)
        native.listen(self._store)  # refreshes, background ones above all, are pushed

    # -- the per-request path -------------------------------------------

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        """Return the current credentials as an immutable tuple.

        Returns
        -------
        botocore.credentials.ReadOnlyCredentials
            Access key, secret key, token and account id (always None).

        Raises
        ------
        BRSCredentialError
            When a required refresh fails.
        BRSClosedError
            After :meth:`close`.
        BRSConnectionError
            In a process forked after the session was created, when the
            process that runs it is gone or does not answer (within 2 s).
        """

        if _now() < self._deadline:
            return self._frozen
        return self._load(False)

    def _load(self, refresh: bool) -> ReadOnlyCredentials:
        """Ask the Go session and cache its answer for as long as it allows."""

        start = _now()
        return self._store(self._native.credentials(refresh), start)

    def _store(self, values: _lib.CredentialsTuple, start: Optional[float] = None) -> ReadOnlyCredentials:
        """Keep ``values`` (asked for at ``start`` on ``_now``; default now,
        for a push) as the copy."""

        if start is None:
            start = _now()
        access_key, secret_key, token, expiry, expiry_ms, valid_ms = values
        frozen = self._frozen
        if frozen.access_key != access_key or frozen.secret_key != secret_key or frozen.token != token:
            frozen = ReadOnlyCredentials(access_key, secret_key, token, None)
        iso = _isoformat(expiry)
        self._snapshot = (frozen, iso)
        self._expiry_time = datetime.fromisoformat(iso)
        self._frozen = frozen
        if not self._native.closed:
            # reuse as long as the Go session allows, and never past expiry
            # (both on the wall clock, which a suspend does not stop)
            self._deadline = min(start + valid_ms / 1000.0, expiry_ms / 1000.0)
        return frozen

    def snapshot(self) -> Tuple[ReadOnlyCredentials, str]:
        """Return the current credentials and their expiry (ISO 8601) together.

        Returns
        -------
        Tuple[ReadOnlyCredentials, str]
            The frozen credentials and the expiry of that same set.
        """

        self.get_frozen_credentials()
        return self._snapshot

    def refresh(self) -> ReadOnlyCredentials:
        """Refresh now (joining a refresh already in flight) and return the result."""

        return self._load(True)

    def invalidate(self) -> None:
        """Forget the cached copy: the next read asks the Go session."""

        self._deadline = _NEVER

    def close(self) -> None:
        """Close the Go session. Later reads raise BRSClosedError."""

        self._deadline = _NEVER  # readers during the close go to Go and get BRSClosedError
        self._native.close()
        self._deadline = _NEVER  # a refresh push that raced the close may have set it again

    @property
    def closed(self) -> bool:
        """Whether the Go session has been closed."""

        return self._native.closed

    # -- botocore's RefreshableCredentials surface ----------------------

    access_key = _frozen_field("access_key", "The current access key (prefer :meth:`get_frozen_credentials`).")
    secret_key = _frozen_field("secret_key", "The current secret key (prefer :meth:`get_frozen_credentials`).")
    token = _frozen_field("token", "The current session token (prefer :meth:`get_frozen_credentials`).")
    account_id = property(lambda self: None, _read_only, doc="The account id, which gobrs does not track: always None.")

    def refresh_needed(self, refresh_in: Optional[int] = None) -> bool:
        """Whether the cached copy is due for a look at the Go session.

        Parameters
        ----------
        refresh_in : int, optional
            When given, whether the credentials expire within that many
            seconds instead.
        """

        if refresh_in is None:
            return not _now() < self._deadline
        return self._expiry_time is None or self._seconds_remaining() < refresh_in

    def _seconds_remaining(self) -> float:
        expiry = self._expiry_time
        if expiry is None:
            return 0.0
        return (expiry - datetime.now(timezone.utc)).total_seconds()

    def _refresh(self) -> None:
        self.get_frozen_credentials()

    def _protected_refresh(self, is_mandatory: bool) -> None:
        self._load(True)

    def _set_from_data(self, data: Any) -> None:
        raise NotImplementedError("gobrs credentials are refreshed by the Go session")

    def _publish_refresh(self) -> None:
        raise NotImplementedError("gobrs credentials are refreshed by the Go session")

    def __reduce_ex__(self, protocol: Any) -> Any:
        # the Go session cannot follow a copy into another process
        return _lib.refuse_pickle()

    def __copy__(self) -> "GoRefreshableCredentials":
        """A shallow copy, as botocore's: reads from the same Go session."""

        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        _lib.track(twin)
        return twin

    @safe_repr
    def __repr__(self) -> str:
        frozen, expiry = self._snapshot
        return (
            f"{type(self).__name__}(method={self.method!r}, "
            f"access_key={frozen.access_key or None!r}, secret_key='****', "
            f"token='****', expiry_time={expiry or None!r}, closed={self.closed!r})"
        )
