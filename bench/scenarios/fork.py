"""N forked workers (N = 8) reading one session made in the parent, across
refreshes.

The parent builds a custom session of short-lived credentials and reads it
once, then forks N workers (as gunicorn ``--preload`` or a ``fork`` Pool
would). Each worker reads the session in a paced loop until it has seen
``--refreshes`` new sets. With boto3-refresh-session every worker refreshes
its own copy (the getter runs in each worker); with gobrs the workers read
the parent's session through the parent, whose engine refreshes once for
the whole tree (the getter runs in the parent).

Figures: ``getter_calls_per_refresh`` — getter calls after the parent's
first fetch, over the refreshes each worker saw; ``child_read_us`` — the
median over workers of the mean cost of one read in a worker while its copy
is fresh.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import warnings

import common


def main() -> None:
    """Run the scenario."""
    args = common.parse_args(
        lambda p: (p.add_argument("--workers", type=int, default=8), p.add_argument("--refreshes", type=int, default=3))
    )
    mod = common.load(args.lib)
    calls_file = tempfile.NamedTemporaryFile(prefix="bench-fork-", delete=False)
    calls_fd = os.open(calls_file.name, os.O_WRONLY | os.O_APPEND)
    getter = common.Getter(lifetime=3.0)

    def counted() -> dict:
        os.write(calls_fd, b".")  # one byte per call, from whichever process runs it
        out = getter()
        out["access_key"] = f"{out['access_key']}-{os.getpid()}"
        return out

    session = common.custom_session(
        mod, counted, **common.session_kwargs(args, defer_refresh=False, advisory_timeout=1, mandatory_timeout=0.5)
    )
    common.read(session)
    pipes = []
    for _ in range(args.workers):
        r, w = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            os.close(r)
            out = {}
            try:
                first = common.read(session).access_key
                out["read_us"] = statistics.median(common.batches(lambda: common.read(session), 2000, 5)) * 1e6
                seen = [first]
                while len(seen) <= args.refreshes:
                    key = common.read(session).access_key
                    if key != seen[-1]:
                        seen.append(key)
                    time.sleep(0.005)  # pacing: the loop ends on what it saw
            except BaseException as exc:
                out["error"] = repr(exc)
            os.write(w, json.dumps(out).encode())
            os._exit(0)
        os.close(w)
        pipes.append((pid, r))
    results = []
    for pid, r in pipes:
        os.waitpid(pid, 0)
        with os.fdopen(r, "rb") as f:
            results.append(json.loads(f.read() or b'{"error": "no output"}'))
    errors = [x["error"] for x in results if "error" in x]
    if errors:
        raise SystemExit(f"workers failed: {errors[:2]}")
    total = os.path.getsize(calls_file.name)
    os.unlink(calls_file.name)
    common.emit(
        {
            "getter_calls_per_refresh": (total - 1) / args.refreshes,
            "child_read_us": statistics.median(x["read_us"] for x in results),
        }
    )


if __name__ == "__main__":
    main()
