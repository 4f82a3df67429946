"""The per-request credential read with fresh credentials.

Every signed AWS request calls
``session._session.get_credentials().get_frozen_credentials()``. The
credentials here expire in an hour, so no refresh is due.

Figure: ``read_us`` — median over batches of the mean cost of one read.
"""

from __future__ import annotations

import statistics

import common


def main() -> None:
    """Run the scenario."""
    args = common.parse_args(lambda p: p.add_argument("--n", type=int, default=10000))
    mod = common.load(args.lib)
    getter = common.Getter(lifetime=3600)
    session = common.custom_session(mod, getter, **common.session_kwargs(args))
    frozen = common.read(session)  # first fetch
    assert frozen.access_key == "bench-access-key-1"
    common.batches(lambda: common.read(session), args.n // 4, 1)  # warm up
    per_call = common.batches(lambda: common.read(session), args.n, 9)
    assert getter.calls == 1, f"fresh credentials were refreshed ({getter.calls} getter calls)"
    common.emit({"read_us": statistics.median(per_call) * 1e6})


if __name__ == "__main__":
    main()
