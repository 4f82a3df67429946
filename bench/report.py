"""The benchmark's table, chart and README section, from the raw results.

A row of the table is one figure of one scenario: the anchor's value, the
gobrs value (plain gobrs, or gobrs with ``background_refresh=True``, or the
C benchmark), their ratio gobrs / anchor, and the target the issue sets for
it, if any, with whether it is met. Nothing is adjusted: the table reports
what was measured.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

Check = Callable[[Optional[float], Optional[float], Optional[float]], bool]


@dataclass(frozen=True)
class Target:
    """A goal from the issue: ``check(anchor, gobrs, ratio)`` on the
    aggregated values."""

    text: str
    check: Check


@dataclass(frozen=True)
class Row:
    """One figure of the table.

    ``agg`` says how the values of all runs (and of the lists a run
    reports) are combined: "median" (shown with its min–max spread), "sum"
    (errors) or "max" (the worst case). ``chart`` False leaves counts and
    controls out of the chart.
    """

    section: str
    label: str
    unit: str
    scenario: str
    field: str
    gobrs: str = "gobrs"
    anchor: Optional[str] = "anchor"
    agg: str = "median"
    target: Optional[Target] = None
    chart: bool = True


def _at_most(limit: float) -> Check:
    return lambda a, g, r: g is not None and g <= limit


def _ratio_at_most(limit: float) -> Check:
    return lambda a, g, r: r is not None and r <= limit


ZERO = Target("0", _at_most(0))
# fmt: off
# (one row a line: the table reads as the report it makes)
ROWS: List[Row] = [
    Row("import", "import the package (fresh process)", "ms", "import", "import_ms"),
    Row("construct", "custom session, first in process", "ms", "construct-custom", "first_ms"),
    Row("construct", "custom session, import + first session", "ms", "construct-custom", "import_first_ms"),
    Row("construct", "custom session, steady state", "ms", "construct-custom", "steady_ms"),
    Row("construct", "sts session, first in process", "ms", "construct-sts", "first_ms"),
    Row("construct", "sts session, import + first session", "ms", "construct-sts", "import_first_ms",
        target=Target("≥ 7x faster", _ratio_at_most(1 / 7))),
    Row("construct", "sts session, steady state", "ms", "construct-sts", "steady_ms",
        target=Target("≥ 7x faster", _ratio_at_most(1 / 7))),
    Row("read", "per-request read, fresh credentials", "µs", "read", "read_us",
        target=Target("≤ 0.5 µs", _at_most(0.5))),
    Row("refresh", "one refresh (AssumeRole to moto), wall", "ms", "refresh", "wall_ms"),
    Row("refresh", "one refresh, CPU of the calling thread", "ms", "refresh", "cpu_ms",
        target=Target("≥ 10x lower", _ratio_at_most(0.1))),
]
for window in ("mandatory", "advisory"):
    scn = f"concurrent-{window}"
    ROWS += [
        Row(window, "getter calls", "", scn, "getter_calls", chart=False),
        Row(window, "blocking p50", "ms", scn, "block_p50_ms"),
        Row(window, "blocking p99", "ms", scn, "block_p99_ms"),
        Row(window, "blocking max", "ms", scn, "block_max_ms", agg="max"),
        Row(window, "reads that raised", "", scn, "errors", agg="sum", chart=False),
        Row(window, "getter calls, gobrs background refresh", "", scn, "getter_calls", gobrs="gobrs-bg", chart=False),
        Row(window, "blocking p99, gobrs background refresh", "ms", scn, "block_p99_ms", gobrs="gobrs-bg"),
        Row(window, "blocking max, gobrs background refresh", "ms", scn, "block_max_ms", gobrs="gobrs-bg", agg="max",
            target=Target("≤ 1 ms", _at_most(1.0))),
        Row(window, "threads blocked > 1 ms, gobrs background refresh", "", scn, "blocked_over_1ms", gobrs="gobrs-bg",
            agg="sum", chart=False),
        Row(window, "control: same burst, no library call, max", "ms", scn, "control_max_ms", gobrs="gobrs-bg",
            agg="max", chart=False),
    ]
ROWS += [
    Row("memory", "RSS per custom session (100 sessions)", "KiB", "memory-custom", "kib_per_session"),
    Row("memory", "RSS per sts session (100 sessions)", "KiB", "memory-sts", "kib_per_session",
        target=Target("≤ 1/20", _ratio_at_most(1 / 20))),
    Row("cache", "client cache hit", "µs", "cache", "hit_us", target=Target("≤ 1 µs", _at_most(1.0))),
    Row("cache", "client cache hit, `client(\"s3\")`", "µs", "cache", "hit_plain_us"),
    Row("cache", "first client call from 8 threads, errors", "", "cache", "errors", agg="sum", target=ZERO,
        chart=False),
    Row("cache", "first client call from 8 threads, distinct clients", "", "cache", "distinct_max", agg="max",
        chart=False),
    Row("cache", "first client call from 8 threads, wall", "ms", "cache", "first_call_ms"),
    Row("workload", "S3 calls per second (4 threads, per 5 s slice)", "1/s", "workload", "calls_per_s"),
    Row("workload", "worst call around a refresh (per refresh)", "ms", "workload", "refresh_worst_ms"),
    Row("workload", "refresh (the getter's AssumeRole), wall", "ms", "workload", "refresh_ms"),
    Row("workload", "call latency p50", "ms", "workload", "call_p50_ms"),
    Row("workload", "call latency p99", "ms", "workload", "call_p99_ms"),
    Row("workload", "call latency max", "ms", "workload", "call_max_ms"),
    Row("workload", "refreshes", "", "workload", "refreshes", chart=False),
    Row("workload", "calls that raised", "", "workload", "errors", agg="sum", chart=False),
    Row("workload", "worst call around a refresh, gobrs background refresh", "ms", "workload", "refresh_worst_ms",
        gobrs="gobrs-bg"),
    Row("workload", "call latency max, gobrs background refresh", "ms", "workload", "call_max_ms", gobrs="gobrs-bg"),
    Row("workload", "S3 calls per second, gobrs background refresh", "1/s", "workload", "calls_per_s",
        gobrs="gobrs-bg"),
    Row("fork", "8 forked workers across refreshes: getter calls per refresh", "", "fork", "getter_calls_per_refresh",
        target=Target("1", _at_most(1.0)), chart=False),
    Row("fork", "per-request read in a forked worker, fresh credentials", "µs", "fork", "child_read_us",
        target=Target("≤ 1 µs", _at_most(1.0))),
    Row("serve", "8 processes, 3 refreshes: STS AssumeRole calls per credential set", "", "serve",
        "sts_calls_per_refresh", target=Target("1", _at_most(1.0)), chart=False),
    Row("serve", "gobrs serve: requests per second (Go client, 8 connections, loopback)", "1/s", "serve", "rps",
        anchor=None),
    Row("serve", "gobrs serve: request latency p50", "µs", "serve", "p50_us", anchor=None),
    Row("serve", "gobrs serve: request latency p99", "µs", "serve", "p99_us", anchor=None),
    Row("serve", "gobrs serve: requests that failed", "", "serve", "load_errors", anchor=None, agg="sum", target=ZERO,
        chart=False),
    Row("C ABI", "brs_credentials + clear, 1 thread", "ns", "c", "ns_1", gobrs="c", anchor=None,
        target=Target("≤ 100 ns", _at_most(100))),
    Row("C ABI", "brs_credentials + clear, 1 thread, CPU time", "ns", "c", "cpu_ns_1", gobrs="c", anchor=None),
    Row("C ABI", "brs_credentials + clear, 8 threads (per call per thread)", "ns", "c", "ns_8", gobrs="c", anchor=None),
    Row("C ABI", "brs_credentials + clear, 8 threads (aggregate, per call)", "ns", "c", "ns_8_aggregate", gobrs="c",
        anchor=None),
    Row("C ABI", "brs_credentials, 8 threads per call / (1 thread x threads per core)", "x", "c", "scaling_8",
        gobrs="c", anchor=None, target=Target("≤ 2", _at_most(2)), chart=False),
    Row("C ABI", "brs_credentials, 8 threads CPU time per call / 1 thread's", "x", "c", "cpu_scaling_8", gobrs="c",
        anchor=None, chart=False),
    Row("C ABI", "brs_credentials_into (no allocation), 1 thread", "ns", "c", "into_ns_1", gobrs="c", anchor=None,
        target=Target("≤ 50 ns", _at_most(50))),
    Row("C ABI", "brs_credentials_into, 1 thread, CPU time", "ns", "c", "into_cpu_ns_1", gobrs="c", anchor=None),
    Row("C ABI", "brs_credentials_into, 8 threads (per call per thread)", "ns", "c", "into_ns_8", gobrs="c",
        anchor=None),
    Row("C ABI", "brs_credentials_into, 8 threads per call / (1 thread x threads per core)", "x", "c",
        "into_scaling_8", gobrs="c", anchor=None, target=Target("≤ 2", _at_most(2)), chart=False),
    Row("C ABI", "brs_credentials_into, 8 threads CPU time per call / 1 thread's", "x", "c", "into_cpu_scaling_8",
        gobrs="c", anchor=None, chart=False),
    Row("C ABI", "cores the C rows ran on", "", "c", "cores", gobrs="c", anchor=None, agg="max", chart=False),
]
# fmt: on


def _values(runs: List[Dict[str, Any]], field: str) -> List[float]:
    out: List[float] = []
    for run in runs:
        v = run.get(field)
        if isinstance(v, list):
            out.extend(float(x) for x in v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))
    return out


def _combine(values: List[float], agg: str) -> Optional[float]:
    if not values:
        return None
    if agg == "sum":
        return sum(values)
    if agg == "max":
        return max(values)
    return statistics.median(values)


def _errors(runs: List[Dict[str, Any]]) -> List[str]:
    return sorted({r["error"] for r in runs if "error" in r})


def aggregate(raw: Dict[str, Dict[str, List[Dict[str, Any]]]]) -> List[Dict[str, Any]]:
    """Combine the raw results into the table's rows.

    Parameters
    ----------
    raw : dict
        ``raw[scenario][variant]`` is the list of results of the runs, one
        dict per process (or ``{"error": ...}``).

    Returns
    -------
    list of dict
        One dict per row: section, label, unit, agg, anchor and gobrs
        (each ``None`` or value, min, max, n, failures), ratio, target, met.
    """
    rows = []
    for row in ROWS:
        scn = raw.get(row.scenario, {})
        side: Dict[str, Any] = {}
        for key, variant in (("anchor", row.anchor), ("gobrs", row.gobrs)):
            runs = scn.get(variant, []) if variant else []
            vals = _values(runs, row.field)
            value = _combine(vals, row.agg)
            side[key] = (
                None
                if value is None and not runs
                else {
                    "value": value,
                    "min": min(vals) if vals else None,
                    "max": max(vals) if vals else None,
                    "n": len(vals),
                    "runs": len(runs),
                    "failures": _errors(runs),
                }
            )
        a = side["anchor"]["value"] if side["anchor"] else None
        g = side["gobrs"]["value"] if side["gobrs"] else None
        ratio = g / a if a not in (None, 0) and g is not None else None
        met = None
        if row.target is not None and g is not None:
            met = bool(row.target.check(a, g, ratio))
        rows.append(
            {
                "section": row.section,
                "label": row.label,
                "unit": row.unit,
                "agg": row.agg,
                "gobrs_variant": row.gobrs,
                "anchor": side["anchor"],
                "gobrs": side["gobrs"],
                "ratio": ratio,
                "target": row.target.text if row.target else None,
                "met": met,
                "chart": row.chart,
            }
        )
    return rows


def _num(x: Optional[float]) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x == 0:
        return "0"
    if float(x).is_integer() and abs(x) < 1e6:
        return f"{int(x)}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _cell(side: Optional[Dict[str, Any]], agg: str) -> str:
    if side is None:
        return "—"
    if side["value"] is None:
        return "failed" if side["failures"] else "—"
    text = _num(side["value"])
    if agg == "median" and side["n"] > 1 and side["min"] != side["max"]:
        text += f" ({_num(side['min'])}–{_num(side['max'])})"
    elif agg in ("sum", "max") and side["n"] > 1:
        text += f" ({agg} of {side['n']})"
    if side["failures"]:
        text += f" [{len(side['failures'])} failed]"
    return text


def markdown(rows: List[Dict[str, Any]]) -> str:
    """The table, in Markdown: median (min–max) of every figure."""
    out = [
        "| section | figure | unit | anchor | gobrs | gobrs / anchor | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        if r["target"] and r["met"] is None:
            met = "not measured"
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.3g}"
        out.append(
            f"| {r['section']} | {r['label']} | {r['unit']} | {_cell(r['anchor'], r['agg'])} | "
            f"{_cell(r['gobrs'], r['agg'])} | {ratio} | {r['target'] or ''} | {met} |"
        )
    return "\n".join(out)


def chart(rows: List[Dict[str, Any]], path: Path, meta: Dict[str, Any]) -> bool:
    """Draw the ratio gobrs / anchor of every figure that has both (log
    scale; green: target met, red: missed, grey: no target). Returns False
    when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    shown = [r for r in rows if r["chart"] and r["ratio"] is not None and r["ratio"] > 0]
    fig, ax = plt.subplots(figsize=(10, 0.32 * max(len(shown), 4) + 1.6))
    if shown:
        labels = [f"{r['section']}: {r['label']}" for r in shown]
        ratios = [r["ratio"] for r in shown]
        colors = ["#2e7d32" if r["met"] else "#c62828" if r["met"] is False else "#9e9e9e" for r in shown]
        y = list(range(len(shown)))[::-1]
        ax.barh(y, [r - 1.0 for r in ratios], left=1.0, color=colors)
        ax.set_xscale("log")
        lo, hi = min(ratios + [1.0]), max(ratios + [1.0])
        ax.set_xlim(lo / 3, hi * 3)
        ax.set_yticks(y, labels, fontsize=7)
        ax.axvline(1.0, color="black", linewidth=0.8)
        for yi, r in zip(y, ratios, strict=True):
            ax.text(
                r,
                yi,
                f" {r:.3g} " if r >= 1 else f"{r:.3g} ",
                va="center",
                ha="left" if r >= 1 else "right",
                fontsize=7,
            )
        ax.set_xlabel("gobrs / anchor (log scale; < 1 means gobrs is lower: faster, smaller)")
    else:
        ax.text(0.5, 0.5, "no figure measured on both libraries", ha="center", va="center")
        ax.set_axis_off()
    versions = meta.get("versions", {})
    ax.set_title(
        f"gobrs {versions.get('gobrs') or '(not installed)'} vs boto3-refresh-session "
        f"{versions.get('boto3-refresh-session')} — {meta.get('date')}\n"
        "green: target met, red: target missed, grey: no target",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return True


START = "<!-- bench-table:start -->"
END = "<!-- bench-table:end -->"


def update_readme(readme: Path, table: str, meta: Dict[str, Any]) -> None:
    """Replace the table between the markers in ``readme``."""
    versions = meta.get("versions", {})
    lines = [
        START,
        f"Last full run: {meta.get('date')}, commit {meta.get('commit') or '?'}, "
        f"{meta.get('cpus')} CPUs ({meta.get('cpu') or 'unknown CPU'}), Python {meta.get('python')}, "
        f"boto3-refresh-session {versions.get('boto3-refresh-session')}, "
        f"gobrs {versions.get('gobrs') or '(not installed)'}, "
        f"botocore {versions.get('botocore')}, moto {versions.get('moto')}; {meta.get('seconds', 0) / 60:.1f} min.",
        "",
        table,
    ]
    for note in meta.get("notes", []):
        lines += ["", f"Note: {note}"]
    lines.append(END)
    text = readme.read_text()
    block = "\n".join(lines)
    if START in text and END in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text)
