"""8 processes that need the same role's credentials, across refreshes; and
the ``gobrs serve`` server under load.

An STS proxy in front of the moto server (tests/python/serving.py) counts
AssumeRole calls and makes the credentials live 3 s (advisory window
0.75 s, mandatory 0.3 s), since STS refuses DurationSeconds below 900.

- anchor: 8 processes, each with its own boto3-refresh-session STS session
  (``defer_refresh=False``), read until each has seen 3 refreshes; every
  process assumes the role itself.
- gobrs: one ``gobrs serve`` process assumes the role; 8 plain boto3
  processes (tests/serve/pyclient.py, the container-credentials provider of
  boto3's default chain) read it until 3 refreshes have happened. The fourth
  credentials live an hour, so no refresh follows the third.

Figures: ``sts_calls_per_refresh`` — AssumeRole calls over the credential
sets each process went through (the first fetch and 3 refreshes); and for
gobrs, ``rps``, ``p50_us``, ``p99_us``, ``load_errors`` — the server
answering the Go load client bench/serveload (8 kept-alive connections, 3 s,
fresh credentials, the server's rate limit lifted) on loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import common

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))

from serving import ServeProcess, StsProxy, client_env, sts_config  # noqa: E402

PROCESSES = 8
REFRESHES = 3
LIFETIME, ADVISORY, MANDATORY = 3.0, 0.75, 0.3
LOADER = ROOT / "build" / "bench" / "serveload"


def worker(moto_url: str) -> None:
    """One anchor process: its own STS session, read until it has seen
    REFRESHES new credential sets."""
    mod = common.load("anchor")
    session = common.sts_session(
        mod, moto_url, defer_refresh=False, advisory_timeout=ADVISORY, mandatory_timeout=MANDATORY
    )
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    keys = [common.read(session).access_key]
    while len(keys) <= REFRESHES:
        key = common.read(session).access_key
        if key != keys[-1]:
            keys.append(key)
        time.sleep(0.02)  # pacing: the loop ends on what it read
    print(json.dumps({"done": True, "keys": keys}), flush=True)


def start_all(cmds: List[List[str]], env: Dict[str, str]) -> List["subprocess.Popen[str]"]:
    """Start the processes, wait until each says it is ready, then let them
    all go at once."""
    procs = [
        subprocess.Popen(c, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
        for c in cmds
    ]
    for p in procs:
        assert p.stdout is not None
        if not json.loads(p.stdout.readline() or "{}").get("ready"):
            raise SystemExit("a client process did not start")
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    return procs


def finish(procs: List["subprocess.Popen[str]"]) -> List[Dict[str, Any]]:
    """Wait for the processes; their last stdout lines, as JSON."""
    out = []
    for p in procs:
        stdout, _ = p.communicate(timeout=120)
        lines = stdout.strip().splitlines()
        out.append(json.loads(lines[-1]) if lines else {})
    if not all(r.get("done") for r in out):
        raise SystemExit(f"a client process failed: {out}")
    return out


def anchor(moto_url: str) -> Dict[str, Any]:
    with StsProxy(moto_url, lifetime=LIFETIME) as proxy:
        cmd = [sys.executable, __file__, "--lib", "anchor", "--worker", "--moto", proxy.url]
        finish(start_all([cmd] * PROCESSES, dict(os.environ)))
        return {"sts_calls_per_refresh": proxy.calls / (REFRESHES + 1)}


def gobrs(moto_url: str) -> Dict[str, Any]:
    if not LOADER.exists():
        subprocess.run(["go", "build", "-o", str(LOADER), "./bench/serveload"], cwd=str(ROOT), check=True)
    lifetimes = [LIFETIME] * (REFRESHES + 1)
    with (
        tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp,
        StsProxy(moto_url, lifetimes=lifetimes[:-1], lifetime=3600) as proxy,
    ):
        # the server's rate limit (default 1,000 requests a second) lifted:
        # the figure is its capacity, not the limit
        args = ["--lazy", "--max-requests-per-second", "10000000"]
        with ServeProcess(sts_config(proxy.url, ADVISORY, MANDATORY), Path(tmp), args) as server:
            env = client_env(server, Path(tmp))
            client = [sys.executable, str(ROOT / "tests" / "serve" / "pyclient.py"), "watch"]
            procs = start_all([client] * PROCESSES, env)
            if not proxy.wait_calls(REFRESHES + 1, timeout=120):
                raise SystemExit(f"only {proxy.calls} AssumeRole calls")
            for p in procs:
                assert p.stdin is not None
                p.stdin.write(f"until {proxy.issued[REFRESHES]}\n")
                p.stdin.flush()
            finish(procs)
            calls = proxy.calls
            load = subprocess.run(
                [str(LOADER), "-conns", "8", "-seconds", "3"], env=env, capture_output=True, text=True, timeout=60
            )
            if load.returncode != 0:
                raise SystemExit(f"serveload failed: {load.stderr.strip()[-300:]}")
            res = json.loads(load.stdout.strip().splitlines()[-1])
    return {
        "sts_calls_per_refresh": calls / (REFRESHES + 1),
        "rps": res["rps"],
        "p50_us": res["p50_us"],
        "p99_us": res["p99_us"],
        "load_errors": res["errors"],
    }


def main() -> None:
    """Run the scenario."""
    args = common.parse_args(lambda p: p.add_argument("--worker", action="store_true"))
    if not args.moto:
        raise SystemExit("this scenario needs --moto URL")
    if args.worker:
        worker(args.moto)
        return
    common.emit(anchor(args.moto) if args.lib == "anchor" else gobrs(args.moto))


if __name__ == "__main__":
    main()
