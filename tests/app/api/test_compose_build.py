"""``docker compose build`` and ``up --build`` (the upstream compose v2 binary) against skiff
serve, with the classic builder's protocol (DOCKER_BUILDKIT=0)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.app.api.test_compose import Compose, compose  # noqa: F401  (the fixture)

pytestmark = pytest.mark.root


@pytest.fixture
def classic_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the compose fixture copies the environment: no BuildKit."""
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")


def test_compose_build_and_run(classic_builder: None, compose: Compose,  # noqa: F811
                               tmp_path: Path, api_server: Any) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(
        "FROM busybox\nARG GREETING=hi\nRUN echo \"$GREETING from compose\" > /greeting\n"
        "CMD [\"cat\", \"/greeting\"]\n")
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""\
        services:
          app:
            build:
              context: ./app
              args:
                GREETING: hello
            image: composebuild:1
        """))
    built = compose("build", timeout=300)
    assert built.returncode == 0
    # a short project name: compose's run alias is project-service-run-id
    ran = compose("-p", "cbuild", "run", "--rm", "app", timeout=120)
    assert ran.stdout.strip() == "hello from compose"
    compose("-p", "cbuild", "down", check=False)
    removed = api_server.request("DELETE", "/images/composebuild:1?force=1")
    assert removed.status == 200  # and the steps it was built from go with it
