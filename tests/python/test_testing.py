"""gobrs.testing: the moto server helper starts, answers and stops."""

from __future__ import annotations

import socket

import boto3

from gobrs.testing import MotoServer, moto_server


def refuses(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, port)) != 0


def test_moto_server_context_manager() -> None:
    with moto_server() as url:
        assert url.startswith("http://127.0.0.1:")
        sts = boto3.client(
            "sts",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert sts.get_caller_identity()["Account"]
        port = int(url.rsplit(":", 1)[1])
    assert refuses("127.0.0.1", port)


def test_moto_server_class_stop_and_reset() -> None:
    server = MotoServer()
    with server:
        process = server.process
        assert process is not None and process.poll() is None
        s3 = boto3.client(
            "s3",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="gobrs-testing-reset")
        server.reset()
        assert s3.list_buckets()["Buckets"] == []
    assert process.poll() is not None
    assert server.process is None
