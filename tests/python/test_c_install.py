"""`make install PREFIX=...` gives C users a library with a soname and a
versioned file name, brs.h and brsver.h, and a brs.pc that pkg-config finds:
examples/c/example.c builds with `pkg-config --cflags --libs brs` against
the installed tree alone and runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cbuild import compile_c

REPO = Path(__file__).resolve().parents[2]
VERSION = (REPO / "VERSION").read_text().strip()
MAJOR = VERSION.split(".")[0]


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = tmp_path_factory.mktemp("prefix") / "usr"
    proc = subprocess.run(
        ["make", "--no-print-directory", "install", f"PREFIX={prefix}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return prefix


def test_install_lays_out_library_headers_and_pc(prefix: Path) -> None:
    lib = prefix / "lib"
    real = lib / f"libbrs.so.{VERSION}"
    assert real.is_file() and not real.is_symlink()
    assert os.readlink(lib / f"libbrs.so.{MAJOR}") == f"libbrs.so.{VERSION}"
    assert os.readlink(lib / "libbrs.so") == f"libbrs.so.{MAJOR}"
    dynamic = subprocess.run(["readelf", "-d", str(real)], capture_output=True, text=True, check=True).stdout
    assert f"Library soname: [libbrs.so.{MAJOR}]" in dynamic
    assert (prefix / "include" / "brs.h").read_text() == (REPO / "include" / "brs.h").read_text()
    assert (prefix / "include" / "brsver.h").read_text() == (REPO / "include" / "brsver.h").read_text()
    pc = (lib / "pkgconfig" / "brs.pc").read_text()
    assert f"Version: {VERSION}\n" in pc
    assert f"prefix={prefix}\n" in pc


def test_example_builds_with_pkg_config_against_the_installed_tree(prefix: Path, tmp_path: Path) -> None:
    assert shutil.which("pkg-config"), "pkg-config not found: install pkg-config (apt-get install -y pkg-config)"
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    env.pop("PKG_CONFIG_LIBDIR", None)
    version = subprocess.run(["pkg-config", "--modversion", "brs"], env=env, capture_output=True, text=True, check=True)
    assert version.stdout.strip() == VERSION
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "brs"], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert f"-I{prefix / 'include'}" in flags and f"-L{prefix / 'lib'}" in flags and "-lbrs" in flags
    exe = tmp_path / "example"
    # the repository's include/ and build/ are not on the command line:
    # only what pkg-config says
    compile_c(REPO / "examples" / "c" / "example.c", exe, *flags)
    needed = subprocess.run(["readelf", "-d", str(exe)], capture_output=True, text=True, check=True).stdout
    assert f"Shared library: [libbrs.so.{MAJOR}]" in needed
    run_env = {k: v for k, v in os.environ.items() if k not in ("GOBRS_LIBRARY",)}
    run_env["LD_LIBRARY_PATH"] = str(prefix / "lib")
    proc = subprocess.run([str(exe)], capture_output=True, text=True, env=run_env, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"libbrs {VERSION}\n"), proc.stdout
    assert "example-secret-never-printed" not in proc.stdout + proc.stderr
    loaded = subprocess.run(["ldd", str(exe)], capture_output=True, text=True, env=run_env, check=True).stdout
    assert f"{prefix / 'lib'}/libbrs.so.{MAJOR}" in loaded


def test_uninstall_removes_what_install_put(prefix: Path, tmp_path: Path) -> None:
    other = tmp_path / "usr"
    for target in ("install", "uninstall"):
        subprocess.run(
            ["make", "--no-print-directory", target, f"PREFIX={other}"],
            cwd=REPO,
            capture_output=True,
            check=True,
            timeout=600,
        )
        if target == "install":
            assert f"prefix={other}\n" in (other / "lib" / "pkgconfig" / "brs.pc").read_text()
    left = [p for p in other.rglob("*") if not p.is_dir()]
    assert left == []
