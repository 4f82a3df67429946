"""Importing gobrs: lazy (no library load), exports, typing, py.typed."""

from __future__ import annotations

from pathlib import Path

import pytest

import gobrs
from helpers import run_python


def test_import_does_not_load_the_library() -> None:
    proc = run_python(
        """
        import gobrs, gobrs._lib
        from gobrs import RefreshableSession, CustomRefreshableSession, BRSError
        from gobrs.utils.typing import TemporaryCredentials
        def mapped():
            with open("/proc/self/maps") as f:
                return "libbrs.so" in f.read()
        assert not mapped(), "libbrs.so loaded at import"
        assert gobrs._lib._lib is None
        s = RefreshableSession(
            method="custom",
            custom_credentials_method=lambda: {},
            region_name="us-east-1",
        )
        assert mapped(), "libbrs.so not loaded by the first session"
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_bare_import_loads_neither_boto3_nor_ctypes_library() -> None:
    proc = run_python(
        """
        import sys, gobrs
        assert "boto3" not in sys.modules
        assert "gobrs._lib" not in sys.modules
        print(sorted(gobrs.__all__))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "RefreshableSession" in proc.stdout


def test_typing_exports_are_the_same_objects() -> None:
    from gobrs.utils import typing as gtyping

    assert gobrs.TemporaryCredentials is gtyping.TemporaryCredentials
    assert gobrs.Identity is gtyping.Identity
    assert set(gtyping.TemporaryCredentials.__annotations__) == {"access_key", "secret_key", "token", "expiry_time"}
    assert {"method", "source"} <= set(gtyping.Identity.__annotations__)


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError):
        gobrs.NoSuchThing  # noqa: B018


def test_star_import_works() -> None:
    namespace: dict = {}
    exec("from gobrs import *", namespace)
    assert "RefreshableSession" in namespace
    assert "BRSCredentialError" in namespace


def test_py_typed_and_library_are_installed() -> None:
    pkg = Path(gobrs.__file__).parent
    assert (pkg / "py.typed").is_file()
    assert (pkg / "libbrs.so").is_file()


def test_gobrs_library_env_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.so"
    proc = run_python(
        """
        from gobrs import RefreshableSession, BRSConfigurationError
        try:
            RefreshableSession(method="custom", custom_credentials_method=lambda: {})
        except BRSConfigurationError as exc:
            print(exc.param, exc.value)
        """,
        env={"GOBRS_LIBRARY": str(missing)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["GOBRS_LIBRARY", str(missing)]


def test_gobrs_library_env_overrides_the_path(tmp_path: Path) -> None:
    pkg = Path(gobrs.__file__).parent
    copy = tmp_path / "libbrs-copy.so"
    copy.write_bytes((pkg / "libbrs.so").read_bytes())
    proc = run_python(
        """
        from datetime import datetime, timedelta, timezone
        from gobrs import RefreshableSession
        s = RefreshableSession(
            method="custom",
            custom_credentials_method=lambda: {
                "access_key": "AKX", "secret_key": "s", "token": "t",
                "expiry_time": datetime.now(timezone.utc) + timedelta(hours=1),
            },
        )
        assert s.credentials["access_key"] == "AKX"
        with open("/proc/self/maps") as f:
            maps = f.read()
        print("copy" if "libbrs-copy.so" in maps else "other")
        """,
        env={"GOBRS_LIBRARY": str(copy)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "copy"


def test_library_version() -> None:
    from gobrs import _lib

    assert _lib.version().count(".") >= 1
