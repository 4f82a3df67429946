"""What traceback formatters and error trackers may show, made safe.

Traceback formatters that show locals (rich, Sentry, ``pytest -l``) call
``repr()`` on objects whose ``__init__`` failed half-way: a repr that then
raises ``AttributeError`` breaks the formatting of the very error the user
needs to see (:func:`safe_repr`). And they show the locals of every frame,
which in a constructor hold the secrets it was given (:func:`scrub_locals`).
"""

from __future__ import annotations

__all__ = ["safe_repr", "scrub_locals", "warning_stacklevel"]

import functools
import os
import sys
from typing import Any, Callable, Optional, Set


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


def scrub_locals(init: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a constructor so that a failure leaves no secret in frame locals.

    Error trackers and traceback formatters that capture the locals of
    every frame (Sentry, rich) would find the key PEM, PIN, secret key or
    MFA code a constructor was given, in its own frame and in every gobrs
    frame beneath it. When ``init`` raises, the frames it ran (finished by
    then) are cleared, and so are those of the exceptions chained to it;
    the error itself, its message and its traceback's lines are unchanged.
    """

    @functools.wraps(init)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return init(*args, **kwargs)
        except BaseException as exc:
            del args, kwargs  # this frame's own locals
            _clear_frames(exc, set())
            raise

    return wrapper


def _clear_frames(exc: Optional[BaseException], seen: Set[int]) -> None:
    """Clear the locals of the finished frames of ``exc`` and its chain."""

    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb = exc.__traceback__
        tb = tb.tb_next if tb is not None else None  # not the wrapper's own frame
        while tb is not None:
            try:
                tb.tb_frame.clear()
            except RuntimeError:  # still running (not one of ours): left alone
                pass
            tb = tb.tb_next
        _clear_frames(exc.__cause__, seen)
        exc = exc.__context__


#: The code of every scrub_locals wrapper (one code object for all).
_WRAPPER_CODE = scrub_locals(lambda: None).__code__


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes :func:`warnings.warn`, called by the
    caller of this function, name the first frame outside gobrs: the
    user's line, however many gobrs frames (a factory, wrappers) lie
    between."""

    frame: Optional[Any] = sys._getframe(1)  # the frame stacklevel 1 names
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def warning_stacklevel(stacklevel: int) -> int:
    """The ``stacklevel`` that makes :func:`warnings.warn`, called by the
    caller of this function, name the frame ``stacklevel`` names when the
    frames of :func:`scrub_locals` wrappers are not counted."""

    frame: Optional[Any] = sys._getframe(1)  # the frame stacklevel 1 names
    level = stacklevel
    for _ in range(stacklevel - 1):
        frame = frame.f_back if frame is not None else None
        while frame is not None and frame.f_code is _WRAPPER_CODE:
            level += 1
            frame = frame.f_back
    return level
