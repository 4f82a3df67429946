"""gobrs demo: a custom credential getter whose credentials live about 20 s,
a local moto server, and real S3 and STS calls across several refreshes;
then the sts method: AssumeRole run by the Go core against the same server.

Run it with ``make demo`` (which builds gobrs, installs it into .venv and
runs this file), or directly with a Python that has gobrs and
``moto[server]`` installed::

    python examples/python/demo.py [--seconds 55]

Every refresh is printed as it happens: the getter prints when gobrs calls
it, and each API call prints the access key it was signed with. Only access
keys are printed, never a secret key or token.
"""

from __future__ import annotations

import argparse
import itertools
import secrets
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict

from botocore.config import Config

from gobrs import RefreshableSession
from gobrs.testing import moto_server

LIFETIME = 20.0  # seconds each set of credentials lives
START = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - START:5.1f}s] {message}", flush=True)


class DemoCredentialSource:
    """Stands in for a vault or an identity broker: each call mints a new
    set of (fake) temporary credentials living LIFETIME seconds."""

    __name__ = "demo_credential_source"  # what session.whoami() reports

    def __init__(self) -> None:
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def __call__(self, team: str) -> Dict[str, Any]:
        with self.lock:
            n = next(self.counter)
        expiry = datetime.now(timezone.utc) + timedelta(seconds=LIFETIME)
        access_key = f"DEMO{team.upper()}{n:04d}"
        where = "main thread" if threading.current_thread() is threading.main_thread() else "a gobrs thread"
        say(f"refresh #{n}: getter called on {where} -> new access key {access_key}, expires {expiry:%H:%M:%S} UTC")
        return {
            "access_key": access_key,
            "secret_key": secrets.token_hex(20),
            "token": secrets.token_hex(32),
            "expiry_time": expiry,
        }


def signed_with(client: Any) -> list:
    """Collect the access key each request of ``client`` is signed with."""

    keys: list = []

    def before_send(request: Any, **_: Any) -> None:
        auth = request.headers.get("Authorization", b"")
        auth = auth.decode() if isinstance(auth, bytes) else auth
        keys.append(auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else "?")

    client.meta.events.register("before-send.*", before_send)
    return keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=55.0, help="how long to run (default 55)")
    parser.add_argument("--interval", type=float, default=4.0, help="seconds between calls (default 4)")
    args = parser.parse_args()

    say("starting a moto server on 127.0.0.1 ...")
    with moto_server() as endpoint:
        say(f"moto server at {endpoint}")
        source = DemoCredentialSource()
        session = RefreshableSession(
            method="custom",
            custom_credentials_method=source,
            custom_credentials_method_args={"team": "data"},
            region_name="us-east-1",
        )
        say(f"session: {session!r}")
        say(
            f"credentials live {LIFETIME:.0f} s, so gobrs scales the refresh windows down: "
            f"the first call in the last {LIFETIME / 4:.0f} s before expiry refreshes them"
        )
        # clients are made once, before any refresh, and keep working across refreshes
        s3 = session.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))
        sts = session.client("sts", endpoint_url=endpoint)
        s3_keys, sts_keys = signed_with(s3), signed_with(sts)

        bucket = "gobrs-demo"
        s3.create_bucket(Bucket=bucket)
        say(f"created bucket {bucket!r} (signed with {s3_keys[-1]})")
        calls, seen = 0, set()
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            calls += 1
            s3.put_object(Bucket=bucket, Key=f"object-{calls}", Body=f"hello #{calls}".encode())
            listed = s3.list_objects_v2(Bucket=bucket)["KeyCount"]
            identity = sts.get_caller_identity()
            seen.update(s3_keys[-2:] + sts_keys[-1:])
            creds = session.credentials
            say(
                f"call {calls:2d}: put+list ({listed} objects) signed with {s3_keys[-1]}, "
                f"GetCallerIdentity account {identity['Account']} signed with {sts_keys[-1]}; "
                f"current credentials expire {creds['expiry_time']}"
            )
            time.sleep(max(0.0, min(args.interval, deadline - time.monotonic())))
        say(f"whoami: {session.whoami()}")
        session.close()
        say(f"done: {calls} rounds of calls, {len(seen)} different access keys used, all from the same two clients")
        assumed_ok = sts_demo(endpoint)
    return 0 if len(seen) >= 2 and assumed_ok else 1


def sts_demo(endpoint: str) -> bool:
    """The sts method: AssumeRole runs in Go against the moto server; the
    session builds no boto3 STS client of its own."""

    say("sts method: AssumeRole through the Go core")
    session = RefreshableSession(
        method="sts",
        assume_role_kwargs={"RoleArn": "arn:aws:iam::123456789012:role/gobrs-demo", "DurationSeconds": 900},
        sts_client_kwargs={"endpoint_url": endpoint, "region_name": "us-east-1"},
        region_name="us-east-1",
        aws_access_key_id="DEMOSOURCEKEY",
        aws_secret_access_key="demo-source-secret",
    )
    s3 = session.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))
    keys = signed_with(s3)
    buckets = len(s3.list_buckets()["Buckets"])
    identity = session.whoami()
    say(f"sts: whoami -> {identity['Arn']}")
    say(
        f"sts: ListBuckets ({buckets} buckets) signed with the assumed key {keys[-1]}, "
        f"expiring {session.credentials['expiry_time']}"
    )
    session.close()
    return ":assumed-role/gobrs-demo/" in identity["Arn"] and keys[-1] != "DEMOSOURCEKEY"


if __name__ == "__main__":
    sys.exit(main())
