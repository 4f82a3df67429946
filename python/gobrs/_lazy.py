"""Module attributes imported on first use (PEP 562), for the packages whose
names must be reachable at once but cost nothing at import: ``gobrs`` and
``gobrs.utils``."""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, List, Mapping, Tuple


def lazy(
    module: str, exports: Mapping[str, str], submodules: Mapping[str, str]
) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of ``module``.

    Parameters
    ----------
    module : str
        The package's ``__name__``.
    exports : Mapping[str, str]
        Public name -> the module that defines it.
    submodules : Mapping[str, str]
        Attribute name -> the module it stands for.
    """

    def __getattr__(name: str) -> Any:
        if name in submodules:
            value = importlib.import_module(submodules[name])
        elif name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
        else:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        vars(sys.modules[module])[name] = value  # later lookups skip this function
        return value

    def __dir__() -> List[str]:
        return sorted(set(vars(sys.modules[module])) | set(exports) | set(submodules))

    return __getattr__, __dir__
