"""Type definitions shared by the gobrs session classes."""

from __future__ import annotations

__all__ = [
    "EvictionPolicy",
    "Identity",
    "Method",
    "TemporaryCredentials",
]

from typing import Any, Dict, Literal, NotRequired, TypedDict

#: The credential refresh methods gobrs knows.
Method = Literal["custom", "iot", "sts"]

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
    """Who the credentials belong to.

    Attributes
    ----------
    method : str
        The refresh method, e.g. ``"custom"``.
    source : str
        Where the credentials come from (the custom getter's name).
    Account : str, optional
        The AWS account id.
    Arn : str, optional
        The ARN of the caller.
    UserId : str, optional
        The unique id of the caller.
    ResponseMetadata : dict, optional
        The metadata of the identity request.
    """

    method: str
    source: str
    Account: NotRequired[str]
    Arn: NotRequired[str]
    UserId: NotRequired[str]
    ResponseMetadata: NotRequired[Dict[str, Any]]
