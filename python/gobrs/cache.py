"""Client and resource caching: boto3-client-cache's, with a fast path for
hits.

Every gobrs session is a :class:`boto3_client_cache.Session`, as every
boto3-refresh-session session is: ``session.client(...)`` and
``session.resource(...)`` return the object cached under
``ClientCacheKey(*args, **kwargs)`` / ``ResourceCacheKey(*args, **kwargs)``
in ``session.cache``, building and caching it on the first call. The keys,
the caches (``LRUClientCache``, ``LFUClientCache``...), their default size
(10), their eviction and their errors are boto3-client-cache's own objects
and classes; this module re-exports them.

What gobrs adds is a fast path in front: once a call whose arguments are
plain values (str, int, float, bool, bytes, None) has been answered, the
same call is answered from a table of its raw arguments, without building a
``ClientCacheKey`` again (which inspects boto3's signature, tens of
microseconds). A hit still looks the object up in the boto3-client-cache
cache and records the use there (LRU recency, LFU frequency), under that
cache's lock, so eviction is exactly boto3-client-cache's; an object evicted
or removed from the cache is never returned by the fast path. Everything
else (the first call, a ``Config`` argument, ``max_size``, a bad
``eviction_policy``) goes through boto3-client-cache's ``Session.client`` /
``Session.resource`` unchanged.

A forked child (``os.fork``) starts with empty caches and fresh locks: the
parent's clients share its network connections, and a lock held by a parent
thread would never be released in the child.

Examples
--------
>>> from gobrs import ClientCacheKey
>>> s3 = session.client("s3")
>>> session.cache.client.LRU[ClientCacheKey("s3")] is s3
True
>>> session.cache["client"]["LRU"].max_size
10
"""

from __future__ import annotations

__all__ = [
    "CacheError",
    "CacheType",
    "ClientCache",
    "ClientCacheError",
    "ClientCacheExistsError",
    "ClientCacheKey",
    "ClientCacheNotFoundError",
    "EvictionPolicy",
    "LFUClientCache",
    "LFUResourceCache",
    "LRUClientCache",
    "LRUResourceCache",
    "ResourceCache",
    "ResourceCacheError",
    "ResourceCacheExistsError",
    "ResourceCacheKey",
    "ResourceCacheNotFoundError",
    "SessionCache",
    "SessionClientCache",
    "SessionResourceCache",
]

import os
import threading
import weakref
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

import boto3_client_cache
from boto3.resources.base import ServiceResource
from boto3_client_cache import (
    CacheError,
    CacheType,
    ClientCache,
    ClientCacheError,
    ClientCacheExistsError,
    ClientCacheKey,
    ClientCacheNotFoundError,
    EvictionPolicy,
    LFUClientCache,
    LFUResourceCache,
    LRUClientCache,
    LRUResourceCache,
    ResourceCache,
    ResourceCacheError,
    ResourceCacheExistsError,
    ResourceCacheKey,
    ResourceCacheNotFoundError,
    SessionCache,
    SessionClientCache,
    SessionResourceCache,
)
from botocore.client import BaseClient

#: Argument types that are immutable and compare by value: a call made only
#: of these may be answered by the fast path.
_SIMPLE = frozenset({str, int, float, bool, bytes, type(None)})

#: A fast-path table holds at most this many argument tuples; past it, it
#: starts over (the next calls take the slow path once each).
_MAX_SPELLINGS = 256


class _Store(OrderedDict):  # type: ignore[type-arg]
    """The storage of a boto3-client-cache LRU cache, counting the changes
    of its membership (``gen``), so that the fast path knows without a
    lookup whether the object it saw under a key is still there.

    boto3-client-cache changes it only under the cache's lock; moving a key
    to the end (a use) is not a change of membership.
    """

    gen = 0

    def __setitem__(self, key: Any, value: Any) -> None:
        self.gen += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self.gen += 1
        super().__delitem__(key)

    def pop(self, *args: Any) -> Any:
        self.gen += 1
        return super().pop(*args)

    def popitem(self, last: bool = True) -> Any:
        self.gen += 1
        return super().popitem(last)

    def clear(self) -> None:
        self.gen += 1
        super().clear()


def _track(family: Any) -> None:
    """Give the LRU cache of a session family a counting store."""

    cache = family.LRU
    with cache._lock:
        if type(cache._cache) is not _Store:
            cache._cache = _Store(cache._cache)


#: One fast-path entry (a list, updated in place): the call's keyword
#: arguments, its key, then for an LRU cache its store, the object and the
#: store's ``gen`` when the object was seen there; for an LFU cache None,
#: the cache and 0.
_Alias = List[Any]
#: eviction_policy -> positional arguments -> the entries seen with them.
_Table = Dict[Any, Dict[Tuple[Any, ...], Tuple[_Alias, ...]]]


def _hit(table: _Table, policy: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    """The hit path: the object cached for a call spelled as one answered
    before, its use recorded in its cache; or None."""

    try:
        for alias in table[policy][args]:
            kw, key, store, obj, gen = alias
            if kw == kwargs:
                if store is None:  # LFU: the cache's own get, under its lock
                    return obj.get(key)
                if store.gen != gen:  # membership changed: look again
                    gen = store.gen
                    obj = store.get(key)
                    if obj is None:
                        return None
                    alias[3] = obj
                    alias[4] = gen  # after the object: readers check gen first
                store.move_to_end(key)  # the most recent; KeyError if just evicted
                return obj
    except Exception:  # not seen, unhashable, an argument failing ==, evicted meanwhile
        pass
    return None


def _remember(
    table: _Table,
    family: Any,
    key_class: type,
    policy: Any,
    args: Tuple[Any, ...],
    kwargs: Dict[str, Any],
    obj: Any,
) -> None:
    """Let the fast path answer this call from now on, if its arguments allow
    it and the object is what boto3-client-cache holds for it."""

    simple = _SIMPLE
    if any(type(v) not in simple for v in args) or any(type(v) not in simple for v in kwargs.values()):
        return
    try:
        key = key_class(*args, **kwargs)
        cache = family[policy or "LRU"]
        with cache._lock:
            store = cache._cache
            if store.get(key) is not obj:
                return
            if type(store) is _Store:
                # the stored key object itself, so that moving it to the end
                # while it is there already costs no hashing: the call just
                # made it the most recent
                last = next(reversed(store))
                if last != key:  # pragma: no cover - another thread came between
                    return
                alias = [dict(kwargs), last, store, obj, store.gen]
            else:
                alias = [dict(kwargs), key, None, cache, 0]
    except Exception:  # pragma: no cover - the slow path just accepted it
        return
    by_args = table.setdefault(policy, {})
    if len(by_args) >= _MAX_SPELLINGS:
        by_args.clear()
    seen = by_args.get(args, ())
    by_args[args] = (*(a for a in seen if a[0] != kwargs), alias)


class CachedSession(boto3_client_cache.Session):  # type: ignore[misc]  # the base is untyped (Any)
    """boto3-client-cache's :class:`~boto3_client_cache.Session` with the fast
    path in front of its ``client`` and ``resource``.

    The base class of every gobrs session; see the module's documentation.

    Attributes
    ----------
    cache : boto3_client_cache.SessionCache
        The client and resource caches (``cache.client.LRU``,
        ``cache["resource"]["LFU"]``...).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client_hits: _Table = {}
        self._resource_hits: _Table = {}
        _track(self.cache.client)
        _track(self.cache.resource)
        _SESSIONS.add(self)

    def client(
        self,
        *args: Any,
        eviction_policy: Optional[EvictionPolicy] = None,
        max_size: Optional[int] = None,
        **kwargs: Any,
    ) -> BaseClient:
        """Returns the cached client for these arguments, creating and caching
        it on the first call.

        Parameters
        ----------
        eviction_policy : EvictionPolicy, optional
            The cache to use, "LRU" or "LFU". Case sensitive. Defaults to
            "LRU".
        max_size : int | None, optional
            The new maximum size of that cache. If None, its size is left as
            it is; a new cache holds 10. A smaller value evicts at once.
            Default None.
        *args, **kwargs
            The arguments of :meth:`boto3.session.Session.client`; the key
            is ``ClientCacheKey(*args, **kwargs)``.

        Returns
        -------
        BaseClient
            The cached client.

        Raises
        ------
        ClientCacheError
            If ``eviction_policy`` is invalid.
        """

        return self._cached("client", self._client_hits, ClientCacheKey, eviction_policy, max_size, args, kwargs)  # type: ignore[no-any-return]

    def resource(
        self,
        *args: Any,
        eviction_policy: Optional[EvictionPolicy] = None,
        max_size: Optional[int] = None,
        **kwargs: Any,
    ) -> ServiceResource:
        """Returns the cached resource for these arguments, creating and
        caching it on the first call: :meth:`client` for resources, keyed by
        ``ResourceCacheKey(*args, **kwargs)``; its errors are
        ``ResourceCacheError`` and subclasses.
        """

        return self._cached(  # type: ignore[no-any-return]
            "resource", self._resource_hits, ResourceCacheKey, eviction_policy, max_size, args, kwargs
        )

    def _cached(
        self,
        kind: str,
        hits: _Table,
        key_class: type,
        eviction_policy: Optional[EvictionPolicy],
        max_size: Optional[int],
        args: Tuple[Any, ...],
        kwargs: Dict[str, Any],
    ) -> Any:
        """:meth:`client` or :meth:`resource` (``kind``): the fast path's
        answer from ``hits``, or the base class's, which the fast path then
        remembers under ``key_class(*args, **kwargs)``."""

        if max_size is None:  # the fast path (see the module's documentation)
            obj = _hit(hits, eviction_policy, args, kwargs)
            if obj is not None:
                return obj
        made = getattr(super(), kind)(*args, eviction_policy=eviction_policy, max_size=max_size, **kwargs)
        _remember(hits, getattr(self.cache, kind), key_class, eviction_policy, args, kwargs, made)
        return made

    def __copy__(self) -> "CachedSession":
        """A shallow copy, as boto3-refresh-session's: a second session object
        sharing this one's botocore session, credentials and caches."""

        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        _SESSIONS.add(twin)
        return twin

    def _clear_cache(self) -> None:
        """Empty every cache of the session and the fast path's tables."""

        self._client_hits = {}
        self._resource_hits = {}
        for family in (self.cache.client, self.cache.resource):
            family.LRU.clear()
            family.LFU.clear()

    def _reset_after_fork(self) -> None:
        # The parent's threads do not exist in the child: a lock one of them
        # held would never be released, and the parent's clients share its
        # connections. Start over.
        self._lock = threading.RLock()
        for family in (self.cache.client, self.cache.resource):
            for cache in (family.LRU, family.LFU):
                cache._lock = threading.RLock()
        self._clear_cache()
        _track(self.cache.client)
        _track(self.cache.resource)


#: Every live session, so that a forked child can reset them.
_SESSIONS: "weakref.WeakSet[CachedSession]" = weakref.WeakSet()


def _reset_all_after_fork() -> None:
    for session in list(_SESSIONS):
        session._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_all_after_fork)
