"""The ``iot`` method: credentials from the AWS IoT Core credentials provider,
fetched over mutual TLS with a device's X.509 certificate."""

from __future__ import annotations

__all__ = ["IOTX509RefreshableSession", "PKCS11"]

import functools
import os
from typing import Any, Dict, Mapping, Optional, Union

from .exceptions import BRSConfigurationError, BRSValidationError
from .session import BaseRefreshableSession
from .utils.typing import PKCS11, Identity, Transport

#: A certificate, key or CA bundle: a path (``str`` or path-like) or the PEM
#: itself (``bytes``).
PEMInput = Union[str, bytes, bytearray, "os.PathLike[str]"]


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


def _fspaths(pkcs11: Any) -> Any:
    """``pkcs11`` with path-like values made strings; the Go core checks
    the rest."""

    if not isinstance(pkcs11, Mapping):
        return pkcs11
    return {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in pkcs11.items()}


class IOTX509RefreshableSession(BaseRefreshableSession, registry_key="iot", go_method="iot", refresh_method="iot-x509"):
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
    awscrt_log_level : awscrt.io.LogLevel, optional
        Accepted for boto3-refresh-session's sake and has no effect: gobrs
        fetches credentials without the AWS CRT. Default None.

    Other Parameters
    ----------------
    **kwargs : Any, optional
        What :class:`~gobrs.session.BaseRefreshableSession` takes
        (``defer_refresh``, ``advisory_timeout``, ...) and
        :class:`boto3.session.Session`'s keyword arguments.

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
    certificate, private_key, ca : bytes | None
        The PEM of the certificate, its key and the CA bundle (read from
        the files given as paths), which :meth:`mqtt` connects with.
    pkcs11 : dict | None
        The PKCS#11 key's settings.

    Methods
    -------
    get_identity() -> Identity
        STS ``GetCallerIdentity`` with the session's credentials.

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
    :meth:`mqtt` needs the ``iot`` extra (``pip install gobrs[iot]``, which
    installs awsiotsdk), as in boto3-refresh-session; fetching credentials
    does not.

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
        awscrt_log_level: Any = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(endpoint, str) and endpoint[:8].lower() == "https://":
            # accepted as boto3-refresh-session accepts it; the Go core takes the host
            endpoint = endpoint[8:].rstrip("/")
        config: Dict[str, Any] = {
            "endpoint": endpoint,
            "role_alias": role_alias,
            "certificate": _pem_or_path("certificate", certificate),
            "thing_name": thing_name,
            "private_key": _pem_or_path("private_key", private_key),
            "ca": _pem_or_path("ca", ca),
            "pkcs11": _fspaths(pkcs11),
            "verify_peer": verify_peer,
            "timeout": timeout,
            "duration_seconds": duration_seconds,
        }
        super().__init__(**kwargs)
        # the Go core has checked every value: a data endpoint comes back
        # rewritten (with a BRSWarning)
        self.endpoint: str = self._start(config).get("endpoint", endpoint)
        self.role_alias: str = role_alias
        self.thing_name: Optional[str] = thing_name
        self.verify_peer: bool = verify_peer
        self.timeout: float = 10.0 if timeout is None else float(timeout)
        self.duration_seconds: Optional[int] = duration_seconds
        # what mqtt() connects with, as boto3-refresh-session keeps them
        self.certificate: Optional[bytes] = _read_bytes("certificate", certificate)
        self.private_key = _read_bytes("private_key", private_key)
        self.ca: Optional[bytes] = _read_bytes("ca", ca)
        self.pkcs11: Optional[Dict[str, Any]] = config["pkcs11"]

    @property
    def private_key(self) -> Optional[bytes]:
        """The PEM of the private key (read from its file if a path was
        given), which :meth:`mqtt` connects with; kept out of reprs."""

        hidden = self.__dict__.get("_private_key")
        return None if hidden is None else hidden.value

    @private_key.setter
    def private_key(self, value: Optional[bytes]) -> None:
        self.__dict__["_private_key"] = None if value is None else _Hidden(value)

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

        # a botocore client's operations are made at run time: no static type
        sts: Any = self.client("sts")
        answer = sts.get_caller_identity()
        return {k: v for k, v in answer.items() if k != "ResponseMetadata"}  # type: ignore[return-value]

    def mqtt(
        self,
        *,
        endpoint: str,
        client_id: str,
        transport: Transport = "x509",
        certificate: Optional[PEMInput] = None,
        private_key: Optional[PEMInput] = None,
        ca: Optional[PEMInput] = None,
        pkcs11: Optional[PKCS11 | Dict[str, Any]] = None,
        region: Optional[str] = None,
        keep_alive_secs: int = 60,
        clean_start: bool = True,
        port: Optional[int] = None,
        use_alpn: bool = False,
    ) -> Any:
        """Returns an MQTT connection (not yet connected) to AWS IoT Core,
        as boto3-refresh-session's ``mqtt()``. Needs the ``iot`` extra.

        The certificate, key and CA go to the AWS CRT in memory; nothing is
        written to a file.

        Parameters
        ----------
        endpoint : str
            The MQTT (data) endpoint, e.g.
            ``<id>-ats.iot.<region>.amazonaws.com``.
        client_id : str
            The MQTT client id.
        transport : Transport = "x509", optional
            ``"x509"``: mutual TLS with the device certificate;
            ``"ws"``: MQTT over WebSockets signed with the session's
            credentials.
        certificate, private_key, ca : str | bytes, optional
            A path or the PEM; default the session's.
        pkcs11 : PKCS11 | Dict[str, Any], optional
            A key on a PKCS#11 token instead of ``private_key``; default the
            session's.
        region : str, optional
            The region (WebSockets signing); default the session's.
        keep_alive_secs : int = 60, optional
            The MQTT keep-alive.
        clean_start : bool = True, optional
            Whether to start a clean MQTT session.
        port : int, optional
            Default 443 with ALPN or WebSockets, else 8883.
        use_alpn : bool = False, optional
            Use ALPN ``x-amzn-mqtt-ca`` (for port 443).

        Returns
        -------
        awscrt.mqtt.Connection
            Call ``connect()`` on it.

        Raises
        ------
        BRSConfigurationError
            Without the ``iot`` extra, or with both or neither of a key and
            ``pkcs11``, or without a certificate (``x509``).
        BRSValidationError
            For a bad ``transport``, file or ``pkcs11``.
        """

        from .utils.extras import IOT_EXTRA_INSTALLED

        if not IOT_EXTRA_INSTALLED:
            raise BRSConfigurationError(
                "mqtt() needs the 'iot' extra: pip install gobrs[iot] (awsiotsdk)", param="mqtt"
            )
        if transport not in ("x509", "ws"):
            raise BRSValidationError("Transport must be 'x509' or 'ws'", param="transport", value=transport)
        region = self.region_name if region is None else region
        cert_bytes = _read_bytes("certificate", certificate, self.certificate)
        key_bytes = _read_bytes("private_key", private_key, self.private_key)
        ca_bytes = _read_bytes("ca", ca, self.ca)
        if pkcs11 is None:
            hsm = self.pkcs11
        elif isinstance(pkcs11, dict):
            hsm = _check_pkcs11(pkcs11)
            if "pkcs11_lib" not in hsm:
                raise BRSConfigurationError(
                    "PKCS#11 library path must be provided as 'pkcs11_lib' in 'pkcs11'.", param="pkcs11_lib"
                )
            if not os.path.isfile(os.path.expanduser(hsm["pkcs11_lib"])):
                raise BRSValidationError(
                    "'pkcs11_lib' in 'pkcs11' is not a file.", param="pkcs11_lib", value=hsm["pkcs11_lib"]
                )
        else:
            raise BRSValidationError(
                "Invalid PKCS#11 configuration provided.", param="pkcs11", value=type(pkcs11).__name__
            )
        if transport == "x509":
            if (key_bytes is None) == (hsm is None):
                raise BRSConfigurationError(
                    "For transport='x509', provide exactly one of 'private_key' (bytes/path) or 'pkcs11'.",
                    param="private_key/pkcs11",
                )
            if cert_bytes is None:
                raise BRSConfigurationError("Certificate is required for transport='x509'", param="certificate")

        from awscrt import auth, io
        from awsiot import mqtt_connection_builder

        loop = io.EventLoopGroup(1)
        bootstrap = io.ClientBootstrap(loop, io.DefaultHostResolver(loop))
        common: Dict[str, Any] = dict(
            endpoint=endpoint,
            client_bootstrap=bootstrap,
            client_id=client_id,
            clean_session=clean_start,
            keep_alive_secs=keep_alive_secs,
            ca_bytes=ca_bytes,
        )
        if transport == "ws":
            return mqtt_connection_builder.websockets_with_default_aws_signing(
                region=region,
                credentials_provider=auth.AwsCredentialsProvider.new_delegate(
                    functools.partial(_crt_credentials, self._creds())
                ),
                port=port or 443,
                **common,
            )
        common.update(port=port or (443 if use_alpn else 8883), alpn_list=["x-amzn-mqtt-ca"] if use_alpn else None)
        if hsm is not None:
            return mqtt_connection_builder.mtls_with_pkcs11(
                pkcs11_lib=io.Pkcs11Lib(file=hsm["pkcs11_lib"]),
                user_pin=hsm.get("user_pin"),
                slot_id=hsm.get("slot_id"),
                token_label=hsm.get("token_label"),
                private_key_label=hsm.get("private_key_label"),
                cert_bytes=cert_bytes,
                **common,
            )
        return mqtt_connection_builder.mtls_from_bytes(cert_bytes=cert_bytes, pri_key_bytes=key_bytes, **common)


class _Hidden:
    """Holds a secret; its repr shows nothing of it."""

    __slots__ = ("value",)

    def __init__(self, value: bytes) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "'****'"


def _read_bytes(name: str, value: Any, default: Optional[bytes] = None) -> Optional[bytes]:
    """A certificate, key or CA as bytes: the PEM given, or the file's
    content; ``default`` for None. Nothing of the value appears in an
    error (it may be a key)."""

    if value is None:
        return default
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (str, os.PathLike)) and os.path.isfile(os.path.expanduser(os.fspath(value))):
        with open(os.path.expanduser(os.fspath(value)), "rb") as f:
            return f.read()
    raise BRSValidationError(f"Invalid {name} provided.", param=name, value=type(value).__name__)


def _crt_credentials(credentials: Any) -> Any:
    """The session's current credentials for the AWS CRT (WebSockets)."""

    from awscrt.auth import AwsCredentials

    frozen = credentials.get_frozen_credentials()
    return AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token)
