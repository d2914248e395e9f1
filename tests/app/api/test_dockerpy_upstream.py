"""docker-py's own integration tests, a part vendored unchanged (tests/upstream/docker-py,
tag 7.2.0), run against the session's ``skiff serve`` as docker-py's CI runs them
against dockerd: exec (streams, TTY, detach keys, demux), volumes, errors, the
client's version and timeouts, regressions. Each passes (or is skipped) as on Debian's
dockerd; the two that fail there too need alpine's own files (the image here is
busybox's). ``benchmarks/dockerpy.py`` runs the whole suite beside dockerd.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.dockerpy import read_junit
from tests.fixtures.apiserver import ApiServer

pytestmark = pytest.mark.root

UPSTREAM = Path(__file__).resolve().parents[2] / "upstream" / "docker-py"
#: The image the suite names, here busybox's under alpine's tags.
SUITE_TAGS = ("alpine:3.10", "alpine:latest")
#: Fail on dockerd too with this image: there is no user postgres, no /var/opt.
FAIL_ON_BOTH = {"tests.integration.api_exec_test.ExecTest.test_exec_command_as_user",
                "tests.integration.api_exec_test.ExecTest.test_exec_command_with_workdir"}


def test_docker_py_s_own_tests_pass_as_on_dockerd(api_server: ApiServer,
                                                    tmp_path: Path) -> None:
    for tag in SUITE_TAGS:
        assert api_server.docker("tag", "busybox", tag).returncode == 0
    junit = tmp_path / "dockerpy.xml"
    (tmp_path / "home").mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DOCKER_", "SKIFF_", "PYTEST_"))}
    env.update(DOCKER_HOST=api_server.docker_host, HOME=str(tmp_path / "home"),
               DOCKER_CONFIG=str(tmp_path / "home"), PYTHONDONTWRITEBYTECODE="1")
    before = _objects(api_server)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-c", str(UPSTREAM / "pytest.ini"), "--rootdir",
             str(UPSTREAM), "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:pytestqt",
             "-q", "--timeout", "120", f"--junitxml={junit}", "tests/integration"],
            cwd=UPSTREAM, env=env, capture_output=True, text=True, timeout=900)
    finally:
        api_server.docker("rmi", *SUITE_TAGS)
        _remove_new(api_server, before)
    outcomes = read_junit(junit)
    failed = {name: message for name, (outcome, message) in outcomes.items()
              if outcome in ("failed", "error")}
    assert set(failed) == FAIL_ON_BOTH, (failed, done.stdout[-3000:])
    assert sum(outcome == "passed" for outcome, _ in outcomes.values()) >= 35


_KINDS = {"container": ("ps", "-aq", "--no-trunc"), "volume": ("volume", "ls", "-q"),
          "network": ("network", "ls", "-q", "--no-trunc")}


def _objects(server: ApiServer) -> dict[str, set[str]]:
    return {kind: set(server.docker(*listing).stdout.split())
            for kind, listing in _KINDS.items()}


def _remove_new(server: ApiServer, before: dict[str, set[str]]) -> None:
    """What the suite left (a few of its tests keep their containers), so the session's
    other tests find the server as it was."""
    after = _objects(server)
    gone = sorted(after["container"] - before["container"])
    if gone:
        server.docker("rm", "-f", "-v", *gone)
    for kind in ("volume", "network"):
        left = sorted(after[kind] - before[kind])
        if left:
            server.docker(kind, "rm", *left)
