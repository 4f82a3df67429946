"""The RefreshableSession factory and the method registry."""

from __future__ import annotations

import importlib.util

import boto3.session
import pytest

import gobrs.session as gsession
from gobrs import (
    BRSConfigurationError,
    BRSValidationError,
    CustomRefreshableSession,
    RefreshableSession,
)
from gobrs.session import BaseRefreshableSession


def test_custom_returns_the_custom_class(getter) -> None:
    s = RefreshableSession(method="custom", custom_credentials_method=getter, region_name="us-east-1")
    assert type(s) is CustomRefreshableSession
    assert isinstance(s, BaseRefreshableSession)
    assert isinstance(s, boto3.session.Session)
    s.close()


def test_available_methods_include_custom() -> None:
    methods = RefreshableSession.get_available_methods()
    assert "custom" in methods
    assert methods == sorted(methods)
    assert set(methods) <= {"custom", "sts", "iot"}


@pytest.mark.parametrize("method", ["nope", "", "CUSTOM", 3, None])
def test_unknown_method_lists_the_choices(method) -> None:
    with pytest.raises(BRSValidationError) as info:
        RefreshableSession(method=method)
    err = info.value
    assert err.param == "method"
    assert err.value == method
    for choice in ("'custom'", "'sts'", "'iot'"):
        assert choice in err.message


@pytest.mark.parametrize("method", ["sts", "iot"])
def test_method_not_built_yet_or_registered(method: str) -> None:
    module = f"gobrs.{method}"
    if importlib.util.find_spec(module) is None:
        with pytest.raises(BRSConfigurationError) as info:
            RefreshableSession(method=method)
        assert "not built yet" in info.value.message
        assert info.value.param == "method"
        assert method not in RefreshableSession.get_available_methods()
    else:
        assert method in RefreshableSession.get_available_methods()
        assert issubclass(gsession._registry[method], BaseRefreshableSession)


def test_missing_module_is_a_configuration_error(monkeypatch) -> None:
    monkeypatch.setitem(gsession._METHOD_MODULES, "later", "gobrs.later_method_not_here")
    with pytest.raises(BRSConfigurationError) as info:
        RefreshableSession(method="later")
    assert "'later' is not built yet" in info.value.message
    assert "later" not in RefreshableSession.get_available_methods()


def test_subclass_registers_itself(monkeypatch) -> None:
    monkeypatch.setattr(gsession, "_registry", dict(gsession._registry))
    monkeypatch.setitem(gsession._METHOD_MODULES, "fake", "gobrs.fake_not_imported")

    class FakeSession(BaseRefreshableSession, registry_key="fake"):
        _brs_method = "custom"
        _refresh_method = "fake"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.started = True

    assert gsession._registry["fake"] is FakeSession
    assert "fake" in RefreshableSession.get_available_methods()
    s = RefreshableSession(method="fake", region_name="eu-west-1")
    assert type(s) is FakeSession and s.started and s.region_name == "eu-west-1"
