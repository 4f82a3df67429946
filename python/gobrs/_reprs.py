"""Reprs that are safe on half-built objects.

Traceback formatters that show locals (rich, Sentry, ``pytest -l``) call
``repr()`` on objects whose ``__init__`` failed half-way; a repr that then
raises ``AttributeError`` breaks the formatting of the very error the user
needs to see.
"""

from __future__ import annotations

__all__ = ["safe_repr"]

import functools
from typing import Any, Callable


def safe_repr(fn: Callable[[Any], str]) -> Callable[[Any], str]:
    """Wrap a ``__repr__`` so that it never raises: on a half-built object
    it returns ``<ClassName (incomplete)>`` (nothing of the object's state,
    which may hold secrets)."""

    @functools.wraps(fn)
    def wrapper(self: Any) -> str:
        try:
            return fn(self)
        except Exception:
            return f"<{type(self).__name__} (incomplete)>"

    return wrapper
