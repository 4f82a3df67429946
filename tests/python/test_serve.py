"""gobrs.serve.Server: the container-credentials server of a session made
in Python (brs_serve through ctypes)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from gobrs import BRSClosedError, BRSValidationError
from gobrs._lib import NativeSession
from gobrs.serve import Server
from helpers import Getter, custom_session


def fetch(url: str, token_file: str) -> Tuple[int, Dict[str, Any]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, headers={"Authorization": Path(token_file).read_text()})
    try:
        with opener.open(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serves_a_python_session(getter: Getter, tmp_path: Path) -> None:
    session = custom_session(getter)
    env_file = tmp_path / "env"
    with Server(session, {"env_file": str(env_file), "path": "/c"}) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/c")
        assert env_file.read_text() == server.env_lines()
        status, body = fetch(server.url, server.token_file)
        assert status == 200 and body["AccessKeyId"] == getter.access_key(1)
        assert fetch(server.url, server.token_file)[1]["AccessKeyId"] == getter.access_key(1)
        assert getter.calls == 1  # the Python getter ran once for both
        info = server.info()
        assert info["served"] == 2 and info["refused"] == 0
        assert all(secret not in json.dumps(info) + repr(server) for secret in getter.secrets())
    assert not os.path.exists(server.token_file) and not env_file.exists()
    with pytest.raises(BRSClosedError):
        server.info()
    server.stop()  # twice: harmless
    session.close()


def test_closed_session_and_bad_options() -> None:
    native = NativeSession({"credential_process": "true"})
    with pytest.raises(BRSValidationError) as info:
        Server(native, {"listen": "0.0.0.0:0"})
    assert info.value.param == "listen"
    with pytest.raises(BRSValidationError) as info:
        Server(native, {"max_connections": "many"})
    assert info.value.param == "options.max_connections"
    with pytest.raises(BRSValidationError) as info:
        Server(object())
    assert info.value.param == "session"
    server = Server(native)
    native.close()
    status, body = fetch(server.url, server.token_file)
    assert status == 503 and body["code"] == "SessionClosed"
    server.stop()
    with pytest.raises(BRSClosedError):
        Server(native)


def test_collected_server_stops(getter: Getter) -> None:
    import gc

    session = custom_session(getter)
    token_file = Server(session).token_file  # dropped at once
    gc.collect()
    assert not os.path.exists(token_file)
    session.close()
