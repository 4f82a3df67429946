"""Thread-safe LRU and LFU caches for the clients and resources of a session.

Every gobrs session has a :class:`SessionCache` at ``session.cache``.
``session.client(...)`` and ``session.resource(...)`` go through it: the
first call with a given signature builds the object with boto3, every later
call with an equivalent signature returns the very same object.

Two calls are equivalent when boto3 would build the same thing for both: the
service name may be given by position or by keyword, parameters left out
take the session's defaults (``region_name`` from the session or from the
``Config``, ``api_version`` from the session's configuration or the latest
one installed, ``verify`` from the session's ``ca_bundle``), and a
:class:`botocore.config.Config` is compared by value, not by identity.

The caches are built for many threads:

- Get-or-create is atomic. When several threads ask for the same missing
  key at once, exactly one of them builds the object and all of them get
  it; nobody sees an error because another thread won the race.
- A build runs outside the cache's lock. A slow build of one key never
  blocks a hit, or a build, of another key. The lock is held only for the
  few dictionary operations of a lookup, an insert or an eviction.
- A hit is one dictionary lookup on the raw positional arguments, a
  comparison of the keyword arguments with those of a call seen before (an
  alias of the normalized key) and two attribute stores to record the use;
  no lock. The
  normalization runs only the first time a given spelling of a call is
  seen, and for calls whose arguments cannot serve as an alias (a
  ``Config``, which may change between calls, for instance).
- A forked child starts with empty caches and fresh locks.

Examples
--------
>>> s3 = session.client("s3")
>>> s3 is session.client(service_name="s3", region_name=session.region_name)
True
>>> session.cache.client.LRU.max_size = 2        # evicts down to two
>>> sqs = session.client("sqs", eviction_policy="LFU", max_size=8)
>>> len(session.cache.client["LFU"])
1
"""

from __future__ import annotations

__all__ = [
    "CacheError",
    "CacheFamily",
    "CacheKey",
    "ClientCacheError",
    "ClientCacheExistsError",
    "ClientCacheKey",
    "ClientCacheNotFoundError",
    "EvictionPolicy",
    "LFUCache",
    "LRUCache",
    "ResourceCacheError",
    "ResourceCacheExistsError",
    "ResourceCacheKey",
    "ResourceCacheNotFoundError",
    "SessionCache",
]

import inspect
import itertools
import os
import threading
import weakref
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    ClassVar,
    Dict,
    Generic,
    Iterator,
    Literal,
    Tuple,
    TypeVar,
)

import boto3.session
from boto3.resources.base import ServiceResource
from botocore.client import BaseClient
from botocore.config import Config

from ._reprs import safe_repr
from .exceptions import BRSError
from .utils.typing import EvictionPolicy

if TYPE_CHECKING:  # pragma: no cover
    from boto3.session import Session


_T = TypeVar("_T")
_MISSING: Any = object()

#: Orders uses across all caches (LRU recency, LFU tie-break): each call
#: returns the next number, atomically under the GIL.
_TICK = itertools.count(1).__next__

#: Value types that are immutable and cheap to hash: arguments made only of
#: these may serve as an alias of the normalized key.
_SIMPLE = frozenset({str, int, float, bool, bytes, type(None)})

#: Arguments whose values are secret: masked in every label and repr.
_SECRET_PARAMS = frozenset(
    {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
)
#: Config options whose values may hold secrets (proxy URLs with passwords,
#: client certificate paths): masked in labels.
_SECRET_CONFIG_OPTIONS = frozenset({"proxies", "proxies_config", "client_cert"})

#: An entry keeps at most this many aliases (spellings of its call), and
#: one tuple of positional arguments at most this many keyword spellings.
_MAX_ALIASES = 16


# ---------------------------------------------------------------- errors ---


class CacheError(BRSError):
    """The base exception for client and resource cache errors.

    A :class:`~gobrs.exceptions.BRSError`, with its ``code``,
    ``status_code``, ``details``, ``param`` and ``value`` fields.
    """


class ClientCacheError(CacheError):
    """A client cache operation failed: an invalid eviction policy, max size,
    key or value."""


class ClientCacheExistsError(ClientCacheError):
    """A client was added under a key the cache already holds."""


class ClientCacheNotFoundError(ClientCacheError):
    """A client was looked up or removed under a key the cache does not
    hold."""


class ResourceCacheError(CacheError):
    """A resource cache operation failed: an invalid eviction policy, max
    size, key or value."""


class ResourceCacheExistsError(ResourceCacheError):
    """A resource was added under a key the cache already holds."""


class ResourceCacheNotFoundError(ResourceCacheError):
    """A resource was looked up or removed under a key the cache does not
    hold."""


# ------------------------------------------------------------------ keys ---


class _Kind:
    """What differs between the client and the resource caches: the boto3
    method's parameters, the error classes, the key class and value type."""

    def __init__(
        self,
        name: Literal["client", "resource"],
        method: Callable[..., Any],
        model_type: str,
        value_type: type,
        key_class: type["CacheKey"],
        error: type[CacheError],
        exists_error: type[CacheError],
        not_found_error: type[CacheError],
    ) -> None:
        params = list(inspect.signature(method).parameters.values())[1:]
        self.name = name
        self.names: Tuple[str, ...] = tuple(p.name for p in params)
        self.index: Dict[str, int] = {n: i for i, n in enumerate(self.names)}
        self.defaults: Tuple[Any, ...] = tuple(
            _MISSING if p.default is inspect.Parameter.empty else p.default
            for p in params
        )
        self.model_type = model_type
        self.value_type = value_type
        self.error = error
        self.exists_error = exists_error
        self.not_found_error = not_found_error
        self.key_class = key_class

    def bind(self, args: tuple, kwargs: dict) -> list[Any]:
        """Binds a call's arguments to the method's parameters, in order,
        with the defaults filled in. Raises TypeError as the call would."""

        names = self.names
        if len(args) > len(names):
            raise TypeError(f"too many positional arguments for {self.name}()")
        values = list(self.defaults)
        values[: len(args)] = args
        for name, value in kwargs.items():
            i = self.index.get(name)
            if i is None or i < len(args):
                raise TypeError(f"unexpected or repeated argument {name!r}")
            values[i] = value
        if _MISSING in values:
            raise TypeError(f"{self.name}() is missing a required argument")
        return values


class CacheKey:
    """The normalized signature of a ``client()`` or ``resource()`` call.

    Keys are what a cache's ``keys()``, ``items()`` and iteration yield, and
    what ``get``, ``pop``, ``in`` and indexing accept. Make one for a call
    with the cache's :meth:`LRUCache.key` method. Two keys are equal when the
    calls they stand for would build the same object. Secrets never appear
    in a key's label or repr.

    Attributes
    ----------
    label : str
        A readable form of the call, with secrets masked.
    """

    __slots__ = ("_norm", "_names", "label")

    def __init__(self, norm: tuple, names: Tuple[str, ...]) -> None:
        self._norm = norm
        self._names = names
        self.label = _label(norm, names)

    @property
    def service_name(self) -> str:
        """The service name of the call."""

        return self._norm[0]

    @property
    def region_name(self) -> str | None:
        """The region the call resolves to."""

        return self._norm[1]

    def __hash__(self) -> int:
        return hash(self._norm)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._norm == other._norm  # type: ignore[attr-defined]

    @safe_repr
    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label})"

    __str__ = __repr__


class ClientCacheKey(CacheKey):
    """The normalized signature of a ``session.client(...)`` call."""

    __slots__ = ()


class ResourceCacheKey(CacheKey):
    """The normalized signature of a ``session.resource(...)`` call."""

    __slots__ = ()


class _Identity:
    """Wraps an unhashable, unfreezable value so it compares by identity."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.obj is self.obj


def _freeze(value: Any) -> Any:
    """Returns a hashable, value-equal form of a call argument. A ``Config``
    is compared by all its attributes (what botocore reads), so two configs
    built alike are equal and a config mutated after use is not."""

    if type(value) in _SIMPLE:
        return value
    if isinstance(value, Config):
        return (Config, tuple((k, _freeze(v)) for k, v in vars(value).items()))
    if isinstance(value, dict):
        return (dict, frozenset((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_freeze(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return (frozenset, frozenset(_freeze(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return _Identity(value)
    return value


def _label(norm: tuple, names: Tuple[str, ...]) -> str:
    parts = [repr(norm[0])]
    for name, value in zip(names[1:], norm[1:]):
        if value is None or (name == "use_ssl" and value is True):
            continue
        if name in _SECRET_PARAMS:
            parts.append(f"{name}='***'")
        elif isinstance(value, tuple) and value and value[0] is Config:
            parts.append(f"{name}={_config_label(value[1])}")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def _config_label(attrs: tuple) -> str:
    # attrs is the frozen vars() of a Config; show the options the user set,
    # masking the ones that may hold secrets.
    options = dict(attrs).get("_user_provided_options", (dict, frozenset()))[1]
    shown = []
    for name, value in sorted(options, key=lambda kv: str(kv[0])):
        if name in _SECRET_CONFIG_OPTIONS:
            shown.append(f"{name}='***'")
        else:
            shown.append(f"{name}={_thaw_repr(value)}")
    return f"Config({', '.join(shown)})"


def _thaw_repr(value: Any) -> str:
    if type(value) is tuple and len(value) == 2:
        if value[0] is dict:
            items = sorted(value[1], key=lambda kv: repr(kv[0]))
            return "{" + ", ".join(f"{k!r}: {_thaw_repr(v)}" for k, v in items) + "}"
        if value[0] is list or value[0] is tuple:
            inner = ", ".join(_thaw_repr(v) for v in value[1])
            return f"[{inner}]" if value[0] is list else f"({inner})"
    return repr(value)


# ----------------------------------------------------------------- cache ---


class _Entry:
    __slots__ = ("norm", "key", "value", "hits", "tick", "aliases", "live")

    def __init__(self, norm: tuple, key: CacheKey, value: Any, tick: int) -> None:
        self.norm = norm
        self.key = key
        self.value = value
        self.hits = 0
        self.tick = tick
        self.aliases: list[tuple] = []
        self.live = True


class _Flight:
    """One build in progress; the threads that want the same key wait on
    it."""

    __slots__ = ("done", "value", "error", "owner")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.owner = threading.get_ident()


def _check_max_size(value: Any, error: type[CacheError]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(
            "max_size must be a positive int, or None for an unbounded cache; "
            f"got {type(value).__name__}",
            param="max_size",
            value=value,
        )
    if value < 1:
        raise error(
            "max_size must be at least 1, or None for an unbounded cache",
            param="max_size",
            value=value,
        )
    return value


def _policy_error(value: Any, error: type[CacheError]) -> CacheError:
    return error(
        "eviction_policy must be 'LRU' or 'LFU' (case-sensitive), or None for "
        "'LRU'",
        param="eviction_policy",
        value=value if type(value) in _SIMPLE else type(value).__name__,
    )


# All live caches, so that a forked child can reset their locks and drop
# the parent's clients (their connections belong to the parent).
_ALL_CACHES: "weakref.WeakSet[_PolicyCache[Any]]" = weakref.WeakSet()


class _PolicyCache(Generic[_T]):
    """A dict-like, thread-safe cache of clients or resources under one
    eviction policy. Use :class:`LRUCache` or :class:`LFUCache`."""

    #: The policy's name, "LRU" or "LFU".
    eviction_policy: ClassVar[str] = ""

    def __init__(
        self,
        kind: _Kind,
        session_ref: Callable[[], "Session | None"],
        max_size: int | None = None,
    ) -> None:
        self._kind = kind
        self._session_ref = session_ref
        self._max_size = _check_max_size(max_size, kind.error)
        self._lock = threading.Lock()
        self._entries: Dict[tuple, _Entry] = {}
        # Raw call spellings: positional args -> ((kwargs, entry), ...).
        # The tuples are replaced, never changed, so a reader without the
        # lock always scans a whole one. See _hit.
        self._aliases: Dict[tuple, Tuple[Tuple[dict, _Entry], ...]] = {}
        self._inflight: Dict[tuple, _Flight] = {}
        self._latest_api: Dict[str, str] = {}
        _ALL_CACHES.add(self)

    # -- policy --------------------------------------------------------

    @staticmethod
    def _rank(entry: _Entry) -> Any:
        """Entries with the lowest rank are evicted first."""

        raise NotImplementedError

    # -- the get-or-create path ------------------------------------------

    def _get(
        self,
        factory: Callable[..., _T],
        args: tuple,
        kwargs: dict,
        max_size: int | None,
    ) -> _T:
        entry = _hit(self._aliases, args, kwargs)
        if entry is not None:
            if max_size is not None and (
                type(max_size) is not int or max_size != self._max_size
            ):
                _check_max_size(max_size, self._kind.error)
                with self._lock:
                    self._resize(max_size, entry)
            return entry.value
        if max_size is not None:
            _check_max_size(max_size, self._kind.error)  # before any build
        alias = (args, dict(kwargs)) if _aliasable(args, kwargs) else None
        return self._get_slow(factory, args, kwargs, max_size, alias)

    def _get_slow(
        self,
        factory: Callable[..., _T],
        args: tuple,
        kwargs: dict,
        max_size: int | None,
        alias: Tuple[tuple, dict] | None,
    ) -> _T:
        try:
            norm = self._normalize(args, kwargs)
        except Exception:
            # The call is malformed (boto3 will say how) or cannot be keyed;
            # let boto3 handle it without caching.
            return factory(*args, **kwargs)
        while True:
            with self._lock:
                entry = self._entries.get(norm)
                if entry is not None:
                    self._touch(entry, alias, max_size)
                    return entry.value
                flight = self._inflight.get(norm)
                if flight is None:
                    flight = self._inflight[norm] = _Flight()
                    break  # this thread builds
            if flight.owner == threading.get_ident():
                # The factory asked for its own key (re-entrant); build
                # uncached rather than wait for ourselves.
                return factory(*args, **kwargs)
            flight.done.wait()
            if flight.error is None:
                if max_size is not None:
                    with self._lock:
                        self._resize(max_size, self._entries.get(norm))
                return flight.value
            if isinstance(flight.error, Exception):
                raise flight.error  # the same error as the builder's
            # The builder was interrupted (KeyboardInterrupt, SystemExit):
            # that was for its thread, not this one; try again.
        try:
            value = factory(*args, **kwargs)
        except BaseException as exc:
            with self._lock:
                if self._inflight.get(norm) is flight:
                    del self._inflight[norm]
            flight.error = exc
            flight.done.set()
            raise
        with self._lock:
            if self._inflight.get(norm) is flight:
                del self._inflight[norm]
            entry = self._entries.get(norm)
            if entry is None:  # or it was set meanwhile by cache[key] = ...
                entry = self._insert(norm, value)
            self._touch(entry, alias, max_size)
            value = entry.value
        flight.value = value
        flight.done.set()
        return value

    def _normalize(self, args: tuple, kwargs: dict) -> tuple:
        """Returns the normalized key of a call: the arguments bound in
        parameter order, the session's defaults filled in, values frozen."""

        kind = self._kind
        values = kind.bind(args, kwargs)
        session = self._session()
        index = kind.index
        config = values[index["config"]]
        i = index["region_name"]
        if values[i] is None:
            if config is not None and config.region_name is not None:
                values[i] = config.region_name
            else:
                values[i] = session.region_name
        i = index["verify"]
        if values[i] is None:
            values[i] = session._session.get_config_variable("ca_bundle")
        i = index["api_version"]
        if values[i] is None and isinstance(values[0], str):
            values[i] = self._default_api_version(session, values[0])
        return tuple(map(_freeze, values))

    def _default_api_version(self, session: "Session", service: str) -> str | None:
        """The API version boto3 uses when none is given: the session's
        configured one, else the latest installed; None if it cannot tell
        (the build then decides, and the key keeps None)."""

        model_type = self._kind.model_type
        try:
            if model_type == "service-2":
                configured = session._session.get_config_variable("api_versions")
                if configured and configured.get(service):
                    return configured[service]
            latest = self._latest_api.get(service)
            if latest is None:
                # botocore's loader caches this too; skip its key building.
                latest = session._loader.determine_latest_version(service, model_type)
                self._latest_api[service] = latest
            return latest
        except Exception:
            return None

    def _session(self) -> "Session":
        session = self._session_ref()
        if session is None:
            raise self._kind.error(
                "the session this cache belongs to no longer exists"
            )
        return session

    # -- internals; call with the lock held ------------------------------

    def _touch(
        self,
        entry: _Entry,
        alias: Tuple[tuple, dict] | None,
        max_size: int | None,
    ) -> None:
        entry.tick = _TICK()
        entry.hits += 1
        if alias is not None and len(entry.aliases) < _MAX_ALIASES:
            args, kwargs = alias
            spellings = self._aliases.get(args, ())
            if len(spellings) < _MAX_ALIASES and all(
                kw != kwargs for kw, _ in spellings
            ):
                self._aliases[args] = (*spellings, (kwargs, entry))
                entry.aliases.append(alias)
        if max_size is not None:
            self._resize(max_size, entry)

    def _insert(self, norm: tuple, value: Any) -> _Entry:
        if self._max_size is not None and len(self._entries) >= self._max_size:
            self._evict(len(self._entries) - self._max_size + 1, None)
        key = self._kind.key_class(norm, self._kind.names)
        entry = self._entries[norm] = _Entry(norm, key, value, _TICK())
        return entry

    def _remove(self, entry: _Entry) -> None:
        del self._entries[entry.norm]
        entry.live = False
        for args, _ in entry.aliases:
            spellings = tuple(s for s in self._aliases.get(args, ()) if s[1] is not entry)
            if spellings:
                self._aliases[args] = spellings
            else:
                self._aliases.pop(args, None)

    def _evict(self, count: int, keep: _Entry | None) -> None:
        victims = sorted(
            (e for e in self._entries.values() if e is not keep), key=self._rank
        )
        for entry in victims[:count]:
            self._remove(entry)

    def _resize(self, max_size: int, keep: _Entry | None) -> None:
        self._max_size = max_size
        excess = len(self._entries) - max_size
        if excess > 0:
            self._evict(excess, keep)

    def _ordered(self) -> list[_Entry]:
        return sorted(self._entries.values(), key=self._rank)

    def _lookup(self, key: object) -> _Entry | None:
        if not isinstance(key, self._kind.key_class):
            return None
        return self._entries.get(key._norm)

    def _not_found(self, key: object) -> CacheError:
        return self._kind.not_found_error(
            f"no {self._kind.name} is cached under {key!r}"
            if isinstance(key, CacheKey)
            else f"cache keys are {self._kind.key_class.__name__} objects, "
            f"not {type(key).__name__}",
            param="key",
        )

    def _clear_locked(self) -> None:
        for entry in self._entries.values():
            entry.live = False
        self._entries.clear()
        self._aliases.clear()

    def _reset_after_fork(self) -> None:
        # The parent's threads do not exist here: a held lock would never be
        # released and an in-flight build would never finish. The parent's
        # clients share its connections; start over.
        self._lock = threading.Lock()
        self._inflight = {}
        self._clear_locked()

    # -- public, dict-like -------------------------------------------------

    def key(self, *args: Any, **kwargs: Any) -> CacheKey:
        """Returns the key under which ``session.client(*args, **kwargs)``
        (or ``resource``) is cached.

        Parameters
        ----------
        *args, **kwargs
            The arguments of the ``client()`` / ``resource()`` call.

        Returns
        -------
        CacheKey
            A :class:`ClientCacheKey` or :class:`ResourceCacheKey`.

        Raises
        ------
        ClientCacheError, ResourceCacheError
            If the arguments do not form a valid call.
        """

        try:
            norm = self._normalize(args, kwargs)
        except CacheError:
            raise
        except Exception as exc:
            raise self._kind.error(
                f"cannot make a cache key from these arguments: {exc}",
                param="args",
            ) from None
        return self._kind.key_class(norm, self._kind.names)

    @property
    def max_size(self) -> int | None:
        """The most objects the cache holds; None means unbounded. Setting a
        smaller value evicts down to it, by the cache's policy."""

        return self._max_size

    @max_size.setter
    def max_size(self, value: int | None) -> None:
        value = _check_max_size(value, self._kind.error)
        with self._lock:
            if value is None:
                self._max_size = None
            else:
                self._resize(value, None)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return self._lookup(key) is not None

    def __iter__(self) -> Iterator[CacheKey]:
        return iter(self.keys())

    def __reversed__(self) -> Iterator[CacheKey]:
        return reversed(self.keys())

    def __getitem__(self, key: CacheKey) -> _T:
        with self._lock:
            entry = self._lookup(key)
            if entry is None:
                raise self._not_found(key)
            self._touch(entry, None, None)
            return entry.value

    def __setitem__(self, key: CacheKey, value: _T) -> None:
        kind = self._kind
        if not isinstance(key, kind.key_class):
            raise kind.error(
                f"cache keys are {kind.key_class.__name__} objects, not "
                f"{type(key).__name__}; make one with .key(...)",
                param="key",
            )
        if not isinstance(value, kind.value_type):
            raise kind.error(
                f"cached values must be {kind.value_type.__name__} objects, "
                f"not {type(value).__name__}",
                param="value",
            )
        with self._lock:
            if key._norm in self._entries:
                raise kind.exists_error(
                    f"a {kind.name} is already cached under {key!r}", param="key"
                )
            self._insert(key._norm, value)

    def __delitem__(self, key: CacheKey) -> None:
        with self._lock:
            entry = self._lookup(key)
            if entry is None:
                raise self._not_found(key)
            self._remove(entry)

    def get(self, key: CacheKey, default: Any = None) -> _T | Any:
        """Returns the object cached under ``key`` (counting as a use), or
        ``default``."""

        with self._lock:
            entry = self._lookup(key)
            if entry is None:
                return default
            self._touch(entry, None, None)
            return entry.value

    def pop(self, key: CacheKey, default: Any = _MISSING) -> _T | Any:
        """Removes and returns the object cached under ``key``.

        Raises
        ------
        ClientCacheNotFoundError, ResourceCacheNotFoundError
            If nothing is cached under ``key`` and no default is given.
        """

        with self._lock:
            entry = self._lookup(key)
            if entry is None:
                if default is _MISSING:
                    raise self._not_found(key)
                return default
            self._remove(entry)
            return entry.value

    def popitem(self) -> Tuple[CacheKey, _T]:
        """Removes and returns the ``(key, object)`` the policy would evict
        next.

        Raises
        ------
        ClientCacheNotFoundError, ResourceCacheNotFoundError
            If the cache is empty.
        """

        with self._lock:
            if not self._entries:
                raise self._kind.not_found_error(
                    f"the {self._kind.name} cache is empty"
                )
            entry = min(self._entries.values(), key=self._rank)
            self._remove(entry)
            return entry.key, entry.value

    def clear(self) -> None:
        """Removes every object from the cache."""

        with self._lock:
            self._clear_locked()

    def keys(self) -> Tuple[CacheKey, ...]:
        """Returns the keys, the next to be evicted first."""

        with self._lock:
            return tuple(e.key for e in self._ordered())

    def values(self) -> Tuple[_T, ...]:
        """Returns the objects, the next to be evicted first."""

        with self._lock:
            return tuple(e.value for e in self._ordered())

    def items(self) -> Tuple[Tuple[CacheKey, _T], ...]:
        """Returns ``(key, object)`` pairs, the next to be evicted first."""

        with self._lock:
            return tuple((e.key, e.value) for e in self._ordered())

    def copy(self) -> "_PolicyCache[_T]":
        """Returns a shallow copy: a new cache of the same policy, bound to
        the same session, holding the same objects with the same usage
        history. Later changes to either do not affect the other."""

        clone = type(self)(self._kind, self._session_ref, self._max_size)
        with self._lock:
            for norm, entry in self._entries.items():
                twin = _Entry(norm, entry.key, entry.value, entry.tick)
                twin.hits = entry.hits
                twin.aliases = list(entry.aliases)
                clone._entries[norm] = twin
                for args, kwargs in twin.aliases:
                    spellings = clone._aliases.get(args, ())
                    clone._aliases[args] = (*spellings, (kwargs, twin))
        return clone

    @safe_repr
    def __repr__(self) -> str:
        kind = self._kind.name.capitalize()
        keys = ", ".join(k.label for k in self.keys())
        return (
            f"{self.eviction_policy}{kind}Cache(max_size={self._max_size!r}, "
            f"keys=[{keys}])"
        )


class LRUCache(_PolicyCache[_T]):
    """A cache that evicts the least recently used object first.

    Dict-like: ``len``, ``in``, iteration, ``[key]``, ``get``, ``pop``,
    ``popitem``, ``clear``, ``keys``, ``values``, ``items``, ``copy`` and a
    settable ``max_size``. Keys are :class:`CacheKey` objects; make one with
    :meth:`key`. Every method is safe to call from any thread.
    """

    eviction_policy = "LRU"

    @staticmethod
    def _rank(entry: _Entry) -> Any:
        return entry.tick


class LFUCache(_PolicyCache[_T]):
    """A cache that evicts the least frequently used object first, the least
    recently used among equally frequent ones.

    Same interface as :class:`LRUCache`.
    """

    eviction_policy = "LFU"

    @staticmethod
    def _rank(entry: _Entry) -> Any:
        return (entry.hits, entry.tick)


def _hit(
    aliases: Dict[tuple, Tuple[Tuple[dict, _Entry], ...]], args: tuple, kwargs: dict
) -> _Entry | None:
    """The hit path: the live entry of a call spelled as one seen before,
    or None. No lock: the use is recorded with plain attribute stores (two
    threads racing on one entry can at worst lose an LFU count) and an
    entry evicted meanwhile is not returned."""

    try:
        for kw, entry in aliases[args]:
            if kw == kwargs and entry.live:
                entry.tick = _TICK()
                entry.hits += 1
                return entry
    except Exception:  # not seen, unhashable, or an argument failing ==
        pass
    return None


def _aliasable(args: tuple, kwargs: dict) -> bool:
    simple = _SIMPLE
    return all(type(v) in simple for v in args) and all(
        type(v) in simple for v in kwargs.values()
    )


# ------------------------------------------------------- per session -----


class CacheFamily(Generic[_T]):
    """The caches of one kind (clients or resources) of a session, one per
    eviction policy: ``family.LRU``, ``family.LFU``, ``family["LRU"]``.
    """

    def __init__(self, kind: _Kind, session_ref: Callable[[], "Session | None"]) -> None:
        self._kind = kind
        self.LRU: LRUCache[_T] = LRUCache(kind, session_ref)
        self.LFU: LFUCache[_T] = LFUCache(kind, session_ref)
        self._by_policy: Dict[Any, _PolicyCache[_T]] = {
            None: self.LRU,
            "LRU": self.LRU,
            "LFU": self.LFU,
        }

    def __getitem__(self, eviction_policy: EvictionPolicy) -> _PolicyCache[_T]:
        if eviction_policy is None:
            raise _policy_error(eviction_policy, self._kind.error)
        return self._policy(eviction_policy)

    def _policy(self, eviction_policy: EvictionPolicy | None) -> _PolicyCache[_T]:
        """The cache of a policy; None means LRU."""

        try:
            return self._by_policy[eviction_policy]
        except (KeyError, TypeError):  # TypeError: unhashable
            raise _policy_error(eviction_policy, self._kind.error) from None

    def __iter__(self) -> Iterator[str]:
        return iter(("LRU", "LFU"))

    def clear(self) -> None:
        """Clears the caches of every policy."""

        self.LRU.clear()
        self.LFU.clear()

    @safe_repr
    def __repr__(self) -> str:
        return f"CacheFamily(LRU={self.LRU!r}, LFU={self.LFU!r})"


_CLIENT = _Kind(
    "client",
    boto3.session.Session.client,
    "service-2",
    BaseClient,
    ClientCacheKey,
    ClientCacheError,
    ClientCacheExistsError,
    ClientCacheNotFoundError,
)
_RESOURCE = _Kind(
    "resource",
    boto3.session.Session.resource,
    "resources-1",
    ServiceResource,
    ResourceCacheKey,
    ResourceCacheError,
    ResourceCacheExistsError,
    ResourceCacheNotFoundError,
)


class SessionCache:
    """The client and resource caches of one session.

    ``cache.client`` and ``cache.resource`` are :class:`CacheFamily` objects
    holding an LRU and an LFU cache each (``cache.client.LRU``,
    ``cache.client["LFU"]``...); ``cache["client"]`` also works.

    Parameters
    ----------
    session : boto3.session.Session
        The session whose defaults (region, API versions, CA bundle)
        normalize the cache keys. The cache holds it weakly.
    """

    def __init__(self, session: "Session") -> None:
        ref = weakref.ref(session)
        self.client: CacheFamily[BaseClient] = CacheFamily(_CLIENT, ref)
        self.resource: CacheFamily[ServiceResource] = CacheFamily(_RESOURCE, ref)
        # The default (LRU) caches' spellings: the session's client() and
        # resource() look a hit up there themselves.
        self._client_aliases = self.client.LRU._aliases
        self._resource_aliases = self.resource.LRU._aliases

    def __getitem__(self, kind: Literal["client", "resource"]) -> CacheFamily[Any]:
        if kind == "client":
            return self.client
        if kind == "resource":
            return self.resource
        raise CacheError(
            "the cache kinds are 'client' and 'resource'", param="kind", value=kind
        )

    def get_client(
        self,
        factory: Callable[..., BaseClient],
        args: tuple,
        kwargs: dict,
        eviction_policy: EvictionPolicy | None = None,
        max_size: int | None = None,
    ) -> BaseClient:
        """Returns the cached client for ``factory(*args, **kwargs)``,
        building and caching it on the first call.

        Parameters
        ----------
        factory : Callable[..., BaseClient]
            The uncached ``client`` method (boto3's), bound to the session.
        args : tuple
            The positional arguments of the ``client()`` call.
        kwargs : dict
            The keyword arguments of the ``client()`` call.
        eviction_policy : {"LRU", "LFU"}, optional
            The cache to use. Case sensitive. Default "LRU".
        max_size : int | None, optional
            If given, the new maximum size of that cache; a smaller value
            evicts down to it. None leaves the size as it is.

        Returns
        -------
        BaseClient
            The cached client.

        Raises
        ------
        ClientCacheError
            If ``eviction_policy`` or ``max_size`` is invalid.
        """

        return self.client._policy(eviction_policy)._get(factory, args, kwargs, max_size)

    def get_resource(
        self,
        factory: Callable[..., ServiceResource],
        args: tuple,
        kwargs: dict,
        eviction_policy: EvictionPolicy | None = None,
        max_size: int | None = None,
    ) -> ServiceResource:
        """Returns the cached resource for ``factory(*args, **kwargs)``,
        building and caching it on the first call. Same parameters as
        :meth:`get_client`.

        Raises
        ------
        ResourceCacheError
            If ``eviction_policy`` or ``max_size`` is invalid.
        """

        return self.resource._policy(eviction_policy)._get(factory, args, kwargs, max_size)

    def clear(self) -> None:
        """Clears every client and resource cache of the session."""

        self.client.clear()
        self.resource.clear()

    @safe_repr
    def __repr__(self) -> str:
        return f"SessionCache(client={self.client!r}, resource={self.resource!r})"


def _reset_all_after_fork() -> None:
    for cache in list(_ALL_CACHES):
        cache._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_all_after_fork)
