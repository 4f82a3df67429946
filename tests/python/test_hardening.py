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

        def on_push(values, when):
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
