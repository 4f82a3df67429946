"""The BRS* errors: fields, str, repr, hierarchy, pickling, BRSWarning."""

from __future__ import annotations

import pickle
import warnings

import pytest

import gobrs
from gobrs.exceptions import (
    BRSClosedError,
    BRSConfigurationError,
    BRSConnectionError,
    BRSCredentialError,
    BRSError,
    BRSForkError,
    BRSRequestError,
    BRSValidationError,
    BRSWarning,
)

SUBCLASSES = [
    BRSValidationError,
    BRSConfigurationError,
    BRSCredentialError,
    BRSConnectionError,
    BRSRequestError,
    BRSClosedError,
    BRSForkError,
]


def test_fields_default_to_none() -> None:
    err = BRSError("boom")
    assert (err.message, err.code, err.status_code, err.details, err.param, err.value) == (
        "boom",
        None,
        None,
        None,
        None,
        None,
    )
    assert str(err) == "boom"
    assert repr(err) == "BRSError('boom')"
    assert err.args == ("boom",)


def test_no_message() -> None:
    assert BRSError().message == ""
    assert str(BRSError()) == ""
    assert str(BRSError(param="x")) == "param='x'"


def test_str_and_repr_with_every_field() -> None:
    err = BRSRequestError(
        "denied",
        code="AccessDenied",
        status_code=403,
        details={"op": "AssumeRole"},
        param="RoleArn",
        value="arn:aws:iam::123456789012:role/x",
    )
    assert str(err) == (
        "denied (code='AccessDenied', status_code=403, param='RoleArn', "
        "value='arn:aws:iam::123456789012:role/x', details={'op': 'AssumeRole'})"
    )
    assert repr(err) == (
        "BRSRequestError('denied', code='AccessDenied', status_code=403, "
        "param='RoleArn', value='arn:aws:iam::123456789012:role/x', "
        "details={'op': 'AssumeRole'})"
    )


def test_fields_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        BRSError("m", "code")  # type: ignore[misc]


@pytest.mark.parametrize("cls", SUBCLASSES)
def test_hierarchy(cls: type) -> None:
    assert issubclass(cls, BRSError)
    assert issubclass(cls, Exception)
    assert getattr(gobrs, cls.__name__) is cls


@pytest.mark.parametrize("cls", [BRSError, *SUBCLASSES])
def test_pickle_keeps_fields(cls: type) -> None:
    err = cls("msg", code=5, status_code=400, details={"a": [1]}, param="p", value="v")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert repr(back) == repr(err)


def test_warning() -> None:
    w = BRSWarning("careful")
    assert str(w) == "careful"
    assert repr(w) == "BRSWarning('careful')"
    assert issubclass(BRSWarning, UserWarning)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BRSWarning.warn("heads up")
    assert len(caught) == 1
    assert caught[0].category is BRSWarning
    assert str(caught[0].message) == "heads up"
    assert caught[0].filename == __file__


# -- the classes of botocore and Python that the BRS* subclasses also are -----------

import botocore.exceptions as _bc  # noqa: E402
from dateutil.parser import ParserError as _ParserError  # noqa: E402

from gobrs import _lib  # noqa: E402
from gobrs import exceptions as _ex  # noqa: E402

_MAPPED = [
    # (status, details, BRS* class, the class brs's callers catch)
    (_lib.EREQUEST, {"operation": "AssumeRole", "error_message": "no"}, _ex.BRSRequestError, _bc.ClientError),
    (_lib.ECONNECTION, {"connection": "endpoint", "endpoint": "http://h"}, _ex.BRSConnectionError,
     _bc.EndpointConnectionError),
    (_lib.ECONNECTION, {"connection": "connect_timeout"}, _ex.BRSConnectionError, _bc.ConnectTimeoutError),
    (_lib.ECONNECTION, {"connection": "read_timeout"}, _ex.BRSConnectionError, _bc.ReadTimeoutError),
    (_lib.ECONNECTION, {"connection": "closed"}, _ex.BRSConnectionError, _bc.ConnectionClosedError),
    (_lib.ECONNECTION, {"connection": "tls"}, _ex.BRSConnectionError, _bc.SSLError),
    (_lib.ECONNECTION, {"connection": "timeout"}, _ex.BRSConnectionError, TimeoutError),
    (_lib.EVALIDATION, {"botocore": "ParamValidationError"}, _ex.BRSValidationError, _bc.ParamValidationError),
    (_lib.EVALIDATION, {"botocore": "ClientError", "error_code": "ValidationError", "http_status": 400},
     _ex.BRSValidationError, _bc.ClientError),
    (_lib.ECREDENTIAL, {"reason": "expired"}, _ex.BRSCredentialError, RuntimeError),
    (_lib.ECREDENTIAL, {"reason": "unparsable"}, _ex.BRSCredentialError, _ParserError),
]  # fmt: skip


@pytest.mark.parametrize("status, details, brs_class, other", _MAPPED)
def test_details_make_both_classes(status: int, details: dict, brs_class: type, other: type) -> None:
    exc = _lib._error(status, "what went wrong", "AccessDenied", 403, "param", None, details)
    assert isinstance(exc, brs_class) and isinstance(exc, other)
    assert str(exc).startswith("what went wrong")
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc) and copy.message == exc.message


def test_client_error_response_is_botocores_shape() -> None:
    exc = _lib._error(_lib.EREQUEST, "STS AssumeRole failed (HTTP 403)", "AccessDenied", 403, None, None,
                      {"operation": "AssumeRole (3 attempts)", "error_message": "not authorized",
                       "request_id": "r-1"})  # fmt: skip
    assert exc.operation_name == "AssumeRole"  # type: ignore[attr-defined]
    assert exc.response["Error"] == {"Type": "Sender", "Code": "AccessDenied", "Message": "not authorized"}  # type: ignore[attr-defined]
    assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403  # type: ignore[attr-defined]
    assert exc.response["ResponseMetadata"]["RequestId"] == "r-1"  # type: ignore[attr-defined]


def test_no_details_keep_the_plain_classes() -> None:
    for status, cls in ((_lib.EREQUEST, _ex.BRSRequestError), (_lib.ECONNECTION, _ex.BRSConnectionError),
                        (_lib.EVALIDATION, _ex.BRSValidationError),
                        (_lib.ECREDENTIAL, _ex.BRSCredentialError)):  # fmt: skip
        assert type(_lib._error(status, "m", None, None, None, None, {})) is cls
