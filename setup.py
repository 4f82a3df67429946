"""Build hooks of the gobrs Python package.

``pip install .`` / ``pip wheel .`` compile the Go core into
``gobrs/libbrs.so`` with ``go build -buildmode=c-shared`` and ship it inside
the package. The wheel is tagged ``py3-none-<platform>``: it holds a native
library but no CPython extension, so any Python 3 on the platform can use it.

Environment:

``GOBRS_PREBUILT_LIBRARY``
    Ship this libbrs.so instead of building one (no Go needed).
``GO``
    The Go command to use (default ``go`` on PATH). ``CC``, ``GOARCH`` and
    ``CGO_*`` reach ``go build`` as usual (``make wheel`` cross-compiles so).
``GOBRS_PLAT_NAME``
    The wheel's platform tag (default: this machine's), for a library built
    for another platform (``make wheel``).

The version is the file ``VERSION``; the build stops when
``include/brsver.h`` or ``python/gobrs/_version.py`` (both made from it by
``make version``) say otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py as _build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent
LIBRARY = "libbrs.so"
# -s -w: no symbol table and no DWARF (Go's tracebacks do not need them).
GO_LDFLAGS = "-s -w"


def check_version() -> str:
    """Return the version in VERSION; stop if a file made from it disagrees."""

    version = (ROOT / "VERSION").read_text().strip()
    made = {
        "include/brsver.h": f'#define BRS_VERSION "{version}"',
        "python/gobrs/_version.py": f'__version__ = "{version}"',
    }
    for name, line in made.items():
        path = ROOT / name
        if path.is_file() and line not in path.read_text():
            raise SystemExit(f"gobrs: {name} does not say version {version} (VERSION): run `make version`")
    return version


def build_library(target: Path) -> None:
    """Put libbrs.so at ``target``: prebuilt, compiled with Go, or shipped."""

    target.parent.mkdir(parents=True, exist_ok=True)
    prebuilt = os.environ.get("GOBRS_PREBUILT_LIBRARY")
    if prebuilt:
        if not os.path.isfile(prebuilt):
            raise SystemExit(f"GOBRS_PREBUILT_LIBRARY={prebuilt} is not a file")
        shutil.copyfile(prebuilt, target)
        return
    go = os.environ.get("GO") or shutil.which("go")
    shipped = ROOT / "python" / "gobrs" / LIBRARY
    if go is None or not (ROOT / "capi").is_dir():
        if shipped.is_file():
            if shipped.resolve() != target.resolve():
                shutil.copyfile(shipped, target)
            return
        raise SystemExit(
            "gobrs: building libbrs.so needs the Go toolchain (>= 1.26) on PATH "
            "and the Go sources (capi/, core/, internal/); or set GOBRS_PREBUILT_LIBRARY "
            "to an existing libbrs.so"
        )
    cmd = [go, "build", "-buildmode=c-shared", "-trimpath", "-ldflags", GO_LDFLAGS, "-o", str(target), "./capi"]
    print("gobrs:", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)
    header = target.with_suffix(".h")  # cgo's generated header is not shipped
    if header.exists():
        header.unlink()


class build_py(_build_py):
    """build_py that also builds libbrs.so into the package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            target = ROOT / "python" / "gobrs" / LIBRARY
        else:
            target = Path(self.build_lib) / "gobrs" / LIBRARY
        build_library(target)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        lib = str(Path(self.build_lib) / "gobrs" / LIBRARY)
        if not self.editable_mode and lib not in outputs:
            outputs.append(lib)
        return outputs


class bdist_wheel(_bdist_wheel):
    """A platform wheel with no CPython ABI tie: py3-none-<platform>."""

    def finalize_options(self) -> None:
        if os.environ.get("GOBRS_PLAT_NAME"):
            self.plat_name = os.environ["GOBRS_PLAT_NAME"]
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self) -> tuple[str, str, str]:
        _python, _abi, platform = super().get_tag()
        return "py3", "none", platform


class BinaryDistribution(Distribution):
    """A distribution with a native library: installed into platlib."""

    def has_ext_modules(self) -> bool:
        return True


check_version()
setup(distclass=BinaryDistribution, cmdclass={"build_py": build_py, "bdist_wheel": bdist_wheel})
