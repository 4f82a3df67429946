"""The hardening points of issue 18, each in a fresh interpreter where a
crash, a hang or exit itself is what is tested.

``GOBRS_CHURN_SECONDS`` lengthens the churn (``make soak`` sets it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import List, Optional

import pytest

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
    script = tmp_path / "script.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


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
        assert pushes > made, "too few background refreshes to test anything"
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
