"""Processes beyond tests/python/test_fork.py: the forkserver start method,
sessions sent to another process, process pools of every start method, and
the gunicorn-style pre-fork pattern. Every child works, never hangs; every
case is bounded by a timeout.

The rule (docs/reliability.md): a process forked after gobrs loaded its Go
library never calls into it (the Go runtime does not survive fork): it reads
the parent's sessions through the parent's channel, and the sessions it
creates run in a helper process. A process forked before the library loaded
(it loads with the first session, not at import), or started with spawn or
forkserver, runs its own Go runtime.

Each case runs in a fresh interpreter so that whether the library is loaded
in the parent is up to the case, not to the tests that ran before.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

from helpers import python_env, run_python

pytestmark = pytest.mark.timeout(180)

#: seconds any one script may run (its children are bounded inside it)
SCRIPT_TIMEOUT = 120

PRELUDE = '''
import json, os, signal, sys, time, multiprocessing
import gobrs._host
from datetime import datetime, timedelta, timezone

import gobrs
from gobrs import BRSForkError, RefreshableSession
from helpers import good, in_seconds, reap, signed_access_key

ENDPOINT = os.environ["GOBRS_TEST_ENDPOINT"]


def getter(tag="x"):
    return good(access_key="ASIAGOBRSPROC" + tag[:7].upper().ljust(7, "0"))


def new_session(tag="x"):
    return RefreshableSession(method="custom", custom_credentials_method=getter,
                              custom_credentials_method_args={"tag": tag}, region_name="us-east-1")


def attempt(fn):
    """Run fn: ("ok", result) or (exception class name, message)."""
    try:
        return ["ok", fn()]
    except BRSForkError as exc:
        return ["BRSForkError", exc.message]
    except BaseException as exc:
        return [type(exc).__name__, str(exc)[:300]]


def use_own_session(tag):
    """Create a session, read it and make a moto call with it."""
    s = new_session(tag)
    key = s.credentials["access_key"]
    account = s.client("sts", endpoint_url=ENDPOINT).get_caller_identity()["Account"]
    s.close()
    return [key, account]


def fork_workers(n, work, deadline_s=60):
    """Fork n workers running work(i) -> JSON-able; return their results in
    order, or "hung"/"crashed" for a worker that did not report."""
    pipes = []
    for i in range(n):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            signal.alarm(deadline_s)  # a hung worker dies
            try:
                out = work(i)
            except BaseException as exc:
                out = ["crashed", repr(exc)]
            os.write(w, json.dumps(out).encode())
            os._exit(0)
        os.close(w)
        pipes.append((pid, r))
    results = []
    deadline = time.monotonic() + deadline_s + 10
    for pid, r in pipes:
        status = reap(pid, deadline)
        data = os.read(r, 1 << 20)
        os.close(r)
        if status is None:
            results.append("hung")
        elif not data:
            results.append("crashed: " + str(os.waitstatus_to_exitcode(status)))
        else:
            results.append(json.loads(data))
    return results
'''


def run_script(body: str, endpoint: str, tmp_path: Path, extra_env: Optional[Dict[str, str]] = None) -> Any:
    """Run PRELUDE + body as __main__ in a new interpreter; return the JSON
    it prints last."""

    env = {"GOBRS_TEST_ENDPOINT": endpoint, "PYTHONWARNINGS": "ignore::DeprecationWarning", **(extra_env or {})}
    code = textwrap.dedent(PRELUDE) + "\n" + textwrap.dedent(body)
    proc = run_python(code, path=tmp_path / "script.py", env=env, timeout=SCRIPT_TIMEOUT, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, proc.stderr[-3000:]
    return json.loads(lines[-1])


# -- the gunicorn-style pre-fork pattern -------------------------------------------


def test_prefork_parent_with_a_session(endpoint: str, tmp_path: Path) -> None:
    # The master builds a session (and uses it) before forking its workers,
    # as an app module imported with preload_app would. Each worker reads
    # the parent's session and uses its clients (served by the master) and
    # creates sessions of its own; the master goes on working.
    out = run_script(
        """
        parent = new_session("parent")
        sts = parent.client("sts", endpoint_url=ENDPOINT)
        sts.get_caller_identity()

        def work(i):
            return {
                "parent_session": attempt(lambda: parent.credentials["access_key"]),
                "parent_client": attempt(lambda: sts.get_caller_identity()["Account"]),
                "own_session": attempt(lambda: use_own_session(f"w{i}")),
                "close_parent": attempt(parent.close),
            }

        results = fork_workers(4, work)
        after = attempt(lambda: use_own_session("after"))
        print(json.dumps({"workers": results, "parent": attempt(lambda: parent.credentials["access_key"]),
                          "after": after, "closed": parent.closed}))
        """,
        endpoint,
        tmp_path,
    )
    assert len(out["workers"]) == 4
    for i, worker in enumerate(out["workers"]):
        assert isinstance(worker, dict), worker  # not "hung" or "crashed"
        assert worker["parent_session"] == ["ok", "ASIAGOBRSPROCPARENT0"], worker
        assert worker["parent_client"] == ["ok", "123456789012"], worker
        assert worker["own_session"] == ["ok", [f"ASIAGOBRSPROCW{i}00000", "123456789012"]], worker
        # closing in the child closes only its view: the parent owns the session
        assert worker["close_parent"] == ["ok", None]
    assert out["parent"] == ["ok", "ASIAGOBRSPROCPARENT0"]
    assert out["after"][0] == "ok"
    assert out["closed"] is False


def test_prefork_workers_create_their_own_sessions(endpoint: str, tmp_path: Path) -> None:
    # The master imports gobrs and everything it needs but creates its
    # sessions lazily (gunicorn's post_fork hook, or a session made at the
    # first request): each worker's own session works.
    out = run_script(
        """
        import boto3, gobrs.custom  # imported in the master, library not loaded
        assert gobrs._lib._lib is None

        def work(i):
            return attempt(lambda: use_own_session(f"w{i}"))

        results = fork_workers(4, work)
        # the master may load the library afterwards, too
        print(json.dumps({"workers": results, "master": attempt(lambda: use_own_session("master"))}))
        """,
        endpoint,
        tmp_path,
    )
    keys = []
    for worker in out["workers"]:
        kind, (key, account) = worker
        assert kind == "ok", worker
        assert account == "123456789012"
        keys.append(key)
    assert keys == [f"ASIAGOBRSPROCW{i}00000" for i in range(4)]
    assert out["master"][0] == "ok"


def test_prefork_worker_forking_again(endpoint: str, tmp_path: Path) -> None:
    # A worker that loaded the library itself and then forks (a task
    # runner inside a worker): its child reads the worker's session through
    # the worker, and the worker keeps working.
    out = run_script(
        """
        def work(i):
            own = new_session(f"w{i}")
            own.credentials
            grandchild = fork_workers(1, lambda _: attempt(lambda: own.credentials["access_key"]), 30)
            return {"grandchild": grandchild[0], "worker": attempt(lambda: own.credentials["access_key"])}

        print(json.dumps(fork_workers(2, work)))
        """,
        endpoint,
        tmp_path,
    )
    for i, worker in enumerate(out):
        assert worker["grandchild"] == ["ok", f"ASIAGOBRSPROCW{i}00000"], worker
        assert worker["worker"] == ["ok", f"ASIAGOBRSPROCW{i}00000"]


# -- multiprocessing start methods and pools ------------------------------------------


def test_forkserver_children_create_working_sessions(endpoint: str, tmp_path: Path) -> None:
    out = run_script(
        """
        def work(i):
            return attempt(lambda: use_own_session(f"fs{i}"))

        if __name__ == "__main__":
            parent = new_session("parent")
            parent.credentials  # the library is loaded and running in the parent
            ctx = multiprocessing.get_context("forkserver")
            with ctx.Pool(2) as pool:
                results = pool.map_async(work, range(3)).get(timeout=90)
            print(json.dumps({"children": results, "parent": parent.credentials["access_key"]}))
        """,
        endpoint,
        tmp_path,
    )
    assert [r[0] for r in out["children"]] == ["ok"] * 3, out
    assert [r[1][0] for r in out["children"]] == [f"ASIAGOBRSPROCFS{i}0000" for i in range(3)]
    assert out["parent"] == "ASIAGOBRSPROCPARENT0"


@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_sending_a_session_to_a_child_is_refused_in_the_parent(method: str, endpoint: str, tmp_path: Path) -> None:
    # A session cannot follow a pickle into another process: the parent
    # gets a clear BRSForkError when it tries, whatever the start method.
    out = run_script(
        f"""
        def read(session):
            return attempt(lambda: session.credentials["access_key"])

        if __name__ == "__main__":
            parent = new_session("parent")
            parent.credentials
            ctx = multiprocessing.get_context({method!r})
            with ctx.Pool(1) as pool:
                sent = attempt(lambda: pool.apply_async(read, (parent,)).get(timeout=60))
                creds = attempt(lambda: pool.apply_async(read, (parent.get_credentials(),)).get(timeout=60))
            print(json.dumps({{"sent": sent, "creds": creds}}))
        """,
        endpoint,
        tmp_path,
    )
    # every start method pickles a pool's arguments: refused in the parent
    assert out["sent"][0] == "BRSForkError", out
    assert "cannot be pickled" in out["sent"][1]
    assert out["creds"][0] == "BRSForkError", out


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_process_pool_executor(method: str, endpoint: str, tmp_path: Path) -> None:
    # concurrent.futures over every start method, from a parent whose
    # library is loaded: every child's own session works (a fork child's
    # runs in a helper process).
    out = run_script(
        f"""
        from concurrent.futures import ProcessPoolExecutor

        def work(i):
            return use_own_session(f"pp{{i}}")[0]

        if __name__ == "__main__":
            parent = new_session("parent")
            parent.credentials
            ctx = multiprocessing.get_context({method!r})
            with ProcessPoolExecutor(2, mp_context=ctx) as pool:
                futures = [pool.submit(work, i) for i in range(2)]
                results = [attempt(lambda f=f: f.result(timeout=90)) for f in futures]
            print(json.dumps(results))
        """,
        endpoint,
        tmp_path,
    )
    assert out == [["ok", f"ASIAGOBRSPROCPP{i}0000"] for i in range(2)]


def test_fork_pool_child_of_a_background_refreshing_parent(endpoint: str, tmp_path: Path) -> None:
    # The parent's Go threads are busy renewing credentials in the
    # background when it forks: the children still never hang, and their
    # own sessions work.
    out = run_script(
        """
        def work(i):
            return attempt(lambda: new_session(f"bg{i}").credentials["access_key"])

        if __name__ == "__main__":
            parent = RefreshableSession(method="custom", custom_credentials_method=lambda: good(
                access_key="ASIAGOBRSPROCBGPAREN", expiry_time=in_seconds(2)),
                region_name="us-east-1", background_refresh=True, advisory_timeout=1, mandatory_timeout=0.5,
                defer_refresh=False)
            ctx = multiprocessing.get_context("fork")
            results = []
            for _ in range(3):
                with ctx.Pool(2) as pool:
                    results += pool.map_async(work, range(2)).get(timeout=60)
                time.sleep(0.3)
            print(json.dumps({"children": results, "parent": parent.credentials["access_key"]}))
        """,
        endpoint,
        tmp_path,
    )
    assert out["children"] == [["ok", f"ASIAGOBRSPROCBG{i}0000"] for i in (0, 1)] * 3, out
    assert out["parent"] == "ASIAGOBRSPROCBGPAREN"


# -- sessions that survive fork (issue 13) ------------------------------------------


def _channel_env(tmp_path: Path) -> Dict[str, str]:
    return {"GOBRS_CHANNEL_DIR": str(tmp_path / "channel")}


def test_preload_server_workers_share_one_refresh_per_set(endpoint: str, tmp_path: Path) -> None:
    # gunicorn --preload: the master builds the session and a client, then
    # forks 4 workers that make API calls (against moto) across at least 3
    # refreshes of short-lived credentials. Every refresh is the master's
    # getter, once for the whole tree, however many workers need it.
    out = run_script(
        """
        CALLS = []

        def short_getter():
            CALLS.append(os.getpid())
            return good(access_key="ASIAGOBRSPRELOAD%04d" % len(CALLS), expiry_time=in_seconds(2))

        master = RefreshableSession(method="custom", custom_credentials_method=short_getter, region_name="us-east-1")
        sts = master.client("sts", endpoint_url=ENDPOINT)
        sts.get_caller_identity()

        def work(i):
            seen = []

            def record(request, **_):
                key = signed_access_key(request)
                if not seen or seen[-1] != key:
                    seen.append(key)

            sts.meta.events.register("before-send.sts", record)
            while len(seen) < 4:  # the first set and three refreshes
                assert sts.get_caller_identity()["Account"] == "123456789012"
                time.sleep(0.02)  # pacing only: the loop ends on what it saw
            return seen

        workers = fork_workers(4, work)
        print(json.dumps({"workers": workers, "calls": CALLS, "master": os.getpid()}))
        """,
        endpoint,
        tmp_path,
        _channel_env(tmp_path),
    )
    workers = out["workers"]
    assert all(isinstance(w, list) and len(w) >= 4 for w in workers), workers
    keys = set().union(*workers)
    assert set(out["calls"]) == {out["master"]}  # every getter call ran in the master
    assert len(out["calls"]) == len(keys | {"ASIAGOBRSPRELOAD0001"})  # one per set in use
    assert len(keys) < sum(len(w) for w in workers)  # the sets were shared, not per worker
    assert os.listdir(tmp_path / "channel") == []


def test_parent_killed_while_children_read(endpoint: str, tmp_path: Path) -> None:
    # The master is SIGKILLed while its children keep asking it: each
    # child's next read fails with BRSConnectionError (bounded: the channel
    # times out after 2 s of silence), and the child then creates a session
    # of its own, which works.
    path = tmp_path / "killed.py"
    path.write_text(
        textwrap.dedent(PRELUDE)
        + textwrap.dedent(
            """
            parent = new_session("parent")
            creds = parent.get_credentials()
            creds.get_frozen_credentials()
            for i in range(3):
                if os.fork() == 0:
                    first = creds.refresh().access_key
                    os.write(1, b"ready\\n")  # one write: the children share the pipe
                    failure = None
                    while failure is None:
                        try:
                            creds.refresh()
                        except BaseException as exc:
                            failure = [type(exc).__name__, getattr(exc, "message", str(exc))]
                        time.sleep(0.01)  # pacing only
                    result = {"first": first, "failure": failure, "own": attempt(lambda: use_own_session(f"k{i}"))}
                    os.write(1, json.dumps(result).encode() + b"\\n")
                    os._exit(0)
            signal.pause()
            """
        )
    )
    env = python_env({"GOBRS_TEST_ENDPOINT": endpoint, **_channel_env(tmp_path)})
    proc = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        for _ in range(3):
            assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGKILL)
        proc.wait(SCRIPT_TIMEOUT)
        results = [json.loads(proc.stdout.readline()) for _ in range(3)]  # the children keep the pipe
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for i, result in enumerate(sorted(results, key=lambda r: r["own"][1][0])):
        assert result["first"] == "ASIAGOBRSPROCPARENT0"
        assert result["failure"][0] == "BRSConnectionError", result
        assert "create a new session in this process" in result["failure"][1]
        assert result["own"] == ["ok", [f"ASIAGOBRSPROCK{i}00000", "123456789012"]], result


def test_no_stale_sockets_after_1000_fork_exit_cycles(endpoint: str, tmp_path: Path) -> None:
    # 1,000 children read the master's session and exit; every 50th also
    # creates a session of its own (a helper process with a socket of its
    # own) and half of those kill themselves. Then a master is SIGKILLed.
    # No socket is left behind: helpers remove theirs when their child is
    # gone, a master at exit, and the next master removes a killed one's.
    out = run_script(
        """
        parent = new_session("parent")
        parent.credentials
        helpers = []
        for i in range(1000):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                assert parent.credentials["access_key"] == "ASIAGOBRSPROCPARENT0"
                helper = 0
                if i % 50 == 0:
                    own = new_session("own")
                    own.credentials
                    helper = gobrs._host._host.proc.pid
                os.write(w, str(helper).encode())
                if i % 100 == 0:
                    os.kill(os.getpid(), signal.SIGKILL)
                os._exit(0)
            os.close(w)
            helper = int(os.read(r, 64) or b"0")
            os.close(r)
            os.waitpid(pid, 0)
            if helper:
                helpers.append(helper)

        deadline = time.monotonic() + 60
        while any(os.path.exists(f"/proc/{p}") for p in helpers) and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting for the helpers to see their child gone
        print(json.dumps({"helpers": len(helpers), "master": os.getpid(),
                          "left": sorted(os.listdir(os.environ["GOBRS_CHANNEL_DIR"]))}))
        """,
        endpoint,
        tmp_path,
        _channel_env(tmp_path),
    )
    assert out["helpers"] == 20
    assert len(out["left"]) == 1 and out["left"][0].startswith(f"{out['master']}-")  # the master's own
    assert os.listdir(tmp_path / "channel") == []  # removed when the master exited

    # a master killed with SIGKILL leaves its socket; the next one removes it
    killed = subprocess.Popen(
        [sys.executable, "-c", KILLED_MASTER],
        stdout=subprocess.PIPE,
        text=True,
        env=python_env(_channel_env(tmp_path)),
    )
    assert killed.stdout is not None and killed.stdout.readline().strip() == "forked"
    killed.kill()
    killed.wait(SCRIPT_TIMEOUT)
    assert len(os.listdir(tmp_path / "channel")) == 1  # stale
    again = run_python(
        KILLED_MASTER.replace("signal.pause()", "pass"), env=_channel_env(tmp_path), timeout=SCRIPT_TIMEOUT
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert os.listdir(tmp_path / "channel") == []


KILLED_MASTER = """
import os, signal
from gobrs import RefreshableSession
from helpers import good
s = RefreshableSession(method="custom", region_name="us-east-1",
                       custom_credentials_method=lambda: good(access_key="ASIAGOBRSKILLEDMASTR"))
s.credentials
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print("forked", flush=True)
signal.pause()
"""
