"""Fork: sessions survive it. A forked child never calls into the Go runtime
it inherited (which does not survive fork): it reads the parent's sessions
through the parent's channel (the parent's runtime answers, by the parent's
refresh rules, one refresh for the whole tree), and the sessions it creates
run in a helper process. Every child is bounded by a timeout; nothing waits
on a sleep.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from typing import Any

import pytest

import gobrs._channel
import gobrs._lib
from gobrs import BRSClosedError, BRSConnectionError, BRSCredentialError, BRSError
from helpers import CHILD_TIMEOUT, custom_session, fork_run, record_access_keys, run_python, sts_session

FORK_ROLE = {"RoleSessionName": "fork"}


@pytest.fixture
def live_session(getter):
    s = custom_session(getter)
    assert s.credentials["access_key"] == getter.access_key(1)
    yield s
    s.close()


# -- 1. a parent's session in its children ------------------------------------


def test_child_reads_the_parents_session_through_the_parent(live_session, getter, endpoint) -> None:
    sts = live_session.client("sts", endpoint_url=endpoint)
    assert sts.get_caller_identity()["Account"]
    creds = live_session.get_credentials()

    def child() -> Any:
        assert gobrs._lib.forked()
        fresh = live_session.client("s3", endpoint_url=endpoint)  # a new client, made in the child
        seen = record_access_keys(fresh)
        fresh.list_buckets()
        return {
            "credentials": live_session.credentials,
            "frozen": list(creds.get_frozen_credentials()),
            "cached_client": sts.get_caller_identity()["Account"],
            "new_client": seen,
            "whoami": live_session.whoami(),
            "getter_calls_here": getter.calls,
        }

    out = fork_run(child)
    key = getter.access_key(1)
    assert out["credentials"]["access_key"] == key
    assert out["credentials"]["secret_key"] == getter.issued[0]["secret_key"]
    assert out["frozen"][:3] == [key, getter.issued[0]["secret_key"], getter.issued[0]["token"]]
    assert out["cached_client"] == "123456789012"
    assert out["new_client"] == [key]
    assert out["whoami"]["method"] == "custom"
    # the child asked the parent; it ran no getter of its own
    assert out["getter_calls_here"] == 1
    assert getter.calls == 1
    assert sts.get_caller_identity()["Account"]  # the parent is unaffected


def test_child_forces_a_refresh_in_the_parent(live_session, getter) -> None:
    out = fork_run(lambda: live_session.get_credentials().refresh().access_key)
    assert out == getter.access_key(2)
    assert getter.calls == 2
    # the parent's engine has the new set: its next read asks Go and gets it
    live_session.get_credentials().invalidate()
    assert live_session.credentials["access_key"] == getter.access_key(2)


def test_child_whoami_of_an_sts_session(endpoint) -> None:
    with sts_session(endpoint, FORK_ROLE) as s:
        parent_key = s.credentials["access_key"]

        def child() -> Any:
            return [s.credentials["access_key"], s.whoami()["Arn"]]

        key, arn = fork_run(child)
        assert key == parent_key  # the parent's AssumeRole, not one of its own
        assert "assumed-role/demo/fork" in arn


def _read_until(session: Any, distinct: int) -> Any:
    """Read until ``distinct`` access keys were seen; pace the reads."""

    creds = session.get_credentials()
    seen: list = []
    while len(seen) < distinct:
        key = creds.get_frozen_credentials().access_key
        if not seen or seen[-1] != key:
            seen.append(key)
        time.sleep(0.01)  # pacing only: the loop ends on what it saw
    return seen


def test_eight_children_cause_one_getter_call_per_refresh(make_getter) -> None:
    # short credentials: refreshes come every ~1.5 s of wall clock, and
    # eight children (plus the parent) read across three of them
    getter = make_getter(lifetime=2.0)
    with custom_session(getter) as s:
        s.credentials
        results: list = [None] * 8
        threads = [
            threading.Thread(target=lambda i=i: results.__setitem__(i, fork_run(lambda: _read_until(s, 4), 60)))
            for i in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    keys = set().union(*results)
    assert all(len(r) >= 4 for r in results), results
    # every getter call ran in the parent, and its result reached the tree:
    # one call per set of credentials in use, not one per child
    assert getter.calls == len(keys | {getter.access_key(1)})
    assert len(keys) < sum(len(r) for r in results)
    assert all(key in keys for key in (getter.access_key(2), getter.access_key(3)))


# -- 3. the parent gone --------------------------------------------------------


def test_a_silent_parent_fails_fast_with_a_connection_error(live_session, tmp_path) -> None:
    # a channel that accepts but never answers (a parent that stopped
    # answering): the read fails with BRSConnectionError, it never hangs
    path = str(tmp_path / "mute.sock")
    mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mute.bind(path)
    mute.listen(8)
    try:
        channel = gobrs._channel.Channel(path, "00" * 32, os.getpid())
        with pytest.raises(BRSConnectionError) as info:
            gobrs._channel.request(channel, "ping", 0, timeout=0.2)
        assert "did not answer" in info.value.message
        assert "00" * 32 not in str(info.value) and "00" * 32 not in repr(channel)
    finally:
        mute.close()
    with pytest.raises(BRSConnectionError) as info:
        gobrs._channel.request(channel, "ping", 0)  # nobody listens any more
    assert "is gone" in info.value.message


# -- 4. security and closing ---------------------------------------------------


def test_channel_is_private(live_session) -> None:
    fork_run(lambda: live_session.credentials["access_key"])  # the channel is open
    served = gobrs._lib._served
    assert served is not None and served.pid == os.getpid()
    directory = os.path.dirname(served.path)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(served.path).st_mode) == 0o600
    assert os.stat(directory).st_uid == os.getuid()

    # a wrong token is refused, and so is a session this process never had
    with pytest.raises(BRSError) as info:
        gobrs._channel.request(served._replace(token="ab" * 32), "credentials", 1)
    assert "wrong token" in info.value.message
    with pytest.raises(BRSClosedError):
        gobrs._channel.request(served, "credentials", 10**9)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to become another user")
def test_another_user_cannot_reach_the_channel(live_session) -> None:
    fork_run(lambda: live_session.credentials["access_key"])
    served = gobrs._lib._served

    def child() -> Any:
        os.setgid(65534)
        os.setuid(65534)  # nobody
        try:
            gobrs._channel.request(served, "credentials", 1)
        except BRSConnectionError as exc:
            return exc.message
        return "read"

    assert "Permission denied" in fork_run(child)


def test_closing_in_the_parent_closes_it_for_children(live_session, getter) -> None:
    creds = live_session.get_credentials()
    handle = creds._native._handle
    live_session.close()

    def child() -> Any:
        out = []
        for read in (
            lambda: creds.refresh(),
            lambda: gobrs._channel.request(gobrs._lib._served, "credentials", handle),
        ):
            try:
                read()
                out.append("read")
            except BRSClosedError as exc:
                out.append(exc.message)
        return out

    assert fork_run(child) == ["the session is closed; create a new session"] * 2


def test_closing_in_a_child_leaves_the_parent_open(live_session, getter) -> None:
    def child() -> Any:
        live_session.close()
        try:
            live_session.credentials
        except BRSClosedError:
            return "closed here"
        return "open"

    assert fork_run(child) == "closed here"
    assert live_session.credentials["access_key"] == getter.access_key(1)


# -- 2. sessions created in a forked child -------------------------------------


def test_child_creates_sessions_of_its_own(live_session, make_getter, endpoint) -> None:
    # a Celery-style worker: a new session per task, in a forked child
    def child() -> Any:
        out = []
        for _task in range(3):
            own = make_getter()
            with custom_session(own) as s:
                s3 = s.client("s3", endpoint_url=endpoint)
                seen = record_access_keys(s3)
                s3.list_buckets()
                out.append([s.credentials["access_key"], seen, own.calls])
        with sts_session(endpoint, FORK_ROLE, defer_refresh=False) as s:
            out.append(["sts", s.whoami()["Arn"]])
        return out

    out = fork_run(child)
    key = "ASIAGOBRSTEST0000001"
    assert out[:3] == [[key, [key], 1]] * 3  # each getter ran in the child, once
    assert "assumed-role/demo/fork" in out[3][1]


def test_a_child_sessions_getter_failure_reaches_the_caller(live_session) -> None:
    class Boom(Exception):
        pass

    def bad_getter() -> Any:
        raise Boom("no")

    def child() -> Any:
        s = custom_session(bad_getter)
        try:
            s.credentials
        except BRSCredentialError as exc:
            return [type(exc.__cause__).__name__, exc.param]
        return "read"

    assert fork_run(child) == ["Boom", "custom_credentials_method"]


def test_grandchild_reads_a_session_its_parent_created(live_session, make_getter) -> None:
    def child() -> Any:
        own = make_getter()
        s = custom_session(own)
        key = s.credentials["access_key"]
        return [key, fork_run(lambda: [s.credentials["access_key"], own.calls]), live_session.credentials["access_key"]]

    key, (grandchild_key, calls), parent_key = fork_run(child)
    assert grandchild_key == key and calls == 1
    assert parent_key == "ASIAGOBRSTEST0000001"


# -- issue 18 point 5: fork during the first load -------------------------------


def test_fork_during_the_first_load_never_blocks(monkeypatch, make_getter) -> None:
    if gobrs._lib._lib is not None:
        # run in a fresh interpreter: the library must not be loaded yet
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"{__file__}::{test_fork_during_the_first_load_never_blocks.__name__}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=os.path.dirname(__file__),
        )
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert "1 passed" in proc.stdout
        return
    in_load, release = threading.Event(), threading.Event()
    declare = gobrs._lib._declare

    def slow_declare(lib: Any) -> None:
        in_load.set()  # the loading thread holds the load lock now
        release.wait(30)
        declare(lib)

    monkeypatch.setattr(gobrs._lib, "_declare", slow_declare)
    loader = threading.Thread(target=gobrs._lib.load)
    loader.start()
    assert in_load.wait(30)

    def child() -> Any:
        s = custom_session(make_getter())
        return s.credentials["access_key"]

    try:
        assert fork_run(child) == "ASIAGOBRSTEST0000001"  # hosted by a helper: never the parent's lock
    finally:
        release.set()
        loader.join()


# -- exit and start methods ----------------------------------------------------


def test_fork_child_exits_cleanly_with_live_sessions(live_session) -> None:
    # interpreter exit in the child runs the exit hooks, which close the
    # sessions: they must not call into the parent's Go runtime (a hang)
    def child() -> Any:
        import atexit

        live_session.credentials
        atexit._run_exitfuncs()
        return 0

    assert fork_run(child) == 0


def _mp_child_read(session: Any, queue: Any) -> None:
    try:
        queue.put(("ok", session.credentials["access_key"]))
    except BaseException as exc:  # reported to the parent
        queue.put((type(exc).__name__, str(exc)))


def test_multiprocessing_fork_process(live_session, getter) -> None:
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
    assert queue.get(timeout=5) == ("ok", getter.access_key(1))
    assert proc.exitcode == 0


POOL_SCRIPT = """
    import multiprocessing, os
    from gobrs import RefreshableSession
    from helpers import good

    CALLS = []

    def getter():
        CALLS.append(os.getpid())
        return good(access_key="ASIAGOBRSFORKPOOL%03d" % len(CALLS))

    S = RefreshableSession(method="custom", custom_credentials_method=getter, region_name="us-east-1")

    def work(_):
        sts = S.client("sts", endpoint_url=os.environ["ENDPOINT"])
        return [S.credentials["access_key"], sts.get_caller_identity()["Account"]]

    if __name__ == "__main__":
        with multiprocessing.get_context("fork").Pool(2) as pool:
            print(pool.map_async(work, range(4)).get(timeout=60))
        print(CALLS == [os.getpid()])
"""


def test_multiprocessing_fork_pool_with_a_module_level_session(endpoint, tmp_path) -> None:
    proc = run_python(
        POOL_SCRIPT, path=tmp_path / "pool.py", env={"ENDPOINT": endpoint, "GOBRS_CHANNEL_DIR": str(tmp_path / "ch")}
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split("\n")[:2] == [str([["ASIAGOBRSFORKPOOL001", "123456789012"]] * 4), "True"]
    assert os.listdir(tmp_path / "ch") == []  # the channel is gone with the parent


CHILD_OF_FRESH_PARENT = """
    import os, sys, time
    import gobrs
    from helpers import custom_session, good

    def getter():
        return good(access_key="ASIAGOBRSFORKCHILD01")

    def child():
        s = custom_session(getter)
        assert s.credentials["access_key"] == "ASIAGOBRSFORKCHILD01"
        assert not gobrs._lib.forked()  # its own Go runtime
        s.close()
        return 0

    {body}
"""


def test_child_of_a_parent_that_never_loaded_the_library_runs_its_own_runtime() -> None:
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
    _, status = os.waitpid(pid, 0)
    print("child", os.waitstatus_to_exitcode(status))
    assert child() == 0
    print("parent ok")
    """
    proc = run_python(textwrap.dedent(CHILD_OF_FRESH_PARENT).replace("{body}", textwrap.dedent(body)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["child 0", "parent ok"]


def test_spawn_start_method_works(live_session, tmp_path) -> None:
    code = """
    import multiprocessing
    from helpers import custom_session, good

    def work(n):
        s = custom_session(lambda: good(access_key=f"ASIAGOBRSSPAWN{n:06d}"))
        return s.credentials["access_key"]

    if __name__ == "__main__":
        from gobrs import RefreshableSession
        parent = RefreshableSession(method="custom", custom_credentials_method=lambda: {}, region_name="us-east-1")
        import gobrs._lib
        gobrs._lib.load()
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            print(pool.map_async(work, [1, 2]).get(timeout=60))
    """
    proc = run_python(code, path=tmp_path / "spawn.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['ASIAGOBRSSPAWN000001', 'ASIAGOBRSSPAWN000002']"


def test_iot_sessions_in_a_forked_child(tmp_path) -> None:
    from gobrs import IOTX509RefreshableSession
    from test_iot import IoTServer, _kwargs

    iot = IoTServer(tmp_path)
    try:
        with IOTX509RefreshableSession(**_kwargs(iot)) as parent:
            parent_key = parent.credentials["access_key"]

            def child() -> Any:
                with IOTX509RefreshableSession(**_kwargs(iot)) as own:  # hosted by a helper
                    return [parent.credentials["access_key"], own.credentials["access_key"]]

            read, own = fork_run(child)
        assert read == parent_key  # the parent's, through the parent
        assert own.startswith("ASIAIOTPYTEST") and own != parent_key
        assert iot.calls == 2  # the parent's fetch and the child's own
    finally:
        iot.stop()


def test_a_parent_without_a_channel_gives_a_clear_fork_error(tmp_path) -> None:
    # the channel directory cannot be used: the parent logs why, and its
    # children get BRSForkError saying what to do, at once
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    body = """
    import logging
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(message)s")
    s = custom_session(getter)
    s.credentials
    pid = os.fork()
    if pid == 0:
        try:
            s.credentials
            os._exit(1)
        except gobrs.BRSForkError as exc:
            print(exc.message, flush=True)
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    print("child", os.waitstatus_to_exitcode(status))
    """
    proc = run_python(
        textwrap.dedent(CHILD_OF_FRESH_PARENT).replace("{body}", textwrap.dedent(body)),
        env={"GOBRS_CHANNEL_DIR": str(blocker / "sub")},
    )
    assert proc.returncode == 0, proc.stderr
    message, status = proc.stdout.strip().split("\n")
    assert status == "child 0"
    assert "opened no channel" in message and "spawn" in message
    assert "forked processes cannot read this process's sessions" in proc.stderr
