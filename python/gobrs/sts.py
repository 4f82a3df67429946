"""The ``sts`` method: temporary credentials of an IAM role assumed with STS
AssumeRole, with optional MFA.

The AssumeRole calls are made by the Go core (no boto3 STS client is built):
it shares STS clients and, without MFA, the assumed credentials themselves
between sessions of the process, so N sessions for one role make one
AssumeRole call per expiry. See docs/sts.md.
"""

from __future__ import annotations

__all__ = ["AssumeRoleConfig", "STSClientConfig", "STSRefreshableSession"]

import collections
import functools
import json
import os
import re
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from . import _lib
from ._reprs import safe_repr, scrub_locals
from .exceptions import (
    BRSConfigurationError,
    BRSCredentialError,
    BRSParamValidationError,
    BRSTypeError,
    BRSValidationError,
    BRSWarning,
)
from .session import BaseRefreshableSession
from .utils.typing import Identity

_TOKEN_RE = re.compile(r"[0-9]{6}")
#: The user-info part of a URL (``user:password@``), masked in reprs.
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s'\"]+@")


class _Config(Dict[str, Any]):
    """A dict of known keys with attribute access.

    Unset known keys read as None through attributes; setting a key to None
    removes it; unknown keys are refused with a BRSValidationError.
    """

    _keys: Tuple[str, ...] = ()
    _name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:  # a failed constructor leaves no secret in frame locals
            cls.__init__ = scrub_locals(cls.__dict__["__init__"])  # type: ignore[method-assign]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.update(kwargs)

    def _validate(self, key: str, value: Any) -> Any:
        if not isinstance(key, str) or key not in self._keys:
            raise BRSValidationError(
                f"{key!r} is not a valid attribute for {self._name}; valid ones are {', '.join(self._keys)}",
                param=f"{self._name}.{key}" if isinstance(key, str) else self._name,
            )
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        value = self._validate(key, value)
        if value is None:
            self.pop(key, None)
        else:
            super().__setitem__(key, value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self:
            return self[name]
        if name in self._keys:
            return None
        raise AttributeError(f"{name!r} is an unknown attribute of {self._name}")

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        self.pop(name, None)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self.get(key)

    def copy(self) -> "_Config":
        return type(self)(**self)


class AssumeRoleConfig(_Config):
    """The parameters of STS AssumeRole, in their AWS names.

    A dict with attribute access: ``config.RoleArn`` and
    ``config["RoleArn"]`` are the same; an unset parameter reads as None.
    The Go core checks every parameter against the AWS limits when the
    session is built (errors name ``assume_role_kwargs.<Name>``).

    Parameters
    ----------
    RoleArn : str
        Required. The ARN of the role to assume (at least 20 characters).
    RoleSessionName : str, optional
        The role session name; ``"boto3-refresh-session"`` when not given.
    PolicyArns : List[Dict[str, str]], optional
        Managed session policies, as ``[{"arn": "..."}]`` (at most 10).
    Policy : str, optional
        An inline session policy in JSON.
    DurationSeconds : int, optional
        The session lifetime, 900 to 43200 seconds.
    ExternalId : str, optional
        The external id the role's trust policy asks for.
    SerialNumber : str, optional
        The MFA device's serial number or ARN.
    TokenCode : str, optional
        A 6-digit MFA code. Without ``mfa_token_provider`` it is read again
        at every refresh, so you may update it in place.
    Tags : List[Dict[str, str]], optional
        Session tags, ``[{"Key": ..., "Value": ...}]`` (at most 50).
    TransitiveTagKeys : List[str], optional
        Tag keys passed on to chained roles.
    SourceIdentity : str, optional
        The source identity.
    ProvidedContexts : List[Dict[str, str]], optional
        Trusted context assertions, ``[{"ProviderArn": ..., "ContextAssertion": ...}]``.
    """

    _keys = (
        "RoleArn", "RoleSessionName", "PolicyArns", "Policy", "DurationSeconds", "ExternalId",
        "SerialNumber", "TokenCode", "Tags", "TransitiveTagKeys", "SourceIdentity", "ProvidedContexts",
    )  # fmt: skip
    _name = "AssumeRoleConfig"

    def __init__(
        self,
        *,
        RoleArn: str,
        RoleSessionName: Optional[str] = None,
        PolicyArns: Optional[List[Dict[str, str]]] = None,
        Policy: Optional[str] = None,
        DurationSeconds: Optional[int] = None,
        ExternalId: Optional[str] = None,
        SerialNumber: Optional[str] = None,
        TokenCode: Optional[str] = None,
        Tags: Optional[List[Dict[str, str]]] = None,
        TransitiveTagKeys: Optional[List[str]] = None,
        SourceIdentity: Optional[str] = None,
        ProvidedContexts: Optional[List[Dict[str, str]]] = None,
    ) -> None:
        super().__init__(
            RoleArn=RoleArn, RoleSessionName=RoleSessionName, PolicyArns=PolicyArns, Policy=Policy,
            DurationSeconds=DurationSeconds, ExternalId=ExternalId, SerialNumber=SerialNumber,
            TokenCode=TokenCode, Tags=Tags, TransitiveTagKeys=TransitiveTagKeys,
            SourceIdentity=SourceIdentity, ProvidedContexts=ProvidedContexts,
        )  # fmt: skip

    @safe_repr
    def __repr__(self) -> str:
        # a TokenCode is an MFA code: never shown
        shown = {k: ("****" if k == "TokenCode" else v) for k, v in self.items()}
        return f"AssumeRoleConfig({shown!r})"

    def _validate(self, key: str, value: Any) -> Any:
        super()._validate(key, value)
        if key == "RoleArn" and not (isinstance(value, str) and len(value) >= 20):
            raise BRSValidationError("'RoleArn' must be a string of at least 20 characters.", param="RoleArn")
        if key == "TokenCode" and value is not None and not (isinstance(value, str) and _TOKEN_RE.fullmatch(value)):
            # the value may be a real code: never echoed
            raise BRSValidationError("'TokenCode' must be a 6-digit numeric string.", param="TokenCode")
        return value


class STSClientConfig(_Config):
    """Settings of the STS client the Go core uses.

    A dict with attribute access, like :class:`AssumeRoleConfig`.

    Parameters
    ----------
    service_name : str, optional
        Always ``"sts"``; another value is replaced, with a BRSWarning.
    region_name : str, optional
        The STS region; default the session's region.
    api_version : str, optional
        Only ``"2011-06-15"``.
    use_ssl : bool, optional
        False selects http for the AWS endpoint (ignored with an endpoint URL).
    verify : bool | str, optional
        False disables TLS verification; a string is a CA bundle path.
    endpoint_url : str, optional
        An http(s) URL replacing the AWS endpoint (a moto server, say).
    aws_access_key_id, aws_secret_access_key, aws_session_token : str, optional
        Explicit credentials for AssumeRole; they win over the session's.
    config : botocore.config.Config | Dict[str, Any], optional
        Only ``retries``, ``connect_timeout``, ``read_timeout`` and
        ``proxies`` are honoured; any other option is refused.
    aws_account_id : str, optional
        Accepted for compatibility; it does not change the STS endpoint.
    """

    _keys = (
        "service_name", "region_name", "api_version", "use_ssl", "verify", "endpoint_url",
        "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "config", "aws_account_id",
    )  # fmt: skip
    _name = "STSClientConfig"

    def __init__(
        self,
        *,
        service_name: Optional[str] = None,
        region_name: Optional[str] = None,
        api_version: Optional[str] = None,
        use_ssl: Optional[bool] = None,
        verify: Optional[Union[bool, str]] = None,
        endpoint_url: Optional[str] = None,
        aws_access_key_id: Optional[str] = None,
        aws_secret_access_key: Optional[str] = None,
        aws_session_token: Optional[str] = None,
        config: Any = None,
        aws_account_id: Optional[str] = None,
    ) -> None:
        super().__init__(
            service_name=service_name, region_name=region_name, api_version=api_version, use_ssl=use_ssl,
            verify=verify, endpoint_url=endpoint_url, aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key, aws_session_token=aws_session_token,
            config=config, aws_account_id=aws_account_id,
        )  # fmt: skip

    def _validate(self, key: str, value: Any) -> Any:
        super()._validate(key, value)
        if key == "service_name":
            if value is None:
                return "sts"
            if not isinstance(value, str):
                raise BRSValidationError("'service_name' must be a string.", param="service_name")
            if value != "sts":
                BRSWarning.warn("The 'service_name' for STSClientConfig should be 'sts'. Overriding to 'sts'.")
                return "sts"
        return value

    @safe_repr
    def __repr__(self) -> str:
        shown = {k: ("****" if k in ("aws_secret_access_key", "aws_session_token") else v) for k, v in self.items()}
        # credentials inside URLs (a proxy's, an endpoint's) are masked too
        return _URL_USERINFO.sub("****@", f"STSClientConfig({shown!r})")


# -- the Go config ------------------------------------------------------------


def _client_config(config: Any) -> Tuple[Dict[str, Any], Optional[str]]:
    """The options of a botocore Config (or a dict of them) as JSON, and the
    Config's region_name.

    Which options botocore's Config has is botocore's (checked here); which
    of them gobrs's STS client honours is the Go core's: it reads those and
    names the others in one warning (``botocore_config``, include/brs.h).
    """

    if isinstance(config, Mapping):
        options = dict(config)
        from botocore.config import Config

        unknown = sorted(str(k) for k in options if k not in Config.OPTION_DEFAULTS)
        if unknown:
            raise BRSTypeError(
                f"{unknown[0]!r} is not an option of botocore.config.Config",
                param=f"sts_client_kwargs.config.{unknown[0]}",
            )
    else:
        provided = getattr(config, "_user_provided_options", None)
        if not isinstance(provided, dict):
            raise BRSValidationError(
                "'config' in sts_client_kwargs must be a botocore.config.Config or a dict",
                param="sts_client_kwargs.config",
            )
        options = dict(provided)
    region = options.pop("region_name", None)
    # a value JSON cannot carry (botocore.UNSIGNED, ...) is sent as true:
    # the Go core names such an option, or refuses it where it needs a value
    return {k: v if _json_value(v) else True for k, v in options.items()}, region


def _client_kwargs(client: STSClientConfig, region: Optional[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = dict(client)  # a _Config holds no None values
    if "config" in out:
        out["config"], config_region = _client_config(out["config"])
        out["botocore_config"] = True
        # botocore's order: the client's region_name, the Config's, the session's
        if "region_name" not in out and config_region:
            out["region_name"] = config_region
    if "region_name" not in out and region:
        out["region_name"] = region
    if isinstance(out.get("verify"), os.PathLike):
        out["verify"] = os.fspath(out["verify"])
    return out


def _command_kwargs(kwargs: Mapping[str, Any]) -> Dict[str, Any]:
    """mfa_token_provider_kwargs as JSON (paths made strings)."""

    out: Dict[str, Any] = {}
    for key, value in kwargs.items():
        if key == "cwd" and isinstance(value, os.PathLike):
            value = os.fspath(value)
        elif key == "env" and isinstance(value, Mapping):
            value = {os.fsdecode(k): os.fsdecode(v) for k, v in value.items()}
        elif key == "input" and isinstance(value, bytes):
            value = value.decode("utf-8")
        elif not _json_value(value):
            # a callable, a file, bytes...: Go only needs to know it is set
            # (and refuses shell, executable and preexec_fn when they are)
            value = bool(value)
        out[key] = value
    return out


def _json_value(value: Any) -> bool:
    """Whether JSON carries ``value`` as it is."""

    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


# -- source credentials -----------------------------------------------------------

# Source credentials resolved by botocore, shared process-wide by profile
# and credential environment (resolving builds a botocore session, which
# costs milliseconds: done once, at the first refresh that needs it).
_SOURCE_CACHE_SIZE = 32
_ENV_KEYS = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)  # fmt: skip
_sources: "collections.OrderedDict[Tuple[Any, ...], Any]" = collections.OrderedDict()
_sources_lock = threading.Lock()


def _resolved_source(profile: Optional[str]) -> Any:
    """botocore's credentials for ``profile`` and the current environment."""

    key = (profile,) + tuple(os.environ.get(k) for k in _ENV_KEYS)
    with _sources_lock:
        if key in _sources:
            _sources.move_to_end(key)
            return _sources[key]
    import botocore.session

    creds = botocore.session.Session(profile=profile).get_credentials()
    with _sources_lock:
        _sources[key] = creds
        while len(_sources) > _SOURCE_CACHE_SIZE:
            _sources.popitem(last=False)
    return creds


class _Source:
    """The credentials that sign AssumeRole: the session's own, resolved by
    botocore for the session's kwargs and read again at every refresh (so
    refreshable ones stay valid). It holds no reference to the session."""

    __slots__ = ("static", "profile", "botocore_credentials")

    def __init__(self, static: Optional[Dict[str, str]], profile: Optional[str], botocore_credentials: Any) -> None:
        self.static = static
        self.profile = profile
        self.botocore_credentials = botocore_credentials

    def get(self) -> Dict[str, str]:
        if self.static is not None:
            return self.static
        creds = self.botocore_credentials
        if creds is None:
            creds = _resolved_source(self.profile)
        if creds is None:
            raise BRSCredentialError(
                "no AWS credentials to call AssumeRole with: boto3 found none for this session "
                "(pass aws_access_key_id/aws_secret_access_key or profile_name, or configure the environment)",
                param="source_credentials",
            )
        frozen = creds.get_frozen_credentials()
        answer = {"access_key": frozen.access_key, "secret_key": frozen.secret_key}
        if frozen.token:
            answer["token"] = frozen.token
        return answer


def _mfa_from_callable(provider: Callable[..., Any], kwargs: Mapping[str, Any]) -> str:
    # an exception of the provider reaches the reader as it is (gobrs._lib)
    code = provider(**kwargs)
    if not isinstance(code, str) or not _TOKEN_RE.fullmatch(code.strip()):
        # botocore refuses a non-string or one under 6 characters itself;
        # anything else STS refuses
        cls = BRSParamValidationError if not isinstance(code, str) or len(code) < 6 else BRSValidationError
        raise cls(
            "'TokenCode' must be a 6-digit numeric string: mfa_token_provider returned something else.",
            param="mfa_token_provider",
        )
    return code.strip()


def _mfa_from_config(config: AssumeRoleConfig) -> str:
    code = config.get("TokenCode")
    if not isinstance(code, str) or not _TOKEN_RE.fullmatch(code):
        raise BRSConfigurationError(
            "'TokenCode' must be set in assume_role_kwargs when no mfa_token_provider is given.",
            param="TokenCode",
        )
    return code


def _answer(source: _Source, mfa: Optional[Callable[[], str]], request: int) -> Dict[str, str]:
    """Answer the Go session's requests (runs on a Go thread)."""

    if request == _lib.REQ_SOURCE_CREDENTIALS:
        return source.get()
    if request == _lib.REQ_MFA_TOKEN and mfa is not None:
        return {"token_code": mfa()}
    raise BRSCredentialError(f"the sts method got an unexpected request {request}", param="source_credentials")


# -- the session ----------------------------------------------------------------


class STSRefreshableSession(
    BaseRefreshableSession, registry_key="sts", go_method="sts", refresh_method="sts-assume-role"
):
    """A :class:`boto3.session.Session` that automatically refreshes
    temporary AWS credentials of an IAM role assumed via STS.

    Parameters
    ----------
    assume_role_kwargs : AssumeRoleConfig | Dict[str, Any]
        Required. The AssumeRole parameters (see :class:`AssumeRoleConfig`);
        ``RoleArn`` is required and ``RoleSessionName`` defaults to
        ``"boto3-refresh-session"``. They are read when the session is
        built, except ``TokenCode``, which is read at every refresh when
        there is no ``mfa_token_provider``.
    sts_client_kwargs : STSClientConfig | Dict[str, Any], optional
        Settings of the STS client (see :class:`STSClientConfig`). Default
        None: the session's region, the AWS endpoint.
    mfa_token_provider : Callable[..., str] | List[str] | str, optional
        With ``SerialNumber``: a callable returning a fresh 6-digit code, or
        a command (a string split shell-like, or a list of arguments) run
        without a shell whose last 6-digit number on standard output is the
        code. Called at every refresh; it wins over ``TokenCode``.
    mfa_token_provider_kwargs : Dict[str, Any], optional
        Keyword arguments for the callable, or, for a command, the
        ``subprocess.run`` arguments ``timeout`` (default 30), ``cwd``,
        ``env`` and ``input``. ``shell``, ``executable``, ``preexec_fn``,
        ``stdout`` and ``stderr`` are refused.

    Other Parameters
    ----------------
    **kwargs : Any, optional
        :class:`~gobrs.session.BaseRefreshableSession`'s parameters
        (``defer_refresh``, ``advisory_timeout``, ...) and
        :class:`boto3.session.Session`'s; the credentials
        they name (keys, profile, or the default chain) sign AssumeRole.

    Attributes
    ----------
    assume_role_kwargs : AssumeRoleConfig
        The AssumeRole parameters.
    sts_client_kwargs : STSClientConfig
        The STS client settings.

    Raises
    ------
    BRSValidationError
        A parameter of the wrong type or outside the AWS limits (named).
    BRSConfigurationError
        Inconsistent parameters: ``mfa_token_provider`` without
        ``SerialNumber``, ``SerialNumber`` without a token source,
        ``TokenCode`` without ``SerialNumber``; or an MFA command that fails.

    Notes
    -----
    Sessions of one process that assume the same role with the same
    parameters and source credentials share the assumed credentials: one
    AssumeRole call per expiry for all of them. Sessions using MFA share
    nothing.

    Examples
    --------
    >>> from gobrs import AssumeRoleConfig, STSRefreshableSession
    >>> session = STSRefreshableSession(
    ...     assume_role_kwargs=AssumeRoleConfig(RoleArn="<your-role-arn>"),
    ...     region_name="us-east-1",
    ... )
    >>> session.client("s3").list_buckets()
    """

    def __init__(
        self,
        assume_role_kwargs: Union[AssumeRoleConfig, Dict[str, Any]],
        sts_client_kwargs: Optional[Union[STSClientConfig, Dict[str, Any]]] = None,
        mfa_token_provider: Optional[Union[Callable[..., str], List[str], str]] = None,
        mfa_token_provider_kwargs: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        self.assume_role_kwargs: AssumeRoleConfig = _as_config(
            AssumeRoleConfig, assume_role_kwargs, "assume_role_kwargs"
        )
        self.sts_client_kwargs: STSClientConfig = (
            STSClientConfig() if sts_client_kwargs is None
            else _as_config(STSClientConfig, sts_client_kwargs, "sts_client_kwargs")
        )  # fmt: skip
        self.assume_role_kwargs.setdefault("RoleSessionName", "boto3-refresh-session")
        if not (
            mfa_token_provider is None
            or callable(mfa_token_provider)
            or isinstance(mfa_token_provider, str)
            or (isinstance(mfa_token_provider, list) and all(isinstance(a, str) for a in mfa_token_provider))
        ):
            raise BRSValidationError(
                "'mfa_token_provider' must be a callable, CLI command or list of command arguments "
                "that returns a string representing an MFA token code!",
                param="mfa_token_provider",
            )
        if mfa_token_provider_kwargs is not None and not isinstance(mfa_token_provider_kwargs, dict):
            raise BRSValidationError("'mfa_token_provider_kwargs' must be a dict.", param="mfa_token_provider_kwargs")
        self.mfa_token_provider = mfa_token_provider
        self.mfa_token_provider_kwargs: Dict[str, Any] = mfa_token_provider_kwargs or {}
        serial = self.assume_role_kwargs.SerialNumber
        token = self.assume_role_kwargs.TokenCode
        if mfa_token_provider is not None and serial is None:
            raise BRSConfigurationError(
                "'SerialNumber' must be provided in 'assume_role_kwargs' when using 'mfa_token_provider'!",
                param="SerialNumber",
            )
        if mfa_token_provider is None and (serial is None) != (token is None):
            raise BRSConfigurationError(
                "'SerialNumber' and 'TokenCode' must be provided in 'assume_role_kwargs' when "
                "'mfa_token_provider' is not set and 'SerialNumber' or 'TokenCode' is missing!",
                param="SerialNumber/TokenCode",
            )
        botocore_session = kwargs.get("botocore_session")
        super().__init__(**kwargs)

        # the credentials that sign AssumeRole: the session's own
        static: Optional[Dict[str, str]] = None
        if kwargs.get("aws_access_key_id") is not None or kwargs.get("aws_secret_access_key") is not None:
            for key in ("aws_access_key_id", "aws_secret_access_key"):
                if not isinstance(kwargs.get(key), str) or not kwargs[key]:
                    raise BRSConfigurationError(
                        "'aws_access_key_id' and 'aws_secret_access_key' must be given together.", param=key
                    )
            static = {"access_key": kwargs["aws_access_key_id"], "secret_key": kwargs["aws_secret_access_key"]}
            if kwargs.get("aws_session_token"):
                static["token"] = kwargs["aws_session_token"]
        resolved = None
        if static is None and botocore_session is not None:
            # a caller's botocore session: resolve now, before ours replace
            # its credentials (this object may reference that session)
            resolved = self._session.get_credentials()
        source = _Source(static, kwargs.get("profile_name"), resolved)

        # MFA: a callable, the TokenCode read at each refresh, or a command.
        # A TokenCode beside a provider goes to Go, which warns that it is
        # ignored; without one it is read at each refresh (_mfa_from_config).
        config: Dict[str, Any] = {
            "assume_role_kwargs": {
                k: v for k, v in self.assume_role_kwargs.items() if k != "TokenCode" or mfa_token_provider is not None
            },
            "sts_client_kwargs": _client_kwargs(self.sts_client_kwargs, self.region_name),
        }
        mfa: Optional[Callable[[], str]] = None
        if callable(mfa_token_provider):
            mfa = functools.partial(_mfa_from_callable, mfa_token_provider, dict(self.mfa_token_provider_kwargs))
        elif mfa_token_provider is not None:
            config["mfa_token_provider"] = mfa_token_provider
            if self.mfa_token_provider_kwargs:
                config["mfa_token_provider_kwargs"] = _command_kwargs(self.mfa_token_provider_kwargs)
        elif serial is not None:
            mfa = functools.partial(_mfa_from_config, self.assume_role_kwargs)
        self._start(config, functools.partial(_answer, source, mfa), "source_credentials")

    def get_identity(self) -> Identity:
        """Returns metadata about the identity assumed.

        Returns
        -------
        Identity
            ``UserId``, ``Account`` and ``Arn`` of the assumed role, from
            STS GetCallerIdentity signed with the assumed credentials.
        """

        return super().get_identity()


def _as_config(cls: Any, value: Any, param: str) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        for key in value:
            if key not in cls._keys:
                raise BRSTypeError(
                    f"{key!r} is not a valid key of {param}; valid keys are {', '.join(cls._keys)}",
                    param=f"{param}.{key}",
                )
        if cls is AssumeRoleConfig and "RoleArn" not in value:
            raise BRSTypeError("'RoleArn' is required in assume_role_kwargs.", param="RoleArn")
        return cls(**value)
    raise BRSValidationError(
        f"'{param}' must be an instance of '{cls.__name__}' or a dictionary!",
        param=param,
    )
