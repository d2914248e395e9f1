"""The API tests' docker-py client: tests/fixtures/apiserver.py's, which also removes
the containers a test left."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def client(docker_client: Any) -> Any:
    return docker_client
