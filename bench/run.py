"""``make bench``: gobrs against pure-Python boto3-refresh-session.

Starts a moto server on loopback, runs every scenario in ``scenarios/`` for
both libraries in fresh subprocesses, interleaved (anchor, gobrs, anchor,
gobrs, ...), prints one table (median and spread of every figure, the ratio
gobrs / anchor, the targets and whether they are met) and writes
``results/latest.json``, ``results/latest.png`` and the table in
``README.md``.

Usage::

    python bench/run.py                 # the full run (about 10 minutes)
    python bench/run.py --quick         # fewer repetitions, 20 s workload;
                                        # writes results/quick.* only
    python bench/run.py --only read,refresh --libs anchor
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import report

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIOS = HERE / "scenarios"
RESULTS = HERE / "results"

#: How many times a run that reports ``{"retry": ...}`` is run again.
RETRIES = 2


@dataclass(frozen=True)
class Variant:
    """One side of a comparison: a library and its extra flags."""

    name: str
    lib: str
    flags: Tuple[str, ...] = ()


ANCHOR = Variant("anchor", "anchor")
GOBRS = Variant("gobrs", "gobrs")
GOBRS_BG = Variant("gobrs-bg", "gobrs", ("--background",))
C_SIDE = Variant("c", "c")


@dataclass(frozen=True)
class Scenario:
    """One scenario script with its arguments, run ``reps`` times per
    variant (``quick_reps`` with ``--quick``)."""

    id: str
    script: str
    args: Tuple[str, ...]
    variants: Tuple[Variant, ...]
    reps: int
    quick_reps: int = 1
    quick_args: Tuple[str, ...] = ()
    needs_moto: bool = False


AB = (ANCHOR, GOBRS)
SCENARIO_LIST: Tuple[Scenario, ...] = (
    Scenario("import", "import_time.py", (), AB, 9, 2),
    Scenario("construct-custom", "construct.py", ("--method", "custom"), AB, 5, 2),
    Scenario("construct-sts", "construct.py", ("--method", "sts"), AB, 5, 2, needs_moto=True),
    Scenario("read", "read.py", (), AB, 7, 2),
    Scenario("refresh", "refresh.py", (), AB, 5, 2, needs_moto=True),
    Scenario("concurrent-mandatory", "contention.py", ("--window", "mandatory"), (ANCHOR, GOBRS, GOBRS_BG), 4, 1),
    Scenario("concurrent-advisory", "contention.py", ("--window", "advisory"), (ANCHOR, GOBRS, GOBRS_BG), 4, 1),
    Scenario("memory-custom", "memory.py", ("--method", "custom"), AB, 3, 1),
    Scenario("memory-sts", "memory.py", ("--method", "sts"), AB, 3, 1, needs_moto=True),
    Scenario("cache", "cache.py", (), AB, 5, 1, needs_moto=True),
    Scenario(
        "workload",
        "workload.py",
        ("--seconds", "60"),
        (ANCHOR, GOBRS, GOBRS_BG),
        1,
        1,
        ("--seconds", "20"),
        needs_moto=True,
    ),
    Scenario("fork", "fork.py", (), AB, 3, 1),
    Scenario("serve", "serve.py", (), AB, 3, 1, needs_moto=True),
    Scenario("c", "brs_bench", (), (C_SIDE,), 3, 1),
)


def bench_env(workdir: Path, moto_url: str) -> Dict[str, str]:
    """The environment of every scenario process: fake AWS keys, empty AWS
    config files, no instance metadata, the moto URL; nothing of the
    user's AWS setup."""
    empty = workdir / "empty"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    env.update(
        AWS_ACCESS_KEY_ID="bench-source-access-key",
        AWS_SECRET_ACCESS_KEY="bench-source-secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
        BENCH_MOTO_URL=moto_url,
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_one(cmd: Sequence[str], env: Dict[str, str], timeout: float) -> Dict[str, Any]:
    """Run one scenario process; its last stdout line is its JSON result.
    A failure is returned as ``{"error": ...}``, never raised."""
    try:
        proc = subprocess.run(list(cmd), env=env, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"exit {proc.returncode}: {tail[:300]}"}
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": f"bad output: {lines[-1][:300]}"}


def command(scn: Scenario, variant: Variant, quick: bool, c_bench: Path) -> List[str]:
    """The command line of one scenario process."""
    if variant is C_SIDE:
        return [str(c_bench)]
    args = list(scn.args)
    if quick and scn.quick_args:
        args = list(scn.quick_args)
    return [sys.executable, str(SCENARIOS / scn.script), "--lib", variant.lib, *variant.flags, *args]


def installed(module: str) -> bool:
    """Whether ``module`` imports in this interpreter (checked in a
    subprocess, so that nothing is imported here)."""
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([sys.executable, "-c", code]).returncode == 0


def metadata(libs: Sequence[str], c_bench: Path) -> Dict[str, Any]:
    """Versions and machine facts recorded with the results."""
    code = (
        "import importlib.metadata as m, json\n"
        "out = {}\n"
        "for d in ('boto3-refresh-session', 'gobrs', 'boto3', 'botocore', 'moto'):\n"
        "    try: out[d] = m.version(d)\n"
        "    except m.PackageNotFoundError: out[d] = None\n"
        "print(json.dumps(out))\n"
    )
    versions = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def out(cmd: List[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT)).stdout.strip()
        except OSError:
            return ""

    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": out(["git", "rev-parse", "--short", "HEAD"]),
        "python": platform.python_version(),
        "go": out(["go", "version"]),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "versions": versions,
        "libs": list(libs),
        "c_bench": str(c_bench) if c_bench.exists() else None,
    }


def moto_context() -> Any:
    """``gobrs.testing.moto_server()``: from the installed gobrs, else from
    this checkout's source (it needs only the standard library and moto)."""
    try:
        from gobrs.testing import moto_server
    except ImportError:
        sys.path.append(str(ROOT / "python"))
        from gobrs.testing import moto_server
    return moto_server()


def main() -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions; writes results/quick.*")
    parser.add_argument("--only", default="", help="comma-separated scenario ids")
    parser.add_argument("--libs", default="anchor,gobrs", help="anchor, gobrs or both")
    parser.add_argument(
        "--c-bench", default=str(ROOT / "build" / "bench" / "brs_bench"), help="the compiled C benchmark"
    )
    parser.add_argument("--out", default="", help="results name (default latest, or quick with --quick)")
    parser.add_argument("--no-readme", action="store_true", help="do not update the table in bench/README.md")
    opts = parser.parse_args()

    libs = [x for x in opts.libs.split(",") if x]
    notes: List[str] = []
    if "gobrs" in libs and not installed("gobrs"):
        libs.remove("gobrs")
        notes.append("gobrs is not installed in this interpreter: its column is empty.")
    if "anchor" in libs and not installed("boto3_refresh_session"):
        libs.remove("anchor")
        notes.append("boto3-refresh-session is not installed in this interpreter: its column is empty.")
    c_bench = Path(opts.c_bench)
    if not c_bench.exists():
        notes.append(
            f"{c_bench.relative_to(ROOT) if c_bench.is_relative_to(ROOT) else c_bench} is not built "
            "(`make lib` and the C ABI): the C figures are empty."
        )
    only = {x for x in opts.only.split(",") if x}
    unknown = only - {s.id for s in SCENARIO_LIST}
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    name = opts.out or ("quick" if opts.quick else "latest")

    raw: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
    retried: List[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gobrs-bench-") as tmp, moto_context() as moto_url:
        env = bench_env(Path(tmp), moto_url)
        print(f"moto server at {moto_url}; libraries: {', '.join(libs) or 'none'}", file=sys.stderr)
        for scn in SCENARIO_LIST:
            if only and scn.id not in only:
                continue
            variants = [v for v in scn.variants if v.lib in libs or (v is C_SIDE and c_bench.exists())]
            if not variants:
                continue
            reps = scn.quick_reps if opts.quick else scn.reps
            per: Dict[str, List[Dict[str, Any]]] = {v.name: [] for v in variants}
            for rep in range(reps):
                order = variants if rep % 2 == 0 else variants[::-1]
                for v in order:
                    t0 = time.monotonic()
                    for _attempt in range(RETRIES + 1):
                        result = run_one(command(scn, v, opts.quick, c_bench), env, timeout=300)
                        if "retry" not in result:
                            break
                        retried.append(f"{scn.id} / {v.name}: {result['retry']}")
                        print(f"  {scn.id:<22} {v.name:<9} run again: {result['retry']}", file=sys.stderr)
                    else:
                        result = {"error": f"no valid run in {RETRIES + 1} attempts: {result['retry']}"}
                    per[v.name].append(result)
                    status = result.get("error", "ok")
                    print(
                        f"  {scn.id:<22} {v.name:<9} {rep + 1}/{reps}  {time.monotonic() - t0:5.1f} s  {status}",
                        file=sys.stderr,
                    )
            raw[scn.id] = per
    elapsed = time.monotonic() - started

    for scn_id, per in raw.items():
        for variant, runs in per.items():
            failed = sorted({r["error"] for r in runs if "error" in r})
            if failed:
                notes.append(f"{scn_id} / {variant}: {len(failed)} kind(s) of failure, e.g. {failed[0]}")
    if retried:
        notes.append(
            f"{len(retried)} run(s) discarded and run again (the scheduler woke the scenario too late "
            f"to measure inside the window): {'; '.join(retried)}"
        )
    meta = metadata(libs, c_bench)
    meta.update(quick=opts.quick, seconds=round(elapsed, 1), notes=notes)
    rows = report.aggregate(raw)
    table = report.markdown(rows)
    print(table)
    for note in notes:
        print(f"note: {note}")
    print(f"finished in {elapsed / 60:.1f} min")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows, "raw": raw}, indent=1) + "\n")
    if report.chart(rows, RESULTS / f"{name}.png", meta):
        print(f"wrote bench/results/{name}.json and bench/results/{name}.png")
    else:
        print(f"wrote bench/results/{name}.json (no chart: matplotlib is not installed)")
    if name == "latest" and not opts.no_readme and not only:
        report.update_readme(HERE / "README.md", table, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
