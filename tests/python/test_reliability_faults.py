"""Faults through a real STSRefreshableSession: a local STS endpoint whose
behaviour the test switches (503, throttling, stalling past the read
timeout, resetting or refusing connections, malformed answers).

For each fault, over one short credential lifetime (16 s; windows of 4 s
and 0.5 s, so neither is scaled): a refresh failing in the advisory window
keeps the old credentials; in the mandatory window reads and client calls
raise the fault's BRSError; once the endpoint heals the next read recovers
with new credentials and clients sign with them, nothing restarted. The
Go tests (internal/faulttest, run by core/sts and core/iot faults_test.go) go through every fault and endpoint kind on
a fake clock; this one checks the same contract end to end, the Python
copy of the credentials included. The faults run side by side, one
endpoint and session each, so the whole test takes about one lifetime.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Tuple, Type
from urllib.parse import parse_qs

import pytest
from botocore.config import Config

from gobrs import (
    BRSConnectionError,
    BRSCredentialError,
    BRSError,
    BRSRequestError,
    STSRefreshableSession,
)
from helpers import post_server, sleep_until

pytestmark = pytest.mark.timeout(120)

# The advisory window is wide (3.5 s before the mandatory one opens) so that
# a read meant for it lands there even when a loaded machine delays the
# test's threads by seconds; later checks only need "late enough".
LIFETIME = 16.0
ADVISORY = 4.0
MANDATORY = 0.5
SECRET = "FAULTPYSECRETVALUE"
TOKEN = "FAULTPYTOKENVALUE"


class FakeSTS:
    """An STS endpoint on 127.0.0.1 whose answer to AssumeRole is switched
    by ``mode``; it keeps its port across "refuse"."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.lock = threading.Lock()
        self.hits = 0
        self.issued: Dict[str, datetime] = {}  # access key -> expiry
        self.release = threading.Event()
        self.server: Optional[ThreadingHTTPServer] = None
        self.port = 0
        self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self) -> None:
        def on_post(h: BaseHTTPRequestHandler, body: bytes) -> None:
            self.answer(h, parse_qs(body.decode()).get("Action", [""])[0])

        # quiet: resets and stalls end connections rudely on purpose
        self.server = post_server(on_post, self.port, quiet=True)
        self.port = self.server.server_address[1]

    def _stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def set(self, mode: str) -> None:
        old, self.mode = self.mode, mode
        if old == "stall":
            self.release.set()
        if mode == "stall":
            self.release = threading.Event()
        if mode == "refuse" and old != "refuse":
            self._stop()
        elif mode != "refuse" and old == "refuse":
            self._start()

    def close(self) -> None:
        self.release.set()
        self._stop()

    def answer(self, h: BaseHTTPRequestHandler, action: str) -> None:
        if action == "GetCallerIdentity":
            self.send(h, 200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:"
                      "assumed-role/demo/faults</Arn><UserId>AROADEMO:faults</UserId><Account>123456789012</Account>"
                      "</GetCallerIdentityResult></GetCallerIdentityResponse>")  # fmt: skip
            return
        with self.lock:
            self.hits += 1
            n = self.hits
        mode = self.mode
        if mode == "ok":
            expiry = datetime.now(timezone.utc) + timedelta(seconds=LIFETIME)
            key = f"ASIAGOBRSFAULTPY{n:04d}"
            self.issued[key] = expiry
            self.send(h, 200, "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
                      f"<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{SECRET}</SecretAccessKey>"
                      f"<SessionToken>{TOKEN}</SessionToken><Expiration>{expiry.isoformat(timespec='milliseconds')}"
                      "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>")  # fmt: skip
        elif mode == "503":
            self.send(h, 503, self.error_xml("ServiceUnavailable", "try again later"))
        elif mode == "throttle":
            self.send(h, 400, self.error_xml("Throttling", "Rate exceeded"))
        elif mode == "malformed":
            self.send(h, 200, f"<AssumeRoleResponse><AssumeRoleResult><Credentials><SecretAccessKey>{SECRET}")
        elif mode == "truncated":
            # cut off mid-body: fewer bytes than Content-Length, then closed
            data = f"<AssumeRoleResponse><AssumeRoleResult><Credentials><SecretAccessKey>{SECRET}".encode()
            h.send_response(200)
            h.send_header("Content-Type", "text/xml")
            h.send_header("Content-Length", str(len(data) + 4096))
            h.end_headers()
            h.wfile.write(data)
            h.wfile.flush()
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
        elif mode == "stall":
            self.release.wait(30)
            h.close_connection = True
        elif mode == "reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True

    @staticmethod
    def error_xml(code: str, message: str) -> str:
        return (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                "</Error><RequestId>r</RequestId></ErrorResponse>")  # fmt: skip

    @staticmethod
    def send(h: BaseHTTPRequestHandler, status: int, body: str) -> None:
        # Every answer closes its connection: no request ever goes out on a
        # kept-alive connection that the server (or a fault) is closing,
        # which once made a malformed answer a flaky BRSConnectionError
        # ("use of closed network connection") instead of the answer's own
        # error. Each fault then meets exactly one fresh connection.
        data = body.encode()
        h.send_response(status)
        h.send_header("Content-Type", "text/xml")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Connection", "close")
        h.close_connection = True
        h.end_headers()
        h.wfile.write(data)


#: fault -> the error a read in the mandatory window raises, and its status
FAULTS: Dict[str, Tuple[Type[BRSError], Optional[int]]] = {
    "503": (BRSRequestError, 503),
    "throttle": (BRSRequestError, 400),
    "stall": (BRSConnectionError, None),
    "reset": (BRSConnectionError, None),
    "refuse": (BRSConnectionError, None),
    "malformed": (BRSCredentialError, None),
    "truncated": (BRSConnectionError, None),  # a transport failure, retried
}


def run_fault(mode: str) -> List[str]:
    """One lifetime with the endpoint failing as ``mode``; returns the
    problems found (empty when the contract held)."""

    problems: List[str] = []
    fake = FakeSTS()
    try:
        s = STSRefreshableSession(
            assume_role_kwargs={"RoleArn": "arn:aws:iam::123456789012:role/demo",
                                "RoleSessionName": "faults-" + uuid.uuid4().hex[:10]},
            sts_client_kwargs={"endpoint_url": fake.url,
                               "config": Config(read_timeout=0.3, connect_timeout=1,
                                                retries={"total_max_attempts": 1})},
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
            advisory_timeout=ADVISORY,
            mandatory_timeout=MANDATORY,
        )  # fmt: skip
        client = s.client("sts", endpoint_url=fake.url)
        first = s.credentials["access_key"]
        expiry = fake.issued[first]
        client.get_caller_identity()

        fake.set(mode)
        hits = fake.hits
        # advisory window: the refresh fails, the old credentials are kept
        sleep_until(expiry - timedelta(seconds=ADVISORY - 0.1))
        try:
            kept = s.credentials["access_key"]
            if kept != first:
                problems.append(f"advisory window: got {kept}, want the old {first}")
        except BRSError as exc:
            problems.append(f"advisory window: read raised {exc!r}")
        # the read started the refresh without waiting for it: wait for the
        # endpoint to see it (before the mandatory window opens)
        mandatory_at = expiry - timedelta(seconds=MANDATORY)
        while mode != "refuse" and fake.hits == hits and datetime.now(timezone.utc) < mandatory_at:
            time.sleep(0.01)
        if mode != "refuse" and fake.hits == hits:
            problems.append("advisory window: no refresh was tried")

        # mandatory window: reads and client calls raise the fault's error
        sleep_until(expiry - timedelta(seconds=MANDATORY - 0.1))
        want, status = FAULTS[mode]
        for what, call in (("read", lambda: s.credentials), ("client call", client.get_caller_identity)):
            try:
                call()
                problems.append(f"mandatory window: {what} did not raise")
            except want as exc:
                if status is not None and exc.status_code != status:
                    problems.append(f"mandatory window: {what}: status {exc.status_code}, want {status}")
                text = str(exc) + repr(exc)
                if SECRET in text or TOKEN in text:
                    problems.append(f"mandatory window: {what}: the error shows a secret")
            except BaseException as exc:
                problems.append(f"mandatory window: {what} raised {exc!r}, want {want.__name__}")

        # healed: the next read recovers; the client signs with the new set
        fake.set("ok")
        try:
            fresh = s.credentials["access_key"]
            if fresh == first or fresh not in fake.issued:
                problems.append(f"after healing: got {fresh}, want new credentials")
            client.get_caller_identity()
        except BaseException as exc:
            problems.append(f"after healing: {exc!r}")
        s.close()
    finally:
        fake.close()
    return [f"{mode}: {p}" for p in problems]


def test_faults_through_a_real_sts_session() -> None:
    with ThreadPoolExecutor(len(FAULTS)) as pool:
        problems = [p for found in pool.map(run_fault, FAULTS) for p in found]
    assert not problems, "\n".join(problems)
