"""The session classes: the :class:`RefreshableSession` factory and the base
class every method's session derives from."""

from __future__ import annotations

__all__ = ["BaseRefreshableSession", "RefreshableSession"]

import importlib
import warnings
from typing import Any, ClassVar, Dict, List, Mapping, Optional, cast

from . import _lib
from ._reprs import safe_repr, scrub_locals, user_stacklevel
from .cache import CachedSession
from .credentials import GoRefreshableCredentials
from .exceptions import (
    BRSConfigurationError,
    BRSExpiredCredentialError,
    BRSValidationError,
    BRSWarning,
    _show,
)
from .utils.typing import Identity, Method, TemporaryCredentials

#: Every method gobrs knows and the module that implements it. A module
#: registers its class by subclassing BaseRefreshableSession with
#: ``registry_key=...``; the factory imports the module on first use.
_METHOD_MODULES: Dict[str, str] = {
    "custom": "gobrs.custom",
    "iot": "gobrs.iot",
    "sts": "gobrs.sts",
}

_registry: Dict[str, type["BaseRefreshableSession"]] = {}


class BaseRefreshableSession(CachedSession):
    """A :class:`boto3.session.Session` whose credentials come from a gobrs
    Go session and are refreshed by it.

    Everything :class:`boto3.session.Session` offers works as usual; every
    client and resource made from the session signs with the current
    credentials, including clients made before a refresh. Clients keep
    working after the session object itself is gone; :meth:`close` (or
    leaving a ``with`` block) ends the Go session, after which they raise
    :class:`~gobrs.exceptions.BRSClosedError`.

    Parameters
    ----------
    defer_refresh : bool = True, optional
        If True the first credentials are fetched at first use; if False
        they are fetched now and a failure is raised here. Default True.
    advisory_timeout : int | float = 900, optional
        Seconds before expiry at which one caller refreshes while the
        others keep the current credentials; a failed advisory refresh is
        tolerated. Credentials that live less than four times this long
        have both windows scaled down so that this one is a quarter of
        their life. Default 900.
    mandatory_timeout : int | float = 600, optional
        Seconds before expiry at which every caller waits for a successful
        refresh and gets its error if it fails. Must not exceed
        ``advisory_timeout``. Default 600.
    background_refresh : bool = False, optional
        gobrs's extra: renew the credentials from a Go thread shortly
        before the advisory window opens, so that no caller ever waits for
        a refresh. Default False.
    refresh_timeout : int | float | None = None, optional
        gobrs's extra: seconds after which a caller waiting for a refresh
        gives up with :class:`~gobrs.exceptions.BRSCredentialError` (in the
        advisory window it keeps the current credentials instead) while the
        refresh goes on and is used once it lands. The way out of a getter
        that never returns, such as one waiting for a thread that reads
        this same session. Default None: wait as long as the refresh takes,
        as boto3-refresh-session does.

    Attributes
    ----------
    cache : boto3_client_cache.SessionCache
        The client and resource caches of boto3-client-cache, as in
        boto3-refresh-session: :meth:`client` and :meth:`resource` return
        the object cached under ``ClientCacheKey(*args, **kwargs)`` /
        ``ResourceCacheKey(*args, **kwargs)`` (``cache.client.LRU``,
        ``cache["resource"]["LFU"]``...; see :mod:`gobrs.cache`).
    refresh_method : str
        What botocore reports as the credentials' ``method``
        (``"custom"``, ``"sts-assume-role"``, ``"iot-x509"``).
    registry : dict
        Every registered method key and its session class (class
        attribute, as in boto3-refresh-session).

    Other Parameters
    ----------------
    **kwargs : Any, optional
        Keyword arguments of :class:`boto3.session.Session`.

    Notes
    -----
    Writing a method's session class (this is how ``custom``, ``sts`` and
    ``iot`` are written):

    1. Subclass with the three class keywords::

           class FooRefreshableSession(
               BaseRefreshableSession,
               registry_key="foo",     # the factory's method name
               go_method="foo",        # the Go method ("method" in the JSON config)
               refresh_method="foo",   # botocore's credentials.method
           ):

       and add ``"foo": "gobrs.foo"`` to ``_METHOD_MODULES`` so the factory
       can import the module on demand.
    2. In ``__init__``: check only what is Python's own (callables,
       Python types that JSON cannot carry; raise
       :class:`~gobrs.exceptions.BRSValidationError` naming the
       parameter) -- every value that reaches the JSON config is checked by
       the method's Go config struct -- call ``super().__init__(**kwargs)``,
       then ``self._start(config, handler, param)``:

       - ``config``: the method's JSON keys (without ``method`` and the
         common keys, which the base class adds);
       - ``handler``: ``None`` or a callable ``handler(request: int) ->
         Mapping[str, str]`` answering ``gobrs._lib.REQ_CREDENTIALS``,
         ``REQ_SOURCE_CREDENTIALS`` or ``REQ_MFA_TOKEN`` with the keys
         include/brs.h lists. It runs on a Go thread with the GIL held. It
         must not reference the session (use :func:`functools.partial`
         over a module-level function and plain values), or the session
         could never be collected. Whatever it raises reaches the caller
         as that same exception object;
       - ``param``: the user parameter the handler stands for, named in
         those errors.
    3. Override :meth:`get_identity` when the Go session's ``brs_whoami``
       answer (the default) is not what the method should return.
    """

    #: The method name in the Go JSON config ("custom", "sts", "iot").
    _brs_method: ClassVar[str] = ""
    #: What botocore reports as the credentials' ``method``.
    _refresh_method: ClassVar[str] = ""
    #: Every registered method key and its session class.
    registry: ClassVar[Dict[str, type["BaseRefreshableSession"]]] = _registry

    def __init_subclass__(
        cls,
        registry_key: Optional[str] = None,
        go_method: Optional[str] = None,
        refresh_method: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if go_method is not None:
            cls._brs_method = go_method
        if refresh_method is not None:
            cls._refresh_method = refresh_method
        if "__init__" in cls.__dict__:  # a failed constructor leaves no secret in frame locals
            cls.__init__ = scrub_locals(cls.__dict__["__init__"])  # type: ignore[method-assign]
        if registry_key is not None:
            if registry_key in _registry and _registry[registry_key] is not cls:
                BRSWarning.warn(f"{registry_key!r} already registered. Overwriting.")
            _registry[registry_key] = cls

    def __init__(
        self,
        *,
        defer_refresh: Optional[bool] = True,
        advisory_timeout: Optional[float] = 900,
        mandatory_timeout: Optional[float] = 600,
        background_refresh: bool = False,
        refresh_timeout: Optional[float] = None,
        **kwargs: Any,
    ) -> None:
        if "refresh_method" in kwargs:
            BRSWarning.warn(
                f"'refresh_method' cannot be set manually. Reverting to {self._refresh_method!r}.",
                stacklevel=3,
            )
            del kwargs["refresh_method"]
        # as boto3-refresh-session: anything but False defers, None is the
        # default; the values are checked by the Go core (_start)
        self.defer_refresh: bool = defer_refresh is not False
        self.advisory_timeout: float = 900 if advisory_timeout is None else advisory_timeout
        self.mandatory_timeout: float = 600 if mandatory_timeout is None else mandatory_timeout
        self.background_refresh: bool = background_refresh
        self.refresh_timeout: Optional[float] = refresh_timeout
        self.refresh_method: str = self._refresh_method
        self._credentials: Optional[GoRefreshableCredentials] = None
        super().__init__(**kwargs)

    def _start(
        self,
        config: Mapping[str, Any],
        handler: Optional[_lib.Handler] = None,
        param: str = "callback",
    ) -> Dict[str, str]:
        """Open the Go session and install its credentials in this session.

        The Go core checks every value of the config; what it decides to do
        otherwise than asked (``brs_warnings``) is raised here as a
        :class:`~gobrs.exceptions.BRSWarning` pointing at the user's line.

        Parameters
        ----------
        config : Mapping[str, Any]
            The method's own JSON config keys (include/brs.h).
        handler : gobrs._lib.Handler, optional
            Answers the Go session's callback requests (see the class notes).
        param : str, optional
            The user parameter the handler stands for, named in errors.

        Returns
        -------
        Dict[str, str]
            The values the Go core used instead of those given, by
            parameter (e.g. ``{"endpoint": ...}`` for a rewritten one).
        """

        common: Dict[str, Any] = dict(
            method=self._brs_method,
            defer_refresh=self.defer_refresh,
            advisory_timeout=self.advisory_timeout,
            mandatory_timeout=self.mandatory_timeout,
            background_refresh=self.background_refresh,
            refresh_timeout=self.refresh_timeout,
        )
        # The config (which may hold secrets) is passed on sealed and never
        # kept unsealed in a local of this frame, which a traceback may show.
        sealed = _lib.Sealed({**_lib.unseal(config), **common})
        opener: Any = _lib.NativeSession
        if _lib.forked():  # this process cannot run Go: a helper runs the session
            from ._host import HostedSession as opener
        try:
            native = opener(sealed, handler, param)
        except BRSExpiredCredentialError:
            if self.defer_refresh:
                raise
            # as botocore's eager credentials: an expired first answer is
            # kept without a check, and the first read asks again
            native = opener(_lib.Sealed({**_lib.unseal(sealed), "defer_refresh": True}), handler, param)
        credentials = GoRefreshableCredentials(native, self._refresh_method)
        self._credentials = credentials
        # botocore reads credentials from its own session; clients made from
        # this session get this very object
        self._session._credentials = credentials
        replaced: Dict[str, str] = {}
        for warning in native.warnings():
            warnings.warn(BRSWarning(str(warning.get("message", ""))), stacklevel=user_stacklevel())
            if "value" in warning:
                replaced[str(warning.get("param"))] = str(warning["value"])
        return replaced

    def _creds(self) -> GoRefreshableCredentials:
        credentials: Optional[GoRefreshableCredentials] = getattr(self, "_credentials", None)
        if credentials is None:
            raise BRSConfigurationError(f"{type(self).__name__} was not started (its __init__ did not finish)")
        return credentials

    # -- credentials --------------------------------------------------------

    def refreshable_credentials(self) -> TemporaryCredentials:
        """Returns the current temporary AWS security credentials.

        Returns
        -------
        TemporaryCredentials
            ``access_key``, ``secret_key``, ``token`` and ``expiry_time``
            (ISO 8601, UTC).
        """

        frozen, expiry = self._creds().snapshot()
        # botocore's ReadOnlyCredentials allows None; gobrs's hold strings
        return {
            "access_key": cast(str, frozen.access_key),
            "secret_key": cast(str, frozen.secret_key),
            "token": cast(str, frozen.token),
            "expiry_time": expiry,
        }

    @property
    def credentials(self) -> TemporaryCredentials:
        """The current temporary AWS security credentials.

        Alias for :meth:`refreshable_credentials`.
        """

        return self.refreshable_credentials()

    def get_identity(self) -> Identity:
        """Returns metadata about the current caller identity.

        Returns
        -------
        Identity
            What the Go session reports for the credentials.
        """

        return self._creds()._native.whoami()  # type: ignore[return-value]

    def whoami(self) -> Identity:
        """Returns metadata about the current caller identity.

        Alias for :meth:`get_identity`.

        Returns
        -------
        Identity
            Dict describing the current caller identity.
        """

        return self.get_identity()

    # -- lifetime -------------------------------------------------------------

    def close(self) -> None:
        """Close the Go session: stop background refresh and release it.

        Clients made from this session raise
        :class:`~gobrs.exceptions.BRSClosedError` afterwards; the client
        and resource caches are emptied. Closing twice is safe. Without a
        call to ``close()`` the Go session is closed when the session and
        every client made from it are gone, or at exit.
        """

        credentials = getattr(self, "_credentials", None)
        if credentials is not None:
            credentials.close()
        if hasattr(self, "_client_hits"):  # not on a half-built session
            self._clear_cache()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""

        credentials = getattr(self, "_credentials", None)  # None on a half-built session
        return credentials is None or credentials.closed

    def __enter__(self) -> "BaseRefreshableSession":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __reduce_ex__(self, protocol: Any) -> Any:
        # the Go session cannot follow a copy into another process
        return _lib.refuse_pickle()

    @safe_repr
    def __repr__(self) -> str:
        # only non-secret settings: never keys or tokens; safe on a session
        # whose __init__ failed half-way (traceback formatters repr locals)
        parts = [f"method={self._brs_method!r}"]
        try:
            parts.append(f"region_name={self.region_name!r}")
            profile = self._session.profile
            if profile is not None:
                parts.append(f"profile_name={profile!r}")
        except Exception:
            pass
        parts.append(f"closed={self.closed!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _session_class(method: Any) -> type[BaseRefreshableSession]:
    """Return the session class of ``method``, importing its module."""

    if isinstance(method, str) and method in _registry:
        return _registry[method]
    if not isinstance(method, str) or method not in _METHOD_MODULES:
        choices = ", ".join(repr(m) for m in sorted(_METHOD_MODULES))
        raise BRSValidationError(
            f"{_show(method)} is an invalid method parameter. Available methods are {choices}.",
            param="method",
            value=method,
        )
    cls = _registry.get(method)
    if cls is not None:
        return cls
    module = _METHOD_MODULES[method]
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise BRSConfigurationError(
            f"method {method!r} is not built yet in this version of gobrs; "
            f"available now: {', '.join(repr(m) for m in RefreshableSession.get_available_methods())}",
            param="method",
            value=method,
        ) from None
    cls = _registry.get(method)
    if cls is None:  # pragma: no cover - a module that forgot to register
        raise BRSConfigurationError(f"{module} does not register method {method!r}", param="method", value=method)
    return cls


class RefreshableSession:
    """Factory of refreshable boto3 sessions.

    ``RefreshableSession(method=..., **kwargs)`` returns an instance of the
    method's class: :class:`~gobrs.custom.CustomRefreshableSession` for
    ``"custom"``, ``STSRefreshableSession`` for ``"sts"``,
    ``IOTX509RefreshableSession`` for ``"iot"``.

    Parameters
    ----------
    method : Literal["sts", "custom", "iot"] = "sts", optional
        The refresh method. Default ``"sts"``, as in boto3-refresh-session.
    defer_refresh : bool = True, optional
        Fetch the first credentials at first use (True) or now (False).
    advisory_timeout : int = 900, optional
        Seconds before expiry at which one caller refreshes while the
        others go on; a failed advisory refresh is tolerated.
    mandatory_timeout : int = 600, optional
        Seconds before expiry at which every caller waits for a successful
        refresh.
    background_refresh : bool = False, optional
        Renew ahead of the advisory window from a Go thread.

    Other Parameters
    ----------------
    **kwargs : Any, optional
        The method's own parameters and those of
        :class:`boto3.session.Session`.

    Raises
    ------
    BRSValidationError
        For an unknown method.
    BRSConfigurationError
        For a method that this version of gobrs does not provide.

    Examples
    --------
    >>> from gobrs import RefreshableSession
    >>> session = RefreshableSession(
    ...     method="custom",
    ...     custom_credentials_method=my_getter,
    ...     region_name="us-east-1",
    ... )
    >>> session.client("s3").list_buckets()
    """

    @scrub_locals
    def __new__(cls, method: Method = "sts", **kwargs: Any) -> BaseRefreshableSession:
        return _session_class(method)(**kwargs)

    @classmethod
    def get_available_methods(cls) -> List[str]:
        """Lists the refresh methods this version of gobrs provides.

        Returns
        -------
        List[str]
            E.g. ``["custom", "iot", "sts"]``.
        """

        available = []
        for method, module in sorted(_METHOD_MODULES.items()):
            if method not in _registry:
                try:
                    importlib.import_module(module)
                except ModuleNotFoundError as exc:
                    if exc.name != module:
                        raise
                    continue
            if method in _registry:
                available.append(method)
        return available
