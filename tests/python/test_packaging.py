"""Packaging: `pip wheel .` builds libbrs.so with Go into a py3-none-<platform>
wheel that installs and works where there is no Go."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert shutil.which("go"), "building the wheel needs the Go toolchain on PATH"
    out = tmp_path_factory.mktemp("wheelhouse")
    env = dict(os.environ)
    env.pop("GOBRS_PREBUILT_LIBRARY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheels = list(out.glob("gobrs-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_tag_is_py3_none_platform(wheel: Path) -> None:
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert wheel.name == f"gobrs-0.1.0-py3-none-{platform}.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read("gobrs-0.1.0.dist-info/WHEEL").decode()
        requires = zf.read("gobrs-0.1.0.dist-info/METADATA").decode()
    assert f"Tag: py3-none-{platform}" in meta
    assert "Root-Is-Purelib: false" in meta
    assert {"gobrs/libbrs.so", "gobrs/py.typed", "gobrs/__init__.py", "gobrs/_lib.py"} <= names
    assert "gobrs/libbrs.h" not in names
    deps = [line for line in requires.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert [d.split()[1] for d in deps] == ["boto3>=1.34", "boto3-client-cache<3,>=2.1.19"]
    extras = [line for line in requires.splitlines() if line.startswith("Requires-Dist:") and "extra == \"iot\"" in line]
    assert [d.split()[1] for d in extras] == ["awsiotsdk>=1.21;"]


def test_wheel_installs_and_works_without_go(wheel: Path, tmp_path: Path) -> None:
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
        print(gobrs.__file__)
        print(gobrs._lib.library_path())
        """
    )
    proc = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    key, module, library = proc.stdout.split()
    assert key == "ASIAGOBRSWHEEL000001"
    assert module.startswith(str(venv))
    assert library.startswith(str(venv)) and library.endswith("gobrs/libbrs.so")
