"""An S3-protocol server for the tests: moto's standalone server (from PyPI, in requirements.txt) in
its own process on 127.0.0.1, everything in memory; the bucket is made at start. The portal
talks to it with boto3 over HTTP exactly as to any S3-compatible service."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from .redis_service import free_port, stop_process

ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"  # moto takes any


class S3Server:
    def __init__(self, workdir: Path, bucket: str = "portal-test"):
        self.workdir = workdir
        self.bucket = bucket
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def start(self) -> None:
        with open(self.workdir / "moto.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto's S3 server did not start; see {self.workdir}/moto.log")
            time.sleep(0.1)
        self.client().create_bucket(Bucket=self.bucket)

    def answers(self) -> bool:
        import botocore.exceptions

        try:
            self.client().list_buckets()
            return True
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            return False

    def empty(self) -> None:
        """Every object of the bucket removed (a test starts with none)."""
        client = self.client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})

    def keys(self) -> list[str]:
        client = self.client()
        return sorted(item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
                      for item in page.get("Contents", []))

    def config(self, prefix: str = "") -> dict:
        """The app settings (portal/config.py's names) that make a portal keep its files here."""
        return {"STORAGE": "s3", "S3_BUCKET": self.bucket, "S3_ENDPOINT_URL": self.endpoint_url,
                "S3_REGION": "us-east-1", "S3_PREFIX": prefix}

    def environ(self, prefix: str = "") -> dict:
        """The same as environment variables (a server process: gunicorn, a worker)."""
        return {"PORTAL_STORAGE": "s3", "PORTAL_S3_BUCKET": self.bucket, "PORTAL_S3_ENDPOINT_URL": self.endpoint_url,
                "PORTAL_S3_REGION": "us-east-1", "PORTAL_S3_PREFIX": prefix,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None
