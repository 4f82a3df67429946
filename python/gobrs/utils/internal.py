"""The building blocks of a method's session class, under
boto3-refresh-session's names: :class:`Registry`, :class:`CredentialProvider`,
:class:`BRSSession` and :func:`refreshable_session`.

gobrs's own methods (``custom``, ``sts``, ``iot``) are written on
:class:`gobrs.session.BaseRefreshableSession` and the Go core. A method
written for boto3-refresh-session, in Python, works unchanged::

    @refreshable_session
    class MySession(Registry, BRSSession, CredentialProvider, registry_key="mine"):
        def __init__(self, **kwargs):
            super().__init__(refresh_method="custom", **kwargs)

        def _get_credentials(self) -> TemporaryCredentials: ...
        def get_identity(self) -> Identity: ...

    session = RefreshableSession(method="mine")

Its ``_get_credentials`` is called from the Go core exactly as a ``custom``
method's getter is (refresh windows, single flight, errors).
"""

from __future__ import annotations

__all__ = [
    "AWSCRTResponse",
    "BRSSession",
    "CredentialProvider",
    "Registry",
    "refreshable_session",
]

import functools
import weakref
from abc import ABC, ABCMeta, abstractmethod
from typing import Any, Callable, ClassVar, Dict, Generic, Optional, Type, TypeVar

from ..custom import _call_getter
from ..exceptions import BRSClosedError, BRSWarning
from ..session import BaseRefreshableSession, _registry
from .typing import Identity, RegistryKey, TemporaryCredentials

_T = TypeVar("_T")


class CredentialProvider(ABC):
    """What a method's session must implement: ``_get_credentials`` (one set
    of temporary credentials) and ``get_identity``."""

    @abstractmethod
    def _get_credentials(self) -> TemporaryCredentials: ...

    @abstractmethod
    def get_identity(self) -> Identity: ...


class Registry(Generic[RegistryKey, _T]):
    """Registers a subclass under ``registry_key``, so that
    ``RefreshableSession(method=registry_key)`` makes it.

    Attributes
    ----------
    registry : ClassVar[dict[str, type]]
        Every registered key and its class (the same dict as
        ``BaseRefreshableSession.registry``).
    """

    registry: ClassVar[Dict[str, type]] = _registry

    def __init_subclass__(cls, *, registry_key: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if registry_key in cls.registry and cls.registry[registry_key] is not cls:
            BRSWarning.warn(f"{registry_key!r} already registered. Overwriting.")
        cls.registry[registry_key] = cls


class _Any(ABCMeta):
    """Every gobrs session is a :class:`BRSSession`, as every
    boto3-refresh-session session is one of its ``BRSSession``."""

    def __instancecheck__(cls, obj: Any) -> bool:
        if cls.__name__ == "BRSSession" and cls.__module__ == __name__:
            return isinstance(obj, BaseRefreshableSession)
        return super().__instancecheck__(obj)

    def __subclasscheck__(cls, sub: type) -> bool:
        if cls.__name__ == "BRSSession" and cls.__module__ == __name__:
            return isinstance(sub, type) and issubclass(sub, BaseRefreshableSession)
        return super().__subclasscheck__(sub)


def _weak_getter(ref: "weakref.WeakMethod[Callable[[], Any]]") -> Any:
    method = ref()
    if method is None:  # pragma: no cover - the Go session is closed with it
        raise BRSClosedError("the session was collected")
    return method()


class BRSSession(BaseRefreshableSession, metaclass=_Any):
    """The base class of a method's session written in Python, as
    boto3-refresh-session's ``BRSSession``: the credentials come from the
    subclass's ``_get_credentials``, called by the Go core.

    Parameters
    ----------
    refresh_method : str
        What botocore reports as the credentials' ``method``.
    defer_refresh, advisory_timeout, mandatory_timeout : optional
        As for every gobrs session.
    **kwargs : Any, optional
        Keyword arguments of :class:`boto3.session.Session`.
    """

    _brs_method = "custom"

    def __init__(
        self,
        refresh_method: str = "custom",
        defer_refresh: Optional[bool] = None,
        advisory_timeout: Optional[float] = None,
        mandatory_timeout: Optional[float] = None,
        **kwargs: Any,
    ) -> None:
        self._refresh_method = refresh_method  # type: ignore[misc]
        super().__init__(
            defer_refresh=defer_refresh,
            advisory_timeout=advisory_timeout,
            mandatory_timeout=mandatory_timeout,
            **kwargs,
        )

    def __post_init__(self) -> None:
        """Start the Go session on ``self._get_credentials`` (once)."""

        if self._credentials is None:
            ref = weakref.WeakMethod(self._get_credentials)
            handler = functools.partial(_call_getter, functools.partial(_weak_getter, ref), {})
            self._start({}, handler, "_get_credentials")


def refreshable_session(cls: Type[_T]) -> Type[_T]:
    """Class decorator: have ``__post_init__`` run once after ``__init__``.

    Parameters
    ----------
    cls : type
        The session class.

    Returns
    -------
    type
        ``cls``, its ``__init__`` wrapped (once, however often decorated).
    """

    init = cls.__init__
    if getattr(init, "__post_init_wrapped__", False):
        return cls

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        post = getattr(self, "__post_init__", None)
        if callable(post) and not getattr(self, "_post_inited", False):
            post()
            self._post_inited = True

    wrapper.__post_init_wrapped__ = True  # type: ignore[attr-defined]
    cls.__init__ = wrapper  # type: ignore[method-assign]  # wrapping __init__ is the point
    return cls


class AWSCRTResponse:
    """Collects the answer of an awscrt HTTP request (status, headers, body),
    as boto3-refresh-session's helper of that name. gobrs's own IoT method
    does not use awscrt; this is for code written against it.
    """

    def __init__(self) -> None:
        self.status_code: Optional[int] = None
        self.headers: Any = None
        self.body = bytearray()

    def on_response(self, http_stream: Any, status_code: int, headers: Any, **kwargs: Any) -> None:
        """awscrt's ``on_response`` callback."""

        from awscrt.http import HttpHeaders

        self.status_code = status_code
        self.headers = HttpHeaders(headers)

    def on_body(self, http_stream: Any, chunk: bytes, **kwargs: Any) -> None:
        """awscrt's ``on_body`` callback."""

        self.body.extend(chunk)
