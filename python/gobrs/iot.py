"""The ``iot`` method: credentials from the AWS IoT Core credentials provider,
fetched over mutual TLS with a device's X.509 certificate."""

from __future__ import annotations

__all__ = ["IOTX509RefreshableSession", "PKCS11"]

import math
import os
import re
from typing import Any, Dict, Mapping, Optional, TypedDict, Union

from .exceptions import BRSValidationError, BRSWarning
from .session import BaseRefreshableSession
from .utils.typing import Identity

#: A certificate, key or CA bundle: a path (``str`` or path-like) or the PEM
#: itself (``bytes``).
PEMInput = Union[str, bytes, bytearray, "os.PathLike[str]"]


class PKCS11(TypedDict, total=False):
    """A private key held by a PKCS#11 token.

    Attributes
    ----------
    pkcs11_lib : str
        Required. The path of the PKCS#11 module (``.so``).
    user_pin : str | None
        The user PIN; None skips the login.
    slot_id : int | None
        Choose the token by slot.
    token_label : str | None
        Choose the token by label. With neither ``slot_id`` nor
        ``token_label`` the module must have exactly one initialized token.
    private_key_label : str | None
        Choose the key by label. Without it the token must hold exactly one
        private key.
    """

    pkcs11_lib: str
    user_pin: Optional[str]
    slot_id: Optional[int]
    token_label: Optional[str]
    private_key_label: Optional[str]


_PKCS11_TYPES: Dict[str, type | tuple[type, ...]] = {
    "pkcs11_lib": (str, os.PathLike),
    "user_pin": str,
    "slot_id": int,
    "token_label": str,
    "private_key_label": str,
}


def _pem_or_path(name: str, value: Any) -> Optional[str]:
    """Return ``value`` as the JSON config takes it: PEM text or a path.

    ``bytes`` must be PEM; they are sent in memory, never written to a file.
    A ``str`` holding PEM is recognised as PEM by the Go core, whatever
    precedes it. Nothing of the value appears in an error (it may be a key),
    not even a path.
    """

    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        # PEM may follow a byte order mark, a quote or an openssl "Bag
        # Attributes" header: it starts at "-----BEGIN"
        start = bytes(value).find(b"-----BEGIN")
        if start < 0:
            raise BRSValidationError(
                f"Invalid {name} provided: bytes must be PEM data ('-----BEGIN ...').",
                param=name,
                value="bytes",
            )
        try:
            return bytes(value)[start:].decode("ascii")
        except UnicodeDecodeError:
            raise BRSValidationError(
                f"Invalid {name} provided: PEM data must be ASCII.", param=name, value="bytes"
            ) from None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str) and value:
        return value
    raise BRSValidationError(
        f"Invalid {name} provided: expected a file path (str) or PEM data (bytes).",
        param=name,
        value=type(value).__name__,
    )


def _check_pkcs11(pkcs11: Any) -> Dict[str, Any]:
    """Check the types of the ``pkcs11`` dict; the values are checked in Go."""

    if not isinstance(pkcs11, Mapping):
        raise BRSValidationError(
            "Invalid PKCS#11 configuration provided: expected a dict.",
            param="pkcs11",
            value=type(pkcs11).__name__,
        )
    out: Dict[str, Any] = {}
    for key, value in pkcs11.items():
        expected = _PKCS11_TYPES.get(key) if isinstance(key, str) else None
        if expected is None:
            raise BRSValidationError(
                f"Unknown key {key!r} in 'pkcs11'; expected {', '.join(_PKCS11_TYPES)}.",
                param=f"pkcs11.{key}",
            )
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, expected):
            raise BRSValidationError(
                f"'pkcs11.{key}' has the wrong type {type(value).__name__}.",
                param=f"pkcs11.{key}",
                value=None if key == "user_pin" else type(value).__name__,
            )
        out[key] = os.fspath(value) if isinstance(value, os.PathLike) else value
    return out


def _normalize_endpoint(endpoint: str) -> str:
    """Rewrite a data endpoint to the credentials endpoint, with a warning.

    Everything else about the endpoint is checked by the Go core.
    """

    if ".credentials.iot." in endpoint or "-ats.iot." not in endpoint:
        return endpoint
    rewritten = endpoint.replace("-ats.iot.", ".credentials.iot.", 1)
    masked = (re.sub(r"^[^.-]+", "***", e) for e in (endpoint, rewritten))
    BRSWarning.warn(
        "The 'endpoint' parameter you provided represents the data endpoint "
        "for IoT not the credentials endpoint! The endpoint you provided was "
        "therefore modified from '{}' -> '{}'".format(*masked),
        stacklevel=4,
    )
    return rewritten


class IOTX509RefreshableSession(BaseRefreshableSession, registry_key="iot"):
    """A :class:`boto3.session.Session` that automatically refreshes
    temporary credentials returned by the AWS IoT Core credentials provider.

    The credentials are fetched with an HTTPS ``GET`` of
    ``/role-aliases/<role_alias>/credentials`` over mutual TLS with the
    device certificate, by gobrs's Go core (no AWS CRT involved).

    Parameters
    ----------
    endpoint : str
        The IoT credentials endpoint,
        ``<id>.credentials.iot.<region>.amazonaws.com`` (host and optional
        port, no scheme). A data endpoint (``<id>-ats.iot.<region>...``) is
        rewritten to the credentials endpoint with a :class:`BRSWarning`.
        For local test servers a loopback host with an explicit port
        (``"127.0.0.1:8443"``, ``"localhost:8443"``) is accepted.
    role_alias : str
        The IoT role alias whose role's credentials are requested.
    certificate : str | bytes
        The device's X.509 certificate (optionally followed by its chain):
        ``str`` is a file path, ``bytes`` the PEM itself.
    thing_name : str, optional
        The IoT thing name, sent as ``x-amzn-iot-thingname``. Default None.
    private_key : str | bytes, optional
        The certificate's private key: ``str`` is a file path, ``bytes``
        the PEM itself (PKCS#8, PKCS#1 or SEC 1, unencrypted). Key bytes
        stay in memory; they are never written to a file. Required unless
        ``pkcs11`` is given.
    pkcs11 : PKCS11 | Dict[str, Any], optional
        A private key on a PKCS#11 token instead of ``private_key``: keys
        ``pkcs11_lib`` (required), ``user_pin``, ``slot_id``,
        ``token_label``, ``private_key_label``.
    ca : str | bytes, optional
        The CA bundle that verifies the endpoint (replaces the system
        roots): ``str`` is a file path, ``bytes`` the PEM. Default None.
    verify_peer : bool = True, optional
        Whether to verify the endpoint's certificate. Default True.
    timeout : float | int = 10.0, optional
        Seconds allowed for one request, connection and TLS handshake
        included. Default 10.
    duration_seconds : int, optional
        Requested credential lifetime, 900 to 43200 seconds, sent as
        ``x-amzn-iot-credential-duration-seconds``; the role alias's own
        limit still applies. Default None.
    defer_refresh : bool = True, optional
        Fetch the first credentials at first use (True) or now (False, and
        a failure raises here). Default True.
    advisory_timeout : int = 900, optional
        Seconds before expiry at which one caller refreshes while the
        others keep the current credentials. Default 900.
    mandatory_timeout : int = 600, optional
        Seconds before expiry at which every caller waits for a successful
        refresh. Default 600.
    background_refresh : bool = False, optional
        gobrs's extra: renew from a Go thread ahead of the advisory window,
        so no caller waits. Default False.

    Other Parameters
    ----------------
    **kwargs : Any, optional
        Keyword arguments of :class:`boto3.session.Session`.

    Attributes
    ----------
    endpoint : str
        The credentials endpoint used (after any rewrite).
    role_alias : str
        The role alias.
    thing_name : str | None
        The thing name.
    verify_peer : bool
        Whether the endpoint's certificate is verified.
    timeout : float
        The request timeout in seconds.
    duration_seconds : int | None
        The requested credential lifetime.
    credentials : TemporaryCredentials
        The current temporary AWS security credentials.

    Methods
    -------
    get_identity() -> Identity
        STS ``GetCallerIdentity`` with the session's credentials.
    refreshable_credentials() -> TemporaryCredentials
        Returns the current temporary AWS security credentials.
    whoami() -> Identity
        Alias for :meth:`get_identity`.
    close() -> None
        Ends the Go session (also done by ``with`` and at exit).

    Raises
    ------
    BRSValidationError
        For a bad parameter (the error names it: ``endpoint``,
        ``certificate``, ``private_key``, ``ca``, ``pkcs11.user_pin``, ...),
        including a key that does not match the certificate.
    BRSConfigurationError
        When both or neither of ``private_key`` and ``pkcs11`` are given.
    BRSConnectionError
        When the endpoint cannot be reached or the TLS handshake fails.
    BRSRequestError
        When the endpoint answers with an HTTP error (``status_code``).
    BRSCredentialError
        When the endpoint's answer holds no usable credentials.

    Notes
    -----
    boto3-refresh-session's ``mqtt()`` helper and ``awscrt_log_level`` are
    not provided: gobrs only fetches credentials (see docs/iot.md).

    Examples
    --------
    >>> from gobrs import RefreshableSession
    >>> session = RefreshableSession(
    ...     method="iot",
    ...     endpoint="abc123.credentials.iot.us-east-1.amazonaws.com",
    ...     role_alias="my-alias",
    ...     certificate="/etc/device/cert.pem",
    ...     private_key="/etc/device/key.pem",
    ...     thing_name="my-thing",
    ...     region_name="us-east-1",
    ... )
    >>> session.client("s3").list_buckets()
    """

    _brs_method = "iot"
    _refresh_method = "iot-x509"

    def __init__(
        self,
        endpoint: str,
        role_alias: str,
        certificate: PEMInput,
        thing_name: Optional[str] = None,
        private_key: Optional[PEMInput] = None,
        pkcs11: Optional[PKCS11 | Dict[str, Any]] = None,
        ca: Optional[PEMInput] = None,
        verify_peer: bool = True,
        timeout: Optional[float] = 10.0,
        duration_seconds: Optional[int] = None,
        defer_refresh: bool = True,
        advisory_timeout: float = 900,
        mandatory_timeout: float = 600,
        background_refresh: bool = False,
        **kwargs: Any,
    ) -> None:
        for name, value in (("endpoint", endpoint), ("role_alias", role_alias)):
            if not isinstance(value, str) or not value:
                raise BRSValidationError(
                    f"'{name}' must be a non-empty string.", param=name, value=type(value).__name__
                )
        if thing_name is not None and not isinstance(thing_name, str):
            raise BRSValidationError(
                "'thing_name' must be a string.", param="thing_name", value=type(thing_name).__name__
            )
        if not isinstance(verify_peer, bool):
            raise BRSValidationError(
                "'verify_peer' must be a bool.", param="verify_peer", value=type(verify_peer).__name__
            )
        if timeout is None:
            timeout = 10.0
        try:
            finite = not isinstance(timeout, bool) and isinstance(timeout, (int, float)) and math.isfinite(timeout)
        except OverflowError:  # an int too large for a float
            raise BRSValidationError("'timeout' is out of range.", param="timeout") from None
        if not finite:
            raise BRSValidationError(
                "'timeout' must be a number of seconds.", param="timeout", value=repr(timeout)
            )
        if duration_seconds is not None and (
            isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int)
        ):
            raise BRSValidationError(
                "'duration_seconds' must be an int.",
                param="duration_seconds",
                value=type(duration_seconds).__name__,
            )
        config: Dict[str, Any] = {
            "endpoint": _normalize_endpoint(endpoint),
            "role_alias": role_alias,
            "certificate": _pem_or_path("certificate", certificate),
            "verify_peer": verify_peer,
            "timeout": timeout,
        }
        for name, value in (
            ("thing_name", thing_name),
            ("private_key", _pem_or_path("private_key", private_key)),
            ("ca", _pem_or_path("ca", ca)),
            ("pkcs11", None if pkcs11 is None else _check_pkcs11(pkcs11)),
            ("duration_seconds", duration_seconds),
        ):
            if value is not None:
                config[name] = value
        super().__init__(
            defer_refresh=defer_refresh,
            advisory_timeout=advisory_timeout,
            mandatory_timeout=mandatory_timeout,
            background_refresh=background_refresh,
            **kwargs,
        )
        self.endpoint: str = config["endpoint"]
        self.role_alias: str = role_alias
        self.thing_name: Optional[str] = thing_name
        self.verify_peer: bool = verify_peer
        self.timeout: float = float(timeout)
        self.duration_seconds: Optional[int] = duration_seconds
        self._start(config)

    def get_identity(self) -> Identity:
        """Returns metadata about the current caller identity.

        Calls STS ``GetCallerIdentity`` with the session's credentials, as
        boto3-refresh-session does (the STS endpoint follows boto3's usual
        configuration, e.g. ``AWS_ENDPOINT_URL_STS``).

        Returns
        -------
        Identity
            ``UserId``, ``Account`` and ``Arn`` of the assumed role.
        """

        answer = self.client("sts").get_caller_identity()
        return {k: v for k, v in answer.items() if k != "ResponseMetadata"}  # type: ignore[return-value]
