"""Packaging: `python -m build --sdist` makes an sdist that builds
libbrs.so with Go (`pip wheel` of it gives a py3-none-<platform> wheel),
`make wheel` gives manylinux wheels whose library is stripped, and a wheel
installs and works where there is no Go."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VERSION = (REPO / "VERSION").read_text().strip()

pytestmark = pytest.mark.timeout(900)


def _build(cmd: list[str], cwd: Path) -> str:
    """Run a build command (without the packaging variables of the calling
    make); fail with its output unless it succeeds; return its stdout."""

    env = {k: v for k, v in os.environ.items() if k not in ("GOBRS_PREBUILT_LIBRARY", "GOBRS_PLAT_NAME")}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=840)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdist")
    _build([sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", str(out), str(REPO)], REPO)
    found = list(out.glob("gobrs-*.tar.gz"))
    assert [p.name for p in found] == [f"gobrs-{VERSION}.tar.gz"]
    return found[0]


@pytest.fixture(scope="module")
def wheel(sdist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built by pip from the sdist: setup.py compiles libbrs.so with Go."""

    assert shutil.which("go"), "building the wheel needs the Go toolchain on PATH"
    out = tmp_path_factory.mktemp("wheelhouse")
    _build(
        [sys.executable, "-m", "pip", "wheel", str(sdist), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        out,
    )
    wheels = list(out.glob("gobrs-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _make_wheel(goarch: str, dist: Path, cc: str = "gcc") -> tuple[Path, str]:
    log = _build(
        ["make", "--no-print-directory", "wheel", f"WHEEL_CC={cc}", f"WHEEL_GOARCHS={goarch}", f"DIST={dist}"], REPO
    )
    wheels = list(dist.glob("gobrs-*.whl"))
    assert len(wheels) == 1, (wheels, log)
    return wheels[0], log


@pytest.fixture(scope="module")
def manylinux_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`make wheel` for this machine's architecture, with the host gcc."""

    goarch = subprocess.run(["go", "env", "GOARCH"], capture_output=True, text=True, check=True).stdout.strip()
    return _make_wheel(goarch, tmp_path_factory.mktemp("dist"))


def _elf_sections(data: bytes, tmp: Path) -> set[str]:
    lib = tmp / "libbrs.so"
    lib.write_bytes(data)
    out = subprocess.run(["readelf", "-S", "-W", str(lib)], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"\]\s+(\.\S+)", out))


def test_sdist_carries_what_a_go_build_needs(sdist: Path) -> None:
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    need = {
        "VERSION",
        "go.mod",
        "go.sum",
        "setup.py",
        "pyproject.toml",
        "include/brs.h",
        "include/brsver.h",
        "capi/main.go",
        "capi/shim.c",
        "capi/shim.h",
        "core/session.go",
        "python/gobrs/_version.py",
        "python/gobrs/py.typed",
    }
    assert need <= names, sorted(need - names)
    assert not any(n.endswith((".so", ".whl")) for n in names), sorted(names)


def test_make_wheel_is_manylinux_and_stripped(manylinux_wheel: tuple[Path, str], tmp_path: Path) -> None:
    whl, log = manylinux_wheel
    m = re.fullmatch(rf"gobrs-{re.escape(VERSION)}-py3-none-manylinux_(\d+)_(\d+)_(\w+)\.whl", whl.name)
    assert m, whl.name
    assert m.group(3) == sysconfig.get_platform().split("-")[-1]
    assert f'consistent with the following platform tag: "manylinux_{m.group(1)}_{m.group(2)}_' in log
    assert re.search(rf"wheel: .*{re.escape(whl.name)}: \d+ KiB; libbrs.so \d+ KiB \(stripped\)", log), log
    with zipfile.ZipFile(whl) as zf:
        sections = _elf_sections(zf.read("gobrs/libbrs.so"), tmp_path)
    assert ".text" in sections
    assert not {".symtab", ".debug_info", ".zdebug_info"} & sections, sorted(sections)


def _arm64_wheel_cc() -> str | None:
    """The WHEEL_CC that builds the linux/arm64 wheel here: zig when PyPI's
    ziglang is installed (what `make wheel` itself uses), else gcc when the
    cross compiler is; None when neither is. `make test` installs neither
    (ziglang is about 400 MB installed)."""

    if importlib.util.find_spec("ziglang") is not None:
        return "zig"
    if shutil.which("aarch64-linux-gnu-gcc") is not None:
        return "gcc"
    return None


def test_make_wheel_cross_builds_linux_arm64(tmp_path: Path) -> None:
    cc = _arm64_wheel_cc()
    if cc is None:
        pytest.skip(
            "no arm64 wheel: neither ziglang (pip install ziglang) nor aarch64-linux-gnu-gcc "
            "(Debian: gcc-aarch64-linux-gnu) is installed"
        )
    whl, log = _make_wheel("arm64", tmp_path, cc)
    assert re.fullmatch(rf"gobrs-{re.escape(VERSION)}-py3-none-manylinux_\d+_\d+_aarch64\.whl", whl.name), whl.name
    assert "_aarch64" in log and "consistent with the following platform tag" in log
    with zipfile.ZipFile(whl) as zf:
        (tmp_path / "libbrs.so").write_bytes(zf.read("gobrs/libbrs.so"))
    header = subprocess.run(["readelf", "-h", str(tmp_path / "libbrs.so")], capture_output=True, text=True).stdout
    assert "AArch64" in header


def test_wheel_tag_is_py3_none_platform(wheel: Path) -> None:
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert wheel.name == f"gobrs-{VERSION}-py3-none-{platform}.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(f"gobrs-{VERSION}.dist-info/WHEEL").decode()
        requires = zf.read(f"gobrs-{VERSION}.dist-info/METADATA").decode()
    assert f"Tag: py3-none-{platform}" in meta
    assert "Root-Is-Purelib: false" in meta
    assert {"gobrs/libbrs.so", "gobrs/py.typed", "gobrs/__init__.py", "gobrs/_lib.py"} <= names
    assert "gobrs/libbrs.h" not in names
    deps = [line for line in requires.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert [d.split()[1] for d in deps] == ["boto3>=1.34", "boto3-client-cache<3,>=2.1.19"]
    extras = [line for line in requires.splitlines() if line.startswith("Requires-Dist:") and 'extra == "iot"' in line]
    assert [d.split()[1] for d in extras] == ["awsiotsdk>=1.21;"]


def test_wheel_installs_and_works_without_go(manylinux_wheel: tuple[Path, str], tmp_path: Path) -> None:
    wheel = manylinux_wheel[0]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # boto3 comes from the test environment (offline): appended to sys.path
    # after the new venv's own site-packages, so gobrs is the venv's
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_gobrs_test_deps.pth").write_text("\n".join(sorted(paths)) + "\n")

    go_dirs = {str(Path(p).parent) for p in [shutil.which("go")] if p}
    path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if d and d not in go_dirs)
    env = {k: v for k, v in os.environ.items() if k not in ("GOBRS_LIBRARY", "PYTHONPATH", "GOROOT")}
    env["PATH"] = path
    script = textwrap.dedent(
        """
        import shutil
        from datetime import datetime, timedelta, timezone
        import gobrs, gobrs._lib
        from gobrs import RefreshableSession
        assert shutil.which("go") is None, "go is still on PATH"
        s = RefreshableSession(
            method="custom",
            custom_credentials_method=lambda: {
                "access_key": "ASIAGOBRSWHEEL000001", "secret_key": "s", "token": "t",
                "expiry_time": datetime.now(timezone.utc) + timedelta(hours=1),
            },
            region_name="us-east-1",
        )
        print(s.credentials["access_key"])
        print(gobrs.__version__, gobrs._lib.version())
        print(gobrs.__file__)
        print(gobrs._lib.library_path())
        """
    )
    proc = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    key, py_version, lib_version, module, library = proc.stdout.split()
    assert key == "ASIAGOBRSWHEEL000001"
    assert py_version == lib_version == VERSION
    assert module.startswith(str(venv))
    assert library.startswith(str(venv)) and library.endswith("gobrs/libbrs.so")
