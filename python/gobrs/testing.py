"""Test helpers: a local moto server for gobrs sessions to talk to.

moto's in-process ``mock_aws`` cannot see the HTTP requests the Go core makes
(STS AssumeRole, GetCallerIdentity): point sessions and clients at a moto
*server* on the loopback interface instead::

    from gobrs.testing import moto_server

    with moto_server() as endpoint_url:
        s3 = session.client("s3", endpoint_url=endpoint_url)

It needs ``moto[server]`` (``pip install "moto[server]"``).
"""

from __future__ import annotations

__all__ = ["MotoServer", "free_port", "moto_server"]

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import IO, Iterator, List, Optional, Sequence


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """A ``python -m moto.server`` process on a loopback port.

    Parameters
    ----------
    host : str, optional
        The address to listen on; a loopback address. Default
        ``"127.0.0.1"``.
    port : int, optional
        The port; a free one by default.
    python : str, optional
        The interpreter that has ``moto[server]``; default
        ``sys.executable`` (or ``$MOTO_PYTHON`` when set).
    timeout : float, optional
        Seconds to wait for the server to answer. Default 30.

    Examples
    --------
    >>> with MotoServer() as server:
    ...     boto3.client("sts", endpoint_url=server.endpoint_url, ...)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: Optional[int] = None,
        python: Optional[str] = None,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.python = python or os.environ.get("MOTO_PYTHON") or sys.executable
        self.timeout = timeout
        self.process: Optional[subprocess.Popen[bytes]] = None
        self._log: Optional[IO[bytes]] = None

    @property
    def endpoint_url(self) -> str:
        """``http://HOST:PORT`` of the running server."""

        if self.port is None or self.process is None:
            raise RuntimeError("the moto server is not running")
        return f"http://{self.host}:{self.port}"

    def command(self) -> List[str]:
        """The command line that starts the server."""

        return [self.python, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]

    def start(self) -> str:
        """Start the server and wait until it answers.

        Returns
        -------
        str
            The endpoint URL.

        Raises
        ------
        RuntimeError
            When the server exits or does not answer in time.
        """

        if self.process is not None:
            return self.endpoint_url
        fixed_port = self.port is not None
        for _attempt in range(3):
            if not fixed_port:
                self.port = free_port(self.host)
            # the server's log goes to a file, read only to explain a failure
            self._log = tempfile.TemporaryFile()
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            if self._wait_ready():
                return self.endpoint_url
            err = self._stop_process()
            if fixed_port:
                break
        raise RuntimeError(f"the moto server did not start: {self.command()}: {err[-2000:]}")

    def _wait_ready(self) -> bool:
        assert self.process is not None and self.port is not None
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
            try:
                conn.request("GET", "/moto-api/")
                conn.getresponse().read()
                return True
            except OSError:
                time.sleep(0.1)
            finally:
                conn.close()
        return False

    def _stop_process(self) -> str:
        process, self.process = self.process, None
        if process is None:
            return ""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log, self._log = self._log, None
        if log is None:
            return ""
        with log:
            log.seek(0)
            return log.read().decode("utf-8", "replace")

    def reset(self) -> None:
        """Forget every resource the server holds (``/moto-api/reset``)."""

        assert self.port is not None
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request("POST", "/moto-api/reset")
            conn.getresponse().read()
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop the server (by its process id) and wait for it to exit."""

        self._stop_process()

    def __enter__(self) -> "MotoServer":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def moto_server(
    host: str = "127.0.0.1",
    port: Optional[int] = None,
    python: Optional[str] = None,
    timeout: float = 30.0,
) -> Iterator[str]:
    """Run a moto server for the duration of a ``with`` block.

    Parameters are those of :class:`MotoServer`.

    Yields
    ------
    str
        The endpoint URL, e.g. ``"http://127.0.0.1:54321"``.
    """

    with MotoServer(host=host, port=port, python=python, timeout=timeout) as server:
        yield server.endpoint_url


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run a moto server until interrupted (SIGINT or SIGTERM), printing its
    endpoint URL first: ``python -m gobrs.testing``."""

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the server too
    with moto_server() as url:
        print(url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
