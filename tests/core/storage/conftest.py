"""Fixtures for storage tests: a signature-checking S3 server (moto) on 127.0.0.1.

``s3_server`` is started once per test session (see :mod:`tests.s3server`);
``s3_bucket`` is a fresh, empty bucket in it for each test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.s3server import S3Server, start_s3_server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server that checks signatures, and the one key it accepts."""
    server = start_s3_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new empty bucket in ``s3_server``."""
    return s3_server.create_bucket(f"rec-{uuid.uuid4().hex[:12]}")
