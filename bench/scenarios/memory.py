"""Memory: RSS growth per session over 100 sessions.

One session is made first (loading code, service models and, for gobrs, the
Go runtime), then ``gc.collect()``, RSS from /proc/self/statm, 100 more
sessions kept referenced, ``gc.collect()``, RSS again.

Figure: ``kib_per_session`` — (RSS after - RSS before) / 100, in KiB.
"""

from __future__ import annotations

import gc
from typing import Any, List

import common


def main() -> None:
    """Run the scenario."""
    args = common.parse_args(
        lambda p: (
            p.add_argument("--method", choices=["custom", "sts"], required=True),
            p.add_argument("--n", type=int, default=100),
        )
    )
    mod = common.load(args.lib)
    getter = common.Getter(lifetime=3600)

    def make() -> Any:
        return common.method_session(mod, args, getter)

    keep: List[Any] = [make()]
    gc.collect()
    before = common.rss_bytes()
    keep.extend(make() for _ in range(args.n))
    gc.collect()
    after = common.rss_bytes()
    assert len(keep) == args.n + 1
    common.emit({"kib_per_session": (after - before) / args.n / 1024})


if __name__ == "__main__":
    main()
