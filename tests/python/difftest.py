"""The differential harness: one scenario, run against boto3-refresh-session
(installed from PyPI in the test virtualenv) and against gobrs, must end
alike — the same value, or an exception of the same class.

A scenario is a function of an :class:`Impl` (the package under test) that
builds what it needs itself (sessions, getters) and returns a value, or
raises. :func:`assert_same` runs it on both and compares:

- both return: the values, after ``normalize``, are equal;
- brs raises: gobrs raises too, an instance of the class brs raised (brs's
  own ``BRS*`` classes are matched with gobrs's of the same name; botocore
  and builtin classes are the same objects in both).

A deliberate deviation is not a scenario: it has its own test (in the
``test_diff_*`` files, named ``test_deviation_*``) and a row in
docs/compat.md.
"""

from __future__ import annotations

import types
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Tuple

import boto3_refresh_session
import boto3_refresh_session.exceptions
from botocore.exceptions import ClientError

import gobrs
import gobrs.exceptions

__all__ = ["BRS", "GOBRS", "Impl", "Outcome", "assert_same", "expected_class", "instant", "run"]


@dataclass(frozen=True)
class Impl:
    """One package under test: its top-level module and its exceptions."""

    name: str
    mod: types.ModuleType
    exceptions: types.ModuleType

    def session(self, method: str, **kwargs: Any) -> Any:
        """``RefreshableSession(method=method, **kwargs)`` of this package."""

        kwargs.setdefault("region_name", "us-east-1")
        return self.mod.RefreshableSession(method=method, **kwargs)

    def __repr__(self) -> str:
        return self.name


BRS = Impl("brs", boto3_refresh_session, boto3_refresh_session.exceptions)
GOBRS = Impl("gobrs", gobrs, gobrs.exceptions)

Scenario = Callable[[Impl], Any]


@dataclass
class Outcome:
    """What a scenario did: its value, or the exception it raised."""

    value: Any = None
    exc: Optional[BaseException] = None
    warnings: Tuple[str, ...] = ()

    def __repr__(self) -> str:
        if self.exc is not None:
            return f"raised {type(self.exc).__module__}.{type(self.exc).__qualname__}: {self.exc}"
        return f"returned {self.value!r}"


def run(scenario: Scenario, impl: Impl) -> Outcome:
    """Run ``scenario`` on ``impl`` and record how it ended."""

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = scenario(impl)
        except Exception as exc:  # the outcome under comparison
            return Outcome(exc=exc, warnings=_texts(caught))
    return Outcome(value=value, warnings=_texts(caught))


def _texts(caught: List[warnings.WarningMessage]) -> Tuple[str, ...]:
    """``"Class: text"`` of each warning caught."""

    return tuple(f"{type(w.message).__name__}: {w.message}" for w in caught)


def expected_class(brs_class: type) -> type:
    """The class a gobrs exception must be an instance of where brs raised
    ``brs_class``: gobrs's class of the same name for brs's own, the class
    itself for botocore's and Python's."""

    if brs_class.__module__.startswith("boto3_refresh_session"):
        return getattr(gobrs.exceptions, brs_class.__name__)  # type: ignore[no-any-return]
    if brs_class.__module__ == "botocore.errorfactory":
        # a modeled error code's class, made by each botocore client: gobrs
        # raises the ClientError it derives from (docs/compat.md)
        return ClientError
    return brs_class


def _same_value(value: Any) -> Any:
    return value


def assert_same(scenario: Scenario, normalize: Callable[[Any], Any] = _same_value) -> Tuple[Outcome, Outcome]:
    """Run ``scenario`` on brs and on gobrs and assert the same outcome.

    Returns
    -------
    Tuple[Outcome, Outcome]
        brs's outcome and gobrs's, for further checks.
    """

    brs = run(scenario, BRS)
    ours = run(scenario, GOBRS)
    if brs.exc is not None:
        want = expected_class(type(brs.exc))
        assert ours.exc is not None, f"brs {brs}, gobrs {ours}"
        assert isinstance(ours.exc, want), f"brs {brs}, gobrs {ours} (not a {want.__qualname__})"
    else:
        assert ours.exc is None, f"brs {brs}, gobrs {ours}"
        assert normalize(ours.value) == normalize(brs.value), f"brs {brs}, gobrs {ours}"
    return brs, ours


def instant(text: str) -> datetime:
    """An ISO 8601 expiry as brs or gobrs hand it out, as an aware datetime."""

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cases(table: Dict[str, Any]) -> List[Any]:
    """``pytest.param`` rows from ``{id: value}``."""

    import pytest

    return [pytest.param(value, id=key) for key, value in table.items()]
