"""Type definitions shared by the gobrs session classes (the names of
boto3-refresh-session's ``utils.typing``)."""

from __future__ import annotations

__all__ = [
    "AssumeRoleParams",
    "EvictionPolicy",
    "Identity",
    "Method",
    "PKCS11",
    "RefreshMethod",
    "RegistryKey",
    "STSClientParams",
    "TemporaryCredentials",
    "Transport",
]

from typing import TYPE_CHECKING, Any, Dict, List, Literal, Optional, TypedDict, TypeVar, Union

if TYPE_CHECKING:  # pragma: no cover
    from botocore.config import Config

#: The credential refresh methods gobrs knows.
Method = Literal["custom", "iot", "sts"]

#: What botocore reports as the credentials' ``method`` for each method.
RefreshMethod = Literal["custom", "iot-x509", "sts-assume-role"]

#: A key of the session class registry (``RefreshableSession(method=...)``).
RegistryKey = TypeVar("RegistryKey", bound=str)

#: The transports of ``IOTX509RefreshableSession.mqtt()``.
Transport = Literal["x509", "ws"]

#: The eviction policies of the client and resource cache.
EvictionPolicy = Literal["LRU", "LFU"]


class TemporaryCredentials(TypedDict):
    """One set of temporary AWS credentials.

    Attributes
    ----------
    access_key : str
        The access key id.
    secret_key : str
        The secret access key.
    token : str
        The session token.
    expiry_time : str
        When the credentials expire, in ISO 8601. A custom credential getter
        may also return a :class:`datetime.datetime` here.
    """

    access_key: str
    secret_key: str
    token: str
    expiry_time: str


class Identity(TypedDict, total=False):
    """Who the credentials belong to. Every key is optional.

    Attributes
    ----------
    method : str
        The refresh method, e.g. ``"custom"``.
    source : str
        Where the credentials come from (the custom getter's name).
    Account : str
        The AWS account id.
    Arn : str
        The ARN of the caller.
    UserId : str
        The unique id of the caller.
    ResponseMetadata : dict
        The metadata of the identity request.
    """

    method: str
    source: str
    Account: str
    Arn: str
    UserId: str
    ResponseMetadata: Dict[str, Any]


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


class Tag(TypedDict):
    """A session tag of AssumeRole.

    Attributes
    ----------
    Key : str
        The tag's key.
    Value : str
        The tag's value.
    """

    Key: str
    Value: str


class PolicyDescriptorType(TypedDict):
    """A managed policy of AssumeRole's ``PolicyArns``.

    Attributes
    ----------
    arn : str
        The policy's ARN.
    """

    arn: str


class ProvidedContext(TypedDict):
    """A context of AssumeRole's ``ProvidedContexts``.

    Attributes
    ----------
    ProviderArn : str
        The ARN of the context provider.
    ContextAssertion : str
        The context assertion.
    """

    ProviderArn: str
    ContextAssertion: str


class AssumeRoleParams(TypedDict, total=False):
    """The parameters of STS AssumeRole (``assume_role_kwargs``); only
    ``RoleArn`` is required.

    Attributes
    ----------
    RoleArn : str
        The ARN of the role to assume.
    RoleSessionName : str
        The session name.
    PolicyArns : list of PolicyDescriptorType
        Managed session policies.
    Policy : str
        An inline session policy (JSON).
    DurationSeconds : int
        The session's lifetime.
    ExternalId : str
        The external id the role's trust policy asks for.
    SerialNumber : str
        The MFA device's serial number or ARN.
    TokenCode : str
        A 6-digit MFA code.
    Tags : list of Tag
        Session tags.
    TransitiveTagKeys : list of str
        Tag keys that pass on to chained roles.
    SourceIdentity : str
        The source identity.
    ProvidedContexts : list of ProvidedContext
        Contexts for the session.
    """

    RoleArn: str
    RoleSessionName: str
    PolicyArns: List[PolicyDescriptorType]
    Policy: str
    DurationSeconds: int
    ExternalId: str
    SerialNumber: str
    TokenCode: str
    Tags: List[Tag]
    TransitiveTagKeys: List[str]
    SourceIdentity: str
    ProvidedContexts: List[ProvidedContext]


class STSClientParams(TypedDict, total=False):
    """The parameters of the STS client (``sts_client_kwargs``); all optional.

    Attributes
    ----------
    service_name : str
        Always ``"sts"``.
    region_name : str
        The region.
    api_version : str
        The API version.
    use_ssl : bool
        Whether to use HTTPS.
    verify : bool | str
        Whether to verify TLS certificates, or a CA bundle path.
    endpoint_url : str
        The endpoint.
    aws_access_key_id : str
        Source credentials: access key id.
    aws_secret_access_key : str
        Source credentials: secret key.
    aws_session_token : str
        Source credentials: session token.
    config : botocore.config.Config
        Client configuration.
    aws_account_id : str
        The account id of the source credentials.
    """

    service_name: str
    region_name: str
    api_version: str
    use_ssl: bool
    verify: Union[bool, str]
    endpoint_url: str
    aws_access_key_id: str
    aws_secret_access_key: str
    aws_session_token: str
    config: "Config"
    aws_account_id: str
