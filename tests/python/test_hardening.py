"""The hardening points of issue 18, each in a fresh interpreter where a
crash, a hang or exit itself is what is tested.

``GOBRS_CHURN_SECONDS`` lengthens the churn (``make soak`` sets it).
"""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from pathlib import Path
from typing import List, Optional

import pytest

from helpers import run_python

CHURN_SECONDS = float(os.environ.get("GOBRS_CHURN_SECONDS", "60"))

# Common to the scripts: a getter of short-lived credentials.
PRELUDE = textwrap.dedent(
    """
    import gc, os, sys, threading, time
    from datetime import datetime, timedelta, timezone
    import gobrs
    from gobrs import _lib

    def creds(lifetime=3600.0):
        expiry = datetime.now(timezone.utc) + timedelta(seconds=lifetime)
        return {"access_key": "ASIAHARDEN", "secret_key": "s3cr3t", "token": "t0k3n",
                "expiry_time": expiry.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    """
)


def run_script(tmp_path: Path, body: str, *, timeout: float, env: Optional[dict] = None) -> subprocess.CompletedProcess:
    return run_python(PRELUDE + textwrap.dedent(body), path=tmp_path / "script.py", env=env, timeout=timeout)


def test_sessions_left_to_the_collector_during_background_pushes(tmp_path: Path) -> None:
    """Issue 18.1: background-refresh sessions never closed, collected by
    the GC on any thread (Go's callback threads included) while their
    refreshes push credentials: no crash, every Go session closed, the
    callbacks released."""

    proc = run_script(
        tmp_path,
        f"""
        deadline = time.monotonic() + {CHURN_SECONDS}
        made = pushes = 0

        def getter(request):
            gc.collect()  # the collector runs on the Go thread calling the getter
            return creds(1.0)

        def on_push(values):
            global pushes
            pushes += 1
            gc.collect()  # ... and on the Go thread pushing a refresh

        class Holder:  # only the cyclic collector frees a session it holds
            pass

        live = []
        gc.freeze()  # the collections scan the churn's objects only
        while time.monotonic() < deadline:
            h = Holder()
            h.me = h
            h.native = _lib.NativeSession({{"background_refresh": True, "defer_refresh": False}},
                                          getter, "custom_credentials_method")
            h.native.listen(on_push)
            live.append(h)
            made += 1
            if len(live) > 200:
                live = live[100:]
            time.sleep(0.005)
        del live, h
        for _ in range(200):
            gc.collect()
            if not _lib._callbacks:
                break
            time.sleep(0.05)
        print("made", made, "pushes", pushes, "open", len(_lib._callbacks), "threads", threading.active_count())
        assert pushes >= min(made, 100), "too few background refreshes to test anything"
        assert not _lib._callbacks, f"{{len(_lib._callbacks)}} Go sessions were never closed"
        """,
        timeout=CHURN_SECONDS + 120,
    )
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    assert "made" in proc.stdout


def test_copy_never_used_past_expiry_by_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18.6: the Python copy's deadline is on the wall clock, which
    a suspend does not stop: with the clock moved past the expiry (a
    suspend of an hour, while time.monotonic stood still) the copy is not
    handed out; the read goes to Go."""

    from datetime import datetime, timedelta, timezone

    from gobrs import credentials as credmod
    from gobrs.custom import CustomRefreshableSession

    expiry = datetime.now(timezone.utc) + timedelta(hours=1)

    def getter() -> dict:
        return {"access_key": "ASIAWALLCLOCK", "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}

    class Counting:
        def __init__(self, native: object) -> None:
            self.native, self.calls = native, 0

        def credentials(self, refresh: bool = False) -> object:
            self.calls += 1
            return self.native.credentials(refresh)  # type: ignore[attr-defined]

        def __getattr__(self, name: str) -> object:
            return getattr(self.native, name)

    with CustomRefreshableSession(custom_credentials_method=getter, region_name="us-east-1") as session:
        creds = session.get_credentials()
        creds.get_frozen_credentials()
        counting = Counting(creds._native)
        creds._native = counting
        now = time.time()
        monkeypatch.setattr(credmod, "_now", lambda: now + 120)  # two minutes on: the copy is used
        assert creds.get_frozen_credentials().access_key == "ASIAWALLCLOCK"
        assert counting.calls == 0
        monkeypatch.setattr(credmod, "_now", lambda: expiry.timestamp() + 1)  # resumed past the expiry
        creds.get_frozen_credentials()
        assert counting.calls == 1, "the copy was handed out past its expiry by the wall clock"
        assert creds._deadline <= expiry.timestamp()


# A callback that never returns, in its three shapes: the custom getter,
# the MFA callable and the source-credentials callable of the sts method
# (the source credentials are botocore's, read through a provider that hangs).
HANGING = {
    "getter": """
        def hang(**kwargs):
            entered.set()
            threading.Event().wait()
        session = gobrs.RefreshableSession(method="custom", custom_credentials_method=hang, region_name="us-east-1")
    """,
    "mfa": """
        def hang(**kwargs):
            entered.set()
            threading.Event().wait()
        session = gobrs.RefreshableSession(
            method="sts",
            assume_role_kwargs={"RoleArn": "arn:aws:iam::123456789012:role/demo",
                                "SerialNumber": "arn:aws:iam::123456789012:mfa/me"},
            mfa_token_provider=hang, aws_access_key_id="testing", aws_secret_access_key="testing",
            sts_client_kwargs={"endpoint_url": "http://127.0.0.1:9"}, region_name="us-east-1")
    """,
    "source credentials": """
        from botocore.credentials import RefreshableCredentials
        class Hanging(RefreshableCredentials):
            def __init__(self):
                pass
            def get_frozen_credentials(self):
                entered.set()
                threading.Event().wait()
        import boto3.session, botocore.session
        core = botocore.session.Session()
        core._credentials = Hanging()
        session = gobrs.RefreshableSession(
            method="sts", assume_role_kwargs={"RoleArn": "arn:aws:iam::123456789012:role/demo"},
            sts_client_kwargs={"endpoint_url": "http://127.0.0.1:9"}, botocore_session=core, region_name="us-east-1")
    """,
}


@pytest.mark.parametrize("callback", sorted(HANGING))
def test_exit_does_not_wait_for_a_hanging_callback(tmp_path: Path, callback: str) -> None:
    """Issue 18.3: the interpreter exits (within 2 s; measured and printed
    here, the subprocess timeout catches a hang) while a callback never
    returns and another thread waits for it."""

    proc = run_script(
        tmp_path,
        "entered = threading.Event()\n"
        + textwrap.dedent(HANGING[callback])
        + textwrap.dedent(
            """
        reader = threading.Thread(target=lambda: session.get_credentials().get_frozen_credentials(), daemon=True)
        reader.start()
        assert entered.wait(60), "the callback was never called"
        import atexit
        atexit.register(lambda: print("exit-started", time.monotonic(), flush=True))
        """
        ),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    start = float(proc.stdout.split("exit-started")[1].split()[0])
    print(f"{callback}: exit took {time.monotonic() - start:.2f} s after the last atexit hook")


def test_ctrl_c_reaches_a_reader_waiting_for_a_slow_refresh(tmp_path: Path) -> None:
    """Issue 18.8: the main thread waiting for a refresh that does not end
    gets KeyboardInterrupt at once (the time is printed; a hang is caught
    by the subprocess timeout), and a thread of its own afterwards still
    reads once the getter is released."""

    proc = run_script(
        tmp_path,
        """
        import signal
        # Python's own handler, even when started with SIGINT ignored (as a
        # shell's background job is)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        entered, release = threading.Event(), threading.Event()
        def slow():
            entered.set()
            release.wait()
            return creds()
        session = gobrs.RefreshableSession(method="custom", custom_credentials_method=slow, region_name="us-east-1")
        def interrupt():
            entered.wait()
            global sent
            sent = time.monotonic()
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=interrupt, daemon=True).start()
        try:
            session.get_credentials().get_frozen_credentials()
            print("no interrupt")
        except KeyboardInterrupt:
            print(f"interrupted after {time.monotonic() - sent:.3f} s")
        release.set()
        assert session.get_credentials().get_frozen_credentials().access_key == "ASIAHARDEN"
        session.close()
        print("read after the interrupt")
        """,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "interrupted after" in proc.stdout and "read after the interrupt" in proc.stdout, proc.stdout
    print(proc.stdout)


def test_sessions_whose_getters_read_each_other_fail_at_once(tmp_path: Path) -> None:
    """Issue 18.4: getters of two sessions reading each other (A -> B -> A)
    are detected: BRSError at once instead of a deadlock."""

    proc = run_script(
        tmp_path,
        """
        from gobrs.exceptions import BRSError
        sessions = {}
        def getter(other):
            def get():
                sessions[other].get_credentials().get_frozen_credentials()
                return creds()
            return get
        sessions["a"] = gobrs.RefreshableSession(
            method="custom", custom_credentials_method=getter("b"), region_name="us-east-1")
        sessions["b"] = gobrs.RefreshableSession(
            method="custom", custom_credentials_method=getter("a"), region_name="us-east-1")
        try:
            sessions["a"].get_credentials().get_frozen_credentials()
            print("no error")
        except BRSError as exc:
            print("raised", type(exc).__name__, exc)
        """,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "raised" in proc.stdout and "deadlock" in proc.stdout, proc.stdout


def test_getter_reading_its_own_session_from_a_helper_thread_times_out(tmp_path: Path) -> None:
    """Issue 18.4: a getter that waits for a thread reading its own session
    cannot be told from a slow one; with refresh_timeout both the waiting
    reader and the helper give up with BRSCredentialError, the getter is not
    stuck for ever, and exit is prompt."""

    proc = run_script(
        tmp_path,
        """
        from concurrent.futures import ThreadPoolExecutor
        from gobrs.exceptions import BRSCredentialError
        pool = ThreadPoolExecutor(1)
        def getter():
            return pool.submit(lambda: session.get_credentials().get_frozen_credentials()).result()
        session = gobrs.RefreshableSession(method="custom", custom_credentials_method=getter,
                                           region_name="us-east-1", refresh_timeout=0.5)
        try:
            session.get_credentials().get_frozen_credentials()
            print("no error")
        except BRSCredentialError as exc:
            assert exc.param in ("refresh_timeout", "custom_credentials_method"), exc.param
            print("raised", type(exc).__name__, exc)
        """,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "raised BRSCredentialError" in proc.stdout, proc.stdout


def _repr_classes() -> List[type]:
    import inspect

    import gobrs
    from gobrs import _lib, cache, credentials, custom, exceptions, iot, session, sts

    found = []
    for module in (gobrs, _lib, cache, credentials, custom, exceptions, iot, session, sts):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__.startswith("gobrs") and any(
                "__repr__" in vars(k) for k in cls.__mro__ if k.__module__.startswith("gobrs")
            ):
                found.append(cls)
    return sorted(set(found), key=lambda c: c.__qualname__)


@pytest.mark.parametrize("cls", _repr_classes(), ids=lambda c: c.__qualname__)
def test_every_repr_is_safe_on_a_half_built_object(cls: type) -> None:
    """Issue 18.7: repr of an object whose __init__ never ran (or failed
    half-way) does not raise."""

    obj = cls.__new__(cls)
    assert isinstance(repr(obj), str)


def test_sts_client_config_repr_masks_credentials_in_urls() -> None:
    """Issue 18.7: a proxy's (or an endpoint's) user and password are masked."""

    from gobrs.sts import STSClientConfig

    config = STSClientConfig(
        endpoint_url="http://alice:s3cret@127.0.0.1:1",
        config={"proxies": {"https": "http://bob:hunter2@proxy:3128", "http": "socks5://carol:pw0rd@p:1080"}},
        aws_secret_access_key="SECRETKEY",
    )
    shown = repr(config)
    for secret in ("hunter2", "bob:", "s3cret", "pw0rd", "SECRETKEY"):
        assert secret not in shown, shown
    assert "proxy:3128" in shown


def _walk(value: object, depth: int = 0) -> List[str]:
    """Every string a locals-capturing error tracker could show of value:
    its repr, and for containers (walked as Sentry does) their items."""

    out = [repr(value)]
    if depth < 4 and isinstance(value, dict):
        for k, v in value.items():
            out += _walk(k, depth + 1) + _walk(v, depth + 1)
    elif depth < 4 and isinstance(value, (list, tuple, set)):
        for v in value:
            out += _walk(v, depth + 1)
    return out


def _secrets_in_frames(exc: BaseException, secrets: List[str]) -> List[str]:
    found, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if "test_hardening" not in frame.f_code.co_filename:
                for name, value in frame.f_locals.items():
                    if any(s in text for text in _walk(value) for s in secrets):
                        found.append(f"{frame.f_code.co_name}:{name}")
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__
    return found


def test_no_secret_in_the_locals_of_a_failed_constructor(tmp_path: Path) -> None:
    """Issue 18.7: when a session cannot be built, no frame of the
    traceback (as Sentry or rich would capture it) holds the key PEM, the
    PIN, the secret key or the MFA code it was given."""

    from gobrs import RefreshableSession
    from gobrs.exceptions import BRSError

    key = (
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETKEYBODY\n"
        "-----END PRIVATE KEY-----\n"
    )
    cases = [
        (
            "iot key",
            ["SECRETKEYBODY"],
            dict(
                method="iot",
                endpoint="127.0.0.1:9",
                role_alias="alias",
                certificate=b"not a certificate",
                private_key=key.encode(),
            ),
        ),
        (
            "iot pin",
            ["PIN-987654"],
            dict(
                method="iot",
                endpoint="127.0.0.1:9",
                role_alias="alias",
                certificate="/nonexistent",
                pkcs11={"pkcs11_lib": "/nonexistent.so", "user_pin": "PIN-987654"},
            ),
        ),
        (
            "sts secret key",
            ["SECRETACCESSKEY42"],
            dict(
                method="sts",
                assume_role_kwargs={"RoleArn": "short"},
                aws_access_key_id="AKIDX",
                aws_secret_access_key="SECRETACCESSKEY42",
            ),
        ),
        (
            "sts mfa code",
            ["913457"],
            dict(
                method="sts",
                assume_role_kwargs={"RoleArn": "arn:aws:iam::123456789012:role/demo", "TokenCode": "913457"},
            ),
        ),
        (
            "sts client secret",
            ["CLIENTSECRET42"],
            dict(
                method="sts",
                assume_role_kwargs={"RoleArn": "bad"},
                sts_client_kwargs={"aws_secret_access_key": "CLIENTSECRET42"},
            ),
        ),
    ]
    for name, secrets, kwargs in cases:
        with pytest.raises(BRSError) as info:
            RefreshableSession(region_name="us-east-1", **kwargs)
        assert _secrets_in_frames(info.value, secrets) == [], name
