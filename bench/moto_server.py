"""A moto server on loopback for the benchmark.

Temporary: ``gobrs.testing.moto_server()`` is the package's own; once it is
installed the driver uses it and this file goes away.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Iterator


@contextlib.contextmanager
def moto_server(python: str = sys.executable, timeout: float = 30.0) -> Iterator[str]:
    """Run ``python -m moto.server`` on a free 127.0.0.1 port.

    Parameters
    ----------
    python : str, optional
        The interpreter that has moto[server].
    timeout : float, optional
        Seconds to wait for the server to answer.

    Yields
    ------
    str
        The server's URL, ``http://127.0.0.1:PORT``.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on {url}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
