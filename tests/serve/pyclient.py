"""A boto3 client process of the ``gobrs serve`` tests: it knows nothing of
gobrs and takes its credentials from boto3's default chain (the container
provider, from AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, or a ``credential_process``
profile). Every line it prints on stdout is one JSON object.

Modes:

``identity ENDPOINT``
    ``sts get_caller_identity`` against ENDPOINT (a loopback moto server);
    prints ``{"access_key", "arn"}``.
``watch``
    Reads once (boto3 fetches the credentials as it resolves its chain),
    prints ``{"ready": true, "key": ...}``, waits for ``go`` on stdin, then
    reads the credentials (one ``get_frozen_credentials()`` a read;
    credentials that live less than botocore's 15-minute window are fetched
    again on every read) every 20 ms, printing ``{"key": ...}`` for each new
    access key, until it has read the key that an ``until KEY`` line on
    stdin names.
``load SECONDS [PROCESSES]``
    As ``watch`` up to ``go``, then reads as fast as it can for SECONDS,
    printing nothing but failures; with PROCESSES, that many forked
    processes (boto3
    imported once, before the fork; each makes its own session after it)
    read at once, each printing its own ``done`` line, and the status is 1
    when any of them failed.
``steps``
    Reads once per ``read`` line on stdin, printing ``{"key": ...}``.

``watch`` and ``load`` end with ``{"done": true, "reads", "keys",
"errors"}``; a failed read prints ``{"error_class", "error"}`` (the
exception's class and text, as boto3 raises it) and, except in ``load``,
ends the process with status 1.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any, Dict, List

import boto3


def emit(obj: Dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def failure(exc: BaseException) -> Dict[str, str]:
    cls = type(exc)
    return {"error_class": f"{cls.__module__}.{cls.__qualname__}", "error": str(exc)}


def identity(endpoint: str) -> int:
    try:
        client = boto3.client("sts", endpoint_url=endpoint)
        arn = client.get_caller_identity()["Arn"]
        creds = boto3.Session().get_credentials()
        emit({"access_key": creds.get_frozen_credentials().access_key if creds else None, "arn": arn})
        return 0
    except Exception as exc:
        emit(failure(exc))
        return 1


def run(mode: str, seconds: float, wait: bool = True) -> int:
    creds = boto3.Session().get_credentials()
    if creds is None:
        emit({"error_class": "None", "error": "boto3 found no credentials"})
        return 1
    until: List[str] = []
    stop = threading.Event()

    def listen() -> None:
        for line in sys.stdin:
            word, _, arg = line.strip().partition(" ")
            if word == "until":
                until.append(arg)
        stop.set()

    # botocore fetched once to resolve the chain; this read is the first
    keys = [creds.get_frozen_credentials().access_key]
    reads, errors = 1, 0
    if wait:
        emit({"ready": True, "key": keys[0]})
        if sys.stdin.readline().strip() != "go":
            return 1
    if mode == "watch":
        threading.Thread(target=listen, daemon=True).start()
    end = time.monotonic() + seconds
    while True:
        try:
            key = creds.get_frozen_credentials().access_key
            reads += 1
        except Exception as exc:
            errors += 1
            emit(failure(exc))
            if mode != "load":
                return 1
            continue
        if not keys or key != keys[-1]:
            keys.append(key)
            if mode == "watch":
                emit({"key": key})
        if mode == "load":
            if time.monotonic() >= end:
                break
        else:
            if until and key == until[0]:
                break
            if stop.is_set() and not until:
                return 1  # stdin closed without naming the last key
            time.sleep(0.02)  # pacing: 8 readers on a busy machine; the loop ends on what it read
    emit({"done": True, "reads": reads, "keys": keys, "errors": errors})
    return 0


def load_many(seconds: float, processes: int) -> int:
    r, w = os.pipe()
    pids = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            os.close(w)
            os.read(r, 1)  # "go"
            os.close(r)
            code = 1
            try:
                code = run("load", seconds, wait=False)
            finally:
                os._exit(code)
        pids.append(pid)
    os.close(r)
    emit({"ready": True})
    if sys.stdin.readline().strip() == "go":
        os.write(w, b"g" * processes)
    os.close(w)
    return int(any(os.waitpid(pid, 0)[1] != 0 for pid in pids))


def steps() -> int:
    session = boto3.Session()
    creds = session.get_credentials()
    for line in sys.stdin:
        if line.strip() != "read":
            continue
        try:
            if creds is None:
                raise RuntimeError("boto3 found no credentials")
            emit({"key": creds.get_frozen_credentials().access_key})
        except Exception as exc:
            emit(failure(exc))
    return 0


def main(argv: List[str]) -> int:
    if argv[:1] == ["identity"] and len(argv) == 2:
        return identity(argv[1])
    if argv == ["watch"]:
        return run("watch", 0)
    if argv[:1] == ["load"] and len(argv) == 2:
        return run("load", float(argv[1]))
    if argv[:1] == ["load"] and len(argv) == 3:
        return load_many(float(argv[1]), int(argv[2]))
    if argv == ["steps"]:
        return steps()
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
