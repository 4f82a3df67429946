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
