"""Fork: a child of a process with gobrs sessions never hangs; it gets a
clear BRSForkError. A child of a process that never loaded the library
works. Every child is bounded by a timeout."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from typing import Any, Callable

import pytest

from gobrs import BRSForkError, RefreshableSession

CHILD_TIMEOUT = 30.0


def fork_and_wait(child: Callable[[], int], timeout: float = CHILD_TIMEOUT) -> int:
    """Run ``child`` in a forked process; return its exit code."""

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 99
        try:
            code = child()
        except BaseException:
            code = 98
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"forked child hung for {timeout} s")


@pytest.fixture
def live_session(getter):
    s = RefreshableSession(method="custom", custom_credentials_method=getter, region_name="us-east-1")
    assert s.credentials["access_key"] == getter.access_key(1)
    yield s
    s.close()


def test_fork_child_gets_a_clear_error_for_an_existing_session(live_session, endpoint) -> None:
    sts = live_session.client("sts", endpoint_url=endpoint)
    sts.get_caller_identity()
    creds = live_session.get_credentials()

    def child() -> int:
        # the parent's copy is still valid but must not be used silently
        for read in (lambda: live_session.credentials, creds.get_frozen_credentials, sts.get_caller_identity):
            try:
                read()
                return 1
            except BRSForkError as exc:
                if "after the fork" not in exc.message or "spawn" not in exc.message:
                    return 2
        return 0

    assert fork_and_wait(child) == 0
    # the parent is unaffected
    assert sts.get_caller_identity()["Account"]


def test_fork_child_cannot_create_sessions(live_session, make_getter) -> None:
    def child() -> int:
        try:
            RefreshableSession(method="custom", custom_credentials_method=make_getter(), defer_refresh=False)
        except BRSForkError:
            return 0
        return 1

    assert fork_and_wait(child) == 0


def test_fork_child_exits_cleanly_with_live_sessions(live_session) -> None:
    # interpreter exit in the child runs the exit hooks, which close the
    # sessions: they must not call into the parent's Go runtime (a hang)
    def child() -> int:
        import atexit

        atexit._run_exitfuncs()
        return 0

    assert fork_and_wait(child) == 0


def _mp_child_read(session: Any, queue: Any) -> None:
    try:
        session.credentials
        queue.put(("ok", ""))
    except BRSForkError as exc:
        queue.put(("BRSForkError", exc.message))
    except BaseException as exc:  # reported to the parent
        queue.put((type(exc).__name__, str(exc)))


def test_multiprocessing_fork_start_method(live_session) -> None:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        proc = ctx.Process(target=_mp_child_read, args=(live_session, queue))
        proc.start()
    proc.join(CHILD_TIMEOUT)
    if proc.is_alive():
        proc.kill()
        proc.join()
        pytest.fail("multiprocessing child hung")
    kind, message = queue.get(timeout=5)
    assert kind == "BRSForkError"
    assert "spawn" in message
    assert proc.exitcode == 0


def _run_script(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=90,
    )


CHILD_OF_FRESH_PARENT = """
    import os, sys, time
    from datetime import datetime, timedelta, timezone
    import gobrs
    from gobrs import RefreshableSession

    def getter():
        return {"access_key": "ASIAGOBRSFORKCHILD01", "secret_key": "s", "token": "t",
                "expiry_time": datetime.now(timezone.utc) + timedelta(hours=1)}

    def child():
        s = RefreshableSession(method="custom", custom_credentials_method=getter, region_name="us-east-1")
        assert s.credentials["access_key"] == "ASIAGOBRSFORKCHILD01"
        s.close()
        return 0

    {body}
"""


def test_child_of_a_parent_that_never_loaded_the_library_works() -> None:
    body = """
    assert gobrs._lib._lib is None
    pid = os.fork()
    if pid == 0:
        try:
            code = child()
        except BaseException as exc:
            print(repr(exc), file=sys.stderr)
            code = 1
        os._exit(code)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            print("child", os.waitstatus_to_exitcode(status))
            break
        time.sleep(0.02)
    else:
        os.kill(pid, 9)
        print("child hung")
    # the parent can load the library afterwards too
    assert child() == 0
    print("parent ok")
    """
    proc = _run_script(textwrap.dedent(CHILD_OF_FRESH_PARENT).replace("{body}", textwrap.dedent(body)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["child 0", "parent ok"]


def test_multiprocessing_fork_from_a_parent_that_never_loaded_the_library() -> None:
    body = """
    import multiprocessing
    if __name__ == "__main__":
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(2) as pool:
            results = pool.starmap_async(child, [()] * 4).get(timeout=60)
        print(results)
    """
    proc = _run_script(textwrap.dedent(CHILD_OF_FRESH_PARENT).replace("{body}", textwrap.dedent(body)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[0, 0, 0, 0]"


def test_spawn_start_method_works(live_session) -> None:
    code = """
    import multiprocessing
    from datetime import datetime, timedelta, timezone

    def work(n):
        from gobrs import RefreshableSession
        s = RefreshableSession(
            method="custom",
            custom_credentials_method=lambda: {
                "access_key": f"ASIAGOBRSSPAWN{n:06d}", "secret_key": "s", "token": "t",
                "expiry_time": datetime.now(timezone.utc) + timedelta(hours=1)},
            region_name="us-east-1")
        return s.credentials["access_key"]

    if __name__ == "__main__":
        from gobrs import RefreshableSession
        parent = RefreshableSession(method="custom", custom_credentials_method=lambda: {}, region_name="us-east-1")
        import gobrs._lib
        gobrs._lib.load()
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            print(pool.map_async(work, [1, 2]).get(timeout=60))
    """
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(textwrap.dedent(code))
    try:
        proc = subprocess.run([sys.executable, f.name], capture_output=True, text=True, timeout=90)
    finally:
        os.unlink(f.name)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['ASIAGOBRSSPAWN000001', 'ASIAGOBRSSPAWN000002']"


