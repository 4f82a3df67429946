"""Drop-in, names and modules: every public module and name of
boto3-refresh-session (installed from PyPI in the test virtualenv) exists
under gobrs, the session classes carry what boto3-refresh-session's carry,
and a boto3-refresh-session program runs on gobrs with ``import gobrs as
boto3_refresh_session`` and with ``sys.modules`` aliasing.

The reference is walked at run time, so a name boto3-refresh-session adds
in a later 10.x fails here until gobrs has it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import textwrap
import types
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Set, Tuple

import boto3_refresh_session as brs
import pytest

import gobrs
from helpers import run_python

REF = "boto3_refresh_session"


def _ref_modules() -> List[str]:
    """Every public module of boto3-refresh-session, the package included."""

    names = [REF]
    for info in pkgutil.walk_packages(brs.__path__, prefix=REF + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _public_names(module: types.ModuleType) -> Set[str]:
    """``__all__``, the public classes and functions the module defines, and
    its public submodules."""

    names = set(getattr(module, "__all__", ()))
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ == module.__name__:
            names.add(name)
        elif inspect.ismodule(value) and value.__name__.startswith(REF + "."):
            names.add(name)
    return names


def _gobrs_name(ref_module: str) -> str:
    return "gobrs" + ref_module[len(REF) :]


REF_MODULES = _ref_modules()
NAME_CASES: List[Tuple[str, str]] = [
    (module, name) for module in REF_MODULES for name in sorted(_public_names(importlib.import_module(module)))
]


def test_the_reference_is_boto3_refresh_session_10() -> None:
    from importlib.metadata import version

    assert version("boto3-refresh-session").split(".")[0] == "10"
    assert len(REF_MODULES) >= 12 and len(NAME_CASES) >= 60


@pytest.mark.parametrize("module", REF_MODULES)
def test_every_module_path_exists(module: str) -> None:
    importlib.import_module(_gobrs_name(module))


@pytest.mark.parametrize(("module", "name"), NAME_CASES, ids=[f"{m[len(REF) :] or '.'}:{n}" for m, n in NAME_CASES])
def test_every_public_name_exists(module: str, name: str) -> None:
    ours = importlib.import_module(_gobrs_name(module))
    assert hasattr(ours, name), f"{_gobrs_name(module)}.{name} is missing"
    theirs = getattr(importlib.import_module(module), name)
    mine = getattr(ours, name)
    # same kind of thing: a class stays a class, a module a module, ...
    for check in (inspect.isclass, inspect.ismodule, inspect.isfunction):
        if check(theirs):
            assert check(mine), f"{name}: {theirs!r} vs {mine!r}"
    if isinstance(theirs, (bool, tuple, set, frozenset)):
        assert mine == theirs


def test_top_level_all_covers_the_reference() -> None:
    assert set(brs.__all__) <= set(gobrs.__all__)


def test_exception_classes_keep_their_hierarchy() -> None:
    for name in brs.exceptions.__all__:
        theirs, mine = getattr(brs, name), getattr(gobrs, name)
        for base in theirs.__mro__:
            if base.__module__.startswith(REF):
                assert issubclass(mine, getattr(gobrs, base.__name__)), (name, base.__name__)
            elif base is not object:
                assert issubclass(mine, base), (name, base)


def test_typing_names_have_the_same_fields() -> None:
    for name in ("AssumeRoleParams", "STSClientParams", "TemporaryCredentials", "Identity", "PKCS11"):
        assert list(getattr(gobrs, name).__annotations__) == list(getattr(brs, name).__annotations__), name
    from typing import get_args

    for name in ("Method", "RefreshMethod", "Transport"):
        assert set(get_args(getattr(gobrs, name))) == set(get_args(getattr(brs, name))), name
    from boto3_refresh_session.utils import constants as ref_constants

    from gobrs.utils import constants

    assert constants.ASSUME_ROLE_CONFIG_PARAMETERS == ref_constants.ASSUME_ROLE_CONFIG_PARAMETERS
    assert constants.STS_CLIENT_CONFIG_PARAMETERS == ref_constants.STS_CLIENT_CONFIG_PARAMETERS
    assert constants.SUBPROCESS_ALLOWED_PARAMETERS == ref_constants.SUBPROCESS_ALLOWED_PARAMETERS


# ------------------------------------------------------- session classes ---


def _creds() -> Dict[str, str]:
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    return {"access_key": "AKIAFAKE", "secret_key": "fake", "token": "fake", "expiry_time": expiry.isoformat()}


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    from test_iot import CA

    ca = CA("names CA")
    cert, key = ca.issue("thing")
    tmp = tmp_path_factory.mktemp("device")
    (tmp / "cert.pem").write_bytes(cert)
    return {"certificate": str(tmp / "cert.pem"), "private_key": key}


def _session_of(lib: Any, method: str, device: Dict[str, Any]) -> Any:
    if method == "custom":
        return lib.RefreshableSession(method="custom", custom_credentials_method=_creds, region_name="us-east-1")
    if method == "sts":
        return lib.RefreshableSession(
            method="sts",
            assume_role_kwargs={"RoleArn": "arn:aws:iam::123456789012:role/names", "RoleSessionName": "names"},
            sts_client_kwargs={"endpoint_url": "http://127.0.0.1:9", "region_name": "us-east-1"},
            region_name="us-east-1",
        )
    return lib.RefreshableSession(
        method="iot",
        endpoint="abc123.credentials.iot.us-east-1.amazonaws.com",
        role_alias="alias",
        thing_name="thing",
        region_name="us-east-1",
        **device,
    )


def _public(names: Any) -> Set[str]:
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("method", ["custom", "sts", "iot"])
def test_session_classes_carry_what_the_reference_carries(method: str, device: Dict[str, Any]) -> None:
    theirs = _session_of(brs, method, device)
    mine = _session_of(gobrs, method, device)
    try:
        assert _public(dir(type(theirs))) - _public(dir(type(mine))) == set()
        assert _public(vars(theirs)) - _public(dir(mine)) == set()
        assert mine.refresh_method == theirs.refresh_method
        assert set(theirs.registry) <= set(mine.registry)
        assert isinstance(mine, gobrs.utils.BRSSession) and isinstance(theirs, brs.utils.BRSSession)
        assert type(mine).__name__ == type(theirs).__name__
        assert type(mine) is getattr(importlib.import_module(_gobrs_name(type(theirs).__module__)), type(mine).__name__)
    finally:
        mine.close()


def test_registry_maps_every_method_to_its_class() -> None:
    from gobrs.utils import Registry

    assert Registry.registry is gobrs.BaseRefreshableSession.registry
    for key, cls in brs.utils.Registry.registry.items():
        assert Registry.registry[key].__name__ == cls.__name__


def test_a_method_written_for_the_reference_runs_on_gobrs() -> None:
    """A session class written on boto3-refresh-session's building blocks."""

    from gobrs import RefreshableSession
    from gobrs.utils import BRSSession, CredentialProvider, Registry, refreshable_session

    calls: List[int] = []

    @refreshable_session
    class VaultSession(Registry, BRSSession, CredentialProvider, registry_key="vault-test"):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(refresh_method="custom", **kwargs)

        def _get_credentials(self) -> Dict[str, str]:
            calls.append(1)
            return _creds()

        def get_identity(self) -> Dict[str, str]:
            return {"method": "vault-test", "source": "test"}

    try:
        with RefreshableSession(method="vault-test", region_name="us-east-1") as session:
            assert isinstance(session, VaultSession)
            assert session.refreshable_credentials()["access_key"] == "AKIAFAKE"
            assert session.whoami() == {"method": "vault-test", "source": "test"}
            assert calls == [1]
    finally:
        del Registry.registry["vault-test"]


# -------------------------------------------------- import gobrs as brs ---

PROGRAM = """
from datetime import datetime, timedelta, timezone

{imports}
from boto3_refresh_session import RefreshableSession, AssumeRoleConfig, STSClientConfig
from boto3_refresh_session.methods.custom import CustomRefreshableSession
from boto3_refresh_session.methods.sts import STSRefreshableSession
from boto3_refresh_session.methods.iot.x509 import IOTX509RefreshableSession
from boto3_refresh_session.utils import IOT_EXTRA_INSTALLED, TemporaryCredentials
from boto3_refresh_session.utils.typing import Identity, Method
from boto3_refresh_session.exceptions import BRSError, BRSValidationError
from boto3_client_cache import ClientCacheKey, ClientCacheNotFoundError

def getter() -> TemporaryCredentials:
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    return {{"access_key": "AKIAPROGRAM", "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}}

session = RefreshableSession(method="custom", custom_credentials_method=getter, region_name="us-east-1")
assert isinstance(session, CustomRefreshableSession)
s3 = session.client("s3")
assert session.cache["client"]["LRU"][ClientCacheKey("s3")] is s3
try:
    session.cache.client.LRU[ClientCacheKey("sqs")]
except ClientCacheNotFoundError:
    pass
assert session.refreshable_credentials()["access_key"] == "AKIAPROGRAM"
try:
    RefreshableSession(method="nope")
except BRSValidationError as exc:
    assert isinstance(exc, BRSError)
config = AssumeRoleConfig(RoleArn="arn:aws:iam::123456789012:role/program")
assert config.RoleArn.endswith("program")
print("ran on", type(session).__module__.split(".")[0])
"""

ALIASES = """
import sys, importlib
import gobrs
for name in [n for n in list(sys.modules) if n == "gobrs" or n.startswith("gobrs.")]:
    sys.modules["boto3_refresh_session" + name[len("gobrs"):]] = sys.modules[name]
for sub in ("methods", "methods.custom", "methods.sts", "methods.iot", "methods.iot.x509", "utils",
            "utils.typing", "utils.config", "utils.constants", "utils.extras", "utils.internal",
            "exceptions", "session"):
    sys.modules["boto3_refresh_session." + sub] = importlib.import_module("gobrs." + sub)
sys.modules["boto3_refresh_session"] = gobrs
"""


@pytest.mark.parametrize(
    ("imports", "expected"),
    [
        ("", "boto3_refresh_session"),
        (ALIASES, "gobrs"),
    ],
    ids=["reference", "sys.modules aliasing"],
)
def test_a_reference_program_runs_on_gobrs(imports: str, expected: str) -> None:
    proc = run_python(PROGRAM.format(imports=imports), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"ran on {expected}"


def test_import_gobrs_as_boto3_refresh_session() -> None:
    code = textwrap.dedent(
        """
        import sys
        import gobrs as boto3_refresh_session
        assert "boto3" not in sys.modules   # still lazy
        from datetime import datetime, timedelta, timezone
        getter = lambda: {"access_key": "AKIAAS", "secret_key": "s", "token": "t",
                          "expiry_time": datetime.now(timezone.utc) + timedelta(hours=1)}
        session = boto3_refresh_session.RefreshableSession(
            method="custom", custom_credentials_method=getter, region_name="us-east-1")
        assert isinstance(session, boto3_refresh_session.methods.custom.CustomRefreshableSession)
        assert isinstance(session, boto3_refresh_session.utils.BRSSession)
        assert boto3_refresh_session.typing.TemporaryCredentials is boto3_refresh_session.TemporaryCredentials
        assert boto3_refresh_session.config.AssumeRoleConfig is boto3_refresh_session.AssumeRoleConfig
        assert boto3_refresh_session.exceptions.BRSError is boto3_refresh_session.BRSError
        assert boto3_refresh_session.session.RefreshableSession is boto3_refresh_session.RefreshableSession
        assert (boto3_refresh_session.methods.iot.x509.IOTX509RefreshableSession
                is boto3_refresh_session.IOTX509RefreshableSession)
        print(session.credentials["access_key"])
        """
    )
    proc = run_python(code, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "AKIAAS"


def test_old_gobrs_module_paths_still_work() -> None:
    from gobrs.custom import CustomRefreshableSession
    from gobrs.iot import IOTX509RefreshableSession
    from gobrs.sts import AssumeRoleConfig, STSClientConfig, STSRefreshableSession

    assert gobrs.methods.custom.CustomRefreshableSession is CustomRefreshableSession
    assert gobrs.methods.sts.STSRefreshableSession is STSRefreshableSession
    assert gobrs.methods.iot.x509.IOTX509RefreshableSession is IOTX509RefreshableSession
    assert gobrs.utils.config.AssumeRoleConfig is AssumeRoleConfig
    assert gobrs.utils.STSClientConfig is STSClientConfig


def test_star_imports_of_every_module() -> None:
    for module in REF_MODULES:
        namespace: Dict[str, Any] = {}
        exec(f"from {_gobrs_name(module)} import *", namespace)
        assert set(getattr(importlib.import_module(module), "__all__", ())) <= set(namespace), module
