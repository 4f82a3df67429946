"""Shared helpers of the benchmark scenarios.

Every scenario script runs in a fresh interpreter started by ``bench/run.py``
with ``--lib anchor`` (pure-Python boto3-refresh-session) or ``--lib gobrs``.
Both libraries keep the same Python interface, so the scenarios drive them
with the same code; the few places where they differ (gobrs's extra
``background_refresh`` keyword, forcing one refresh) are gathered here.

This module must not import boto3 or either library at import time: the
import-time scenario measures that import.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import json
import os
import statistics
import sys
import time
from types import ModuleType
from typing import Any, Callable, Dict, List, Sequence

#: Import name of each library.
MODULES: Dict[str, str] = {
    "anchor": "boto3_refresh_session",
    "gobrs": "gobrs",
}

#: The role every STS scenario assumes (moto accepts any role ARN).
ROLE_ARN = "arn:aws:iam::123456789012:role/bench"

#: The region every client uses.
REGION = "us-east-1"


def parse_args(extra: Callable[[argparse.ArgumentParser], object] | None = None) -> argparse.Namespace:
    """Parse the arguments every scenario takes, plus its own.

    Parameters
    ----------
    extra : Callable[[argparse.ArgumentParser], object], optional
        Adds the scenario's own arguments.

    Returns
    -------
    argparse.Namespace
        ``lib`` ("anchor" or "gobrs"), ``moto`` (the moto server URL, may be
        empty) and ``background`` (gobrs's background refresh on), plus the
        scenario's own.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", choices=sorted(MODULES), required=True)
    parser.add_argument("--moto", default=os.environ.get("BENCH_MOTO_URL", ""))
    parser.add_argument("--background", action="store_true", help="gobrs only: background_refresh=True")
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    if args.background and args.lib != "gobrs":
        parser.error("--background is a gobrs option")
    return args


def load(lib: str) -> ModuleType:
    """Import the library under test.

    Parameters
    ----------
    lib : str
        "anchor" or "gobrs".

    Returns
    -------
    ModuleType
        The imported package.
    """
    return importlib.import_module(MODULES[lib])


def emit(result: Dict[str, Any]) -> None:
    """Print the scenario's result as one JSON line on stdout (the driver
    reads the last line) and leave."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def iso_in(seconds: float) -> str:
    """An ISO 8601 UTC timestamp ``seconds`` from now."""
    when = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=seconds)
    return when.isoformat()


class Getter:
    """A custom credential getter that counts its calls.

    Parameters
    ----------
    lifetime : float
        Seconds from the end of each call until the returned credentials
        expire.
    delay : float, optional
        Seconds each call sleeps first (a slow identity provider).
    """

    def __init__(self, lifetime: float, delay: float = 0.0) -> None:
        self.lifetime = lifetime
        self.delay = delay
        self.calls = 0
        self.expiry_unix = 0.0

    def __call__(self) -> Dict[str, str]:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        self.expiry_unix = time.time() + self.lifetime
        n = self.calls
        return {
            "access_key": f"bench-access-key-{n}",
            "secret_key": f"bench-secret-{n}",
            "token": f"bench-token-{n}",
            "expiry_time": _dt.datetime.fromtimestamp(self.expiry_unix, _dt.timezone.utc).isoformat(),
        }


def session_kwargs(args: argparse.Namespace, **kwargs: Any) -> Dict[str, Any]:
    """The keyword arguments common to both libraries, plus gobrs's
    ``background_refresh`` when asked for."""
    if args.background:
        kwargs["background_refresh"] = True
    return kwargs


def custom_session(mod: ModuleType, getter: Callable[[], Dict[str, str]], **kwargs: Any) -> Any:
    """A custom-method session of either library, made through the
    ``RefreshableSession`` factory."""
    return mod.RefreshableSession(method="custom", custom_credentials_method=getter, **kwargs)


def sts_session(mod: ModuleType, moto_url: str, **kwargs: Any) -> Any:
    """An STS-method session of either library that assumes ``ROLE_ARN``
    from the moto server at ``moto_url``.

    Parameters
    ----------
    mod : ModuleType
        The library.
    moto_url : str
        The moto server's URL.
    **kwargs
        Passed on (defer_refresh, background_refresh, ...).
    """
    if not moto_url:
        raise SystemExit("this scenario needs --moto URL")
    return mod.RefreshableSession(
        method="sts",
        assume_role_kwargs={"RoleArn": ROLE_ARN, "RoleSessionName": "bench"},
        sts_client_kwargs={"endpoint_url": moto_url, "region_name": REGION},
        **kwargs,
    )


def method_session(mod: ModuleType, args: argparse.Namespace, getter: Callable[[], Dict[str, str]]) -> Any:
    """A session of the method ``args.method`` ("custom" with ``getter``, or
    "sts" against ``args.moto``), with the common keyword arguments."""
    kw = session_kwargs(args)
    if args.method == "custom":
        return custom_session(mod, getter, **kw)
    return sts_session(mod, args.moto, **kw)


def read(session: Any) -> Any:
    """The per-request read every AWS call makes: the frozen credentials
    from the botocore session."""
    return session._session.get_credentials().get_frozen_credentials()


def force_refresh(lib: str, session: Any) -> None:
    """Refresh the session's credentials once, now, on the calling thread's
    behalf (as a read in the mandatory window would).

    The anchor has no public way to force a refresh: this takes botocore's
    refresh lock and runs its protected (mandatory) refresh, exactly what a
    read in the mandatory window does. gobrs refreshes in Go; the calling
    thread waits without holding the GIL.
    """
    creds = session._session.get_credentials()
    if lib == "anchor":
        with creds._refresh_lock:
            creds._protected_refresh(is_mandatory=True)
    else:
        creds.refresh()


def summarize(samples: Sequence[float]) -> Dict[str, float]:
    """p50, p99 and max of ``samples`` (nearest-rank percentiles)."""
    data = sorted(samples)
    if not data:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}

    def rank(q: float) -> float:
        return data[min(len(data) - 1, max(0, int(round(q * len(data) + 0.5)) - 1))]

    return {"p50": statistics.median(data), "p99": rank(0.99), "max": data[-1]}


def rss_bytes() -> int:
    """The resident set size of this process, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def batches(fn: Callable[[], Any], n: int, repeat: int) -> List[float]:
    """Seconds per call of ``fn``, measured over ``repeat`` batches of ``n``
    calls each (one figure per batch)."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        out.append((time.perf_counter() - t0) / n)
    return out
