"""One version: the file VERSION, and every place that tells it —
gobrs.__version__, the installed distribution, brs_version() of the loaded
library, and the C macros of include/brsver.h (BRS_VERSION,
BRS_VERSION_MAJOR/MINOR/PATCH, BRS_VERSION_NUM, BRS_AT_LEAST_VERSION)."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import gobrs
from cbuild import compile_c
from gobrs import _lib

REPO = Path(__file__).resolve().parents[2]
VERSION = (REPO / "VERSION").read_text().strip()


def _parts() -> tuple[int, int, int]:
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", VERSION)
    assert m, f"VERSION must be MAJOR.MINOR.PATCH, not {VERSION!r}"
    major, minor, patch = (int(x) for x in m.groups())
    assert max(major, minor, patch) < 256, "BRS_VERSION_NUM has 8 bits per part"
    return major, minor, patch


def test_python_package_and_distribution_say_version() -> None:
    _parts()
    assert gobrs.__version__ == VERSION
    assert importlib.metadata.version("gobrs") == VERSION
    assert f'__version__ = "{VERSION}"' in (REPO / "python" / "gobrs" / "_version.py").read_text()


def test_the_loaded_library_says_version() -> None:
    assert _lib.version() == VERSION


PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include "brs.h"

#if !BRS_AT_LEAST_VERSION(BRS_VERSION_MAJOR, BRS_VERSION_MINOR, BRS_VERSION_PATCH)
#error BRS_AT_LEAST_VERSION is false for its own version
#endif
#if BRS_AT_LEAST_VERSION(BRS_VERSION_MAJOR, BRS_VERSION_MINOR, BRS_VERSION_PATCH + 1)
#error BRS_AT_LEAST_VERSION is true for the next patch release
#endif
#if BRS_AT_LEAST_VERSION(BRS_VERSION_MAJOR + 1, 0, 0)
#error BRS_AT_LEAST_VERSION is true for the next major release
#endif
#if BRS_VERSION_NUM != ((BRS_VERSION_MAJOR << 16) | (BRS_VERSION_MINOR << 8) | BRS_VERSION_PATCH)
#error BRS_VERSION_NUM does not match its parts
#endif

int main(void) {
    printf("%s %d %d %d 0x%06x %s %d\n", BRS_VERSION, BRS_VERSION_MAJOR, BRS_VERSION_MINOR,
           BRS_VERSION_PATCH, BRS_VERSION_NUM, brs_version(), strcmp(BRS_VERSION, brs_version()) == 0);
    return 0;
}
"""


def test_c_macros_and_brs_version_agree(tmp_path: Path) -> None:
    major, minor, patch = _parts()
    src = tmp_path / "version.c"
    src.write_text(PROGRAM)
    exe = tmp_path / "version"
    lib = REPO / "build"
    compile_c(src, exe, f"-I{REPO / 'include'}", f"-L{lib}", "-lbrs", f"-Wl,-rpath,{lib}")
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=60).stdout.split()
    assert out == [VERSION, str(major), str(minor), str(patch), f"0x{major:02x}{minor:02x}{patch:02x}", VERSION, "1"]


def test_setup_py_refuses_a_stale_generated_file(tmp_path: Path) -> None:
    (tmp_path / "include").mkdir()
    (tmp_path / "python" / "gobrs").mkdir(parents=True)
    shutil.copy(REPO / "setup.py", tmp_path)
    shutil.copy(REPO / "include" / "brsver.h", tmp_path / "include")
    shutil.copy(REPO / "python" / "gobrs" / "_version.py", tmp_path / "python" / "gobrs")
    (tmp_path / "VERSION").write_text("99.0.0\n")
    proc = subprocess.run(
        [sys.executable, "setup.py", "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert "does not say version 99.0.0 (VERSION): run `make version`" in proc.stderr
