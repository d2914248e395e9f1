"""skiff compose end to end with real containers: what each service sees, the commands,
and nothing left behind (issue 15)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.cli import skiff

CORPUS = """
services:
  init:
    image: busybox:latest
    command: ["sh", "-c", "echo seeded > /shared/seed"]
    volumes: [shared:/shared]
  web:
    image: busybox:latest
    command: ["sh", "-c", "echo web says $$GREETING; exec sleep 600"]
    environment:
      GREETING: ${GREETING:-hello}
      LIST_FORM: "yes"
    env_file: [web.env]
    working_dir: /shared
    hostname: webhost
    user: "1000"
    volumes:
      - shared:/shared
      - ./conf:/conf:ro
    tmpfs: [/scratch]
    mem_limit: 32m
    pids_limit: 50
    labels: {tier: front}
    depends_on:
      init: {condition: service_completed_successfully}
      cache: {condition: service_healthy}
  cache:
    image: busybox:latest
    command: ["sleep", "600"]
    deploy: {replicas: 2}
    healthcheck:
      test: ["CMD", "true"]
      interval: 100ms
volumes:
  shared: {}
"""


def compose(project_dir: Path, *args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return skiff("compose", *args, cwd=project_dir, timeout=240, env={**os.environ, **(env or {})})


def _one_offs_answer_to_their_own_names(corpus: Path) -> None:
    """As docker compose's: no service alias (unless --use-aliases), no service ports
    (unless -P), but -p, -l and -v."""
    def aliases(name: str) -> list[str]:
        seen = json.loads(skiff("inspect", name).stdout)[0]
        return [a for net in seen["NetworkSettings"]["Networks"].values()
                for a in net.get("Aliases") or []]

    plain = compose(corpus, "run", "-d", "--no-deps", "--name", "corpus-probe", "-l", "probe=1",
                    "-p", "127.0.0.1::8080", "-v", f"{corpus / 'conf'}:/more:ro", "web",
                    "sleep", "60")
    assert plain.returncode == 0, plain.stderr
    aliased = compose(corpus, "run", "-d", "--no-deps", "--use-aliases", "web", "sleep", "60")
    assert aliased.returncode == 0, aliased.stderr
    assert "web" not in aliases("corpus-probe")
    assert "web" in aliases(aliased.stdout.strip())
    seen = json.loads(skiff("inspect", "corpus-probe").stdout)[0]
    assert seen["Config"]["Labels"]["probe"] == "1"
    assert seen["Config"]["Labels"]["com.docker.compose.oneoff"] == "True"
    assert list(seen["HostConfig"]["PortBindings"]) == ["8080/tcp"]
    assert skiff("exec", "corpus-probe", "cat", "/more/app.conf").stdout == "setting=on\n"
    clash = compose(corpus, "run", "-P", "-p", "80", "web", "true")
    assert (clash.returncode, clash.stderr.strip()) == (
        1, "--service-ports and --publish are incompatible"), clash.stderr
    skiff("rm", "-f", "corpus-probe", aliased.stdout.strip())


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    project = tmp_path / "corpus"
    project.mkdir()
    (project / "compose.yaml").write_text(CORPUS)
    (project / "web.env").write_text("FROM_FILE=1\n")
    (project / "conf").mkdir()
    (project / "conf" / "app.conf").write_text("setting=on\n")
    return project


def test_config_errors_exit_1_with_the_place(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: busybox\n"
                                           "    ports: ['x:80']\n")
    done = compose(tmp_path, "config")
    assert done.returncode == 1
    assert done.stderr == "services.web.ports[0]: invalid port 'x:80'\n"
    missing = compose(tmp_path / "..", "-f", "nope.yaml", "config")
    assert missing.returncode == 1 and "nope.yaml" in missing.stderr


def test_up_and_create_refuse_force_and_no_recreate_together(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: busybox\n")
    for command in ("up", "create"):
        done = compose(tmp_path, command, "--force-recreate", "--no-recreate")
        assert done.returncode != 0
        assert "--force-recreate and --no-recreate are incompatible" in done.stderr


@pytest.mark.root
def test_each_service_sees_what_its_file_says(busybox_image: str, corpus: Path) -> None:
    up = compose(corpus, "up", "-d", "--wait", env={"GREETING": "bonjour"})
    try:
        assert up.returncode == 0, up.stderr
        assert " Container corpus-init-1  Exited" in up.stderr
        assert " Container corpus-cache-2  Healthy" in up.stderr
        ps = [json.loads(line) for line in compose(corpus, "ps", "-a", "--format",
                                                   "json").stdout.splitlines()]
        assert sorted(r["Name"] for r in ps) == ["corpus-cache-1", "corpus-cache-2",
                                                 "corpus-init-1", "corpus-web-1"]

        def inside(*command: str) -> str:
            done = compose(corpus, "exec", "-T", "web", *command)
            assert done.returncode == 0, done.stderr
            return done.stdout

        env = dict(line.split("=", 1) for line in inside("env").splitlines() if "=" in line)
        assert (env["GREETING"], env["LIST_FORM"], env["FROM_FILE"]) == ("bonjour", "yes", "1")
        assert inside("id", "-u") == "1000\n" and inside("pwd") == "/shared\n"
        assert inside("hostname") == "webhost\n"
        assert inside("cat", "/shared/seed") == "seeded\n"
        assert inside("cat", "/conf/app.conf") == "setting=on\n"
        assert compose(corpus, "exec", "-T", "web", "touch", "/conf/x").returncode != 0
        assert "/scratch" in inside("cat", "/proc/mounts")
        assert "corpus-cache" in inside("cat", "/etc/hosts")
        images = compose(corpus, "images", "web")
        assert images.stdout.split()[6:9] == ["corpus-web-1", "busybox", "latest"], images
        assert "sleep 600" in compose(corpus, "top", "web").stdout
        logs = compose(corpus, "logs", "--no-color", "web")
        assert logs.stdout == "web-1  | web says bonjour\n", logs.stdout
        inspect = json.loads(skiff("inspect", "corpus-web-1").stdout)[0]
        assert inspect["Config"]["Labels"]["tier"] == "front"
        assert inspect["HostConfig"]["Memory"] == 32 << 20
        assert inspect["HostConfig"]["PidsLimit"] == 50
        ran = compose(corpus, "run", "--rm", "-T", "--no-deps", "web", "cat", "/shared/seed")
        assert (ran.returncode, ran.stdout) == (0, "seeded\n"), ran.stderr
        assert "run" not in skiff("ps", "-a", "--format", "{{.Names}}").stdout
        _one_offs_answer_to_their_own_names(corpus)
        stop = compose(corpus, "stop", "cache")
        assert stop.returncode == 0 and " Container corpus-cache-2  Stopped" in stop.stderr
        listed = compose(corpus, "ls")
        assert "corpus" in listed.stdout and "running(" in listed.stdout
        # an orphan is told about, then removed on request
        (corpus / "compose.yaml").write_text(CORPUS.replace("  cache:\n", "  kept:\n")
                                             .replace("cache: {condition", "kept: {condition"))
        again = compose(corpus, "up", "-d", "--remove-orphans", "kept")
        assert again.returncode == 0, again.stderr
        assert " Container corpus-cache-1  Removed" in again.stderr
    finally:
        down = compose(corpus, "down", "-v", "--remove-orphans")
    assert down.returncode == 0, down.stderr
    assert skiff("ps", "-a", "-q", "--filter", "label=com.docker.compose.project=corpus"
                 ).stdout == ""
    assert "corpus_shared" not in skiff("volume", "ls", "-q").stdout


@pytest.mark.root
def test_attached_up_prefixes_each_line_and_ends_with_the_containers(busybox_image: str,
                                                                      tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "name: attached\nservices:\n  hello:\n    image: busybox:latest\n"
        "    command: [echo, hello from hello]\n  counter:\n    image: busybox:latest\n"
        "    command: [sh, -c, 'echo one; echo two; exit 3']\n    deploy: {replicas: 1}\n")
    try:
        up = compose(tmp_path, "up", "--no-color")
        lines = up.stdout.splitlines()
        assert lines[0] == "Attaching to counter-1, hello-1", up.stdout
        assert "hello-1    | hello from hello" in lines
        assert lines.index("counter-1  | one") < lines.index("counter-1  | two")
        assert "counter-1  | exited with code 3" in lines
        assert "hello-1    | exited with code 0" in lines
        scaled = compose(tmp_path, "up", "-d", "--scale", "hello=2", "hello")
        assert scaled.returncode == 0, scaled.stderr
        names = compose(tmp_path, "ps", "-a", "--format", "{{.Name}}").stdout.split()
        assert sorted(names) == ["attached-counter-1", "attached-hello-1", "attached-hello-2"]
    finally:
        down = compose(tmp_path, "down")
    assert down.returncode == 0, down.stderr


@pytest.mark.root
def test_build_then_up_runs_the_built_image(busybox_image: str, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox:latest\nRUN echo built > /built\n"
                                         'CMD ["sleep", "600"]\n')
    (tmp_path / "compose.yaml").write_text("name: built\nservices:\n  app:\n    build: .\n")
    try:
        up = compose(tmp_path, "up", "-d", "--build")
        assert up.returncode == 0, up.stderr
        assert " Service app  Built" in up.stderr
        seen = compose(tmp_path, "exec", "-T", "app", "cat", "/built")
        assert seen.stdout == "built\n", seen.stderr
        assert compose(tmp_path, "images").stdout.split()[7] == "built-app"
    finally:
        down = compose(tmp_path, "down", "--rmi", "local")
        skiff("image", "prune", "-f")  # the build's steps, untagged now
    assert down.returncode == 0, down.stderr
    assert "built-app" not in skiff("images").stdout
    # as Compose: up builds a missing image by itself, unless told not to
    refused = compose(tmp_path, "up", "-d", "--no-build")
    assert refused.returncode != 0 and "image built-app not found" in refused.stderr
    try:
        up = compose(tmp_path, "up", "-d")
        assert up.returncode == 0, up.stderr
        assert " Service app  Built" in up.stderr
        again = compose(tmp_path, "up", "-d")
        assert "Built" not in again.stderr and " Container built-app-1  Running" in again.stderr
    finally:
        compose(tmp_path, "down", "--rmi", "local")
        skiff("image", "prune", "-f")


@pytest.mark.root
def test_a_network_or_volume_the_file_changed_is_made_again(busybox_image: str,
                                                            tmp_path: Path) -> None:
    """As docker compose: a changed network is recreated and its containers carry on on the
    new one; a changed volume is kept (its data with it) unless -y says to recreate it."""
    text = ("name: changed\nservices:\n  app:\n    image: busybox:latest\n"
            "    command: [sleep, '600']\n    networks: [back]\n    volumes: [data:/data]\n"
            "networks:\n  back: {}\nvolumes:\n  data: {}\n")
    (tmp_path / "compose.yaml").write_text(text)

    def container_id() -> str:
        return compose(tmp_path, "ps", "-q", "app").stdout.strip()

    try:
        up = compose(tmp_path, "up", "-d")
        assert up.returncode == 0, up.stderr
        first = container_id()
        assert compose(tmp_path, "exec", "-T", "app", "touch", "/data/kept").returncode == 0
        (tmp_path / "compose.yaml").write_text(text.replace(
            "  back: {}", "  back: {internal: true}").replace(
            "  data: {}", "  data: {labels: {v: '2'}}"))
        again = compose(tmp_path, "up", "-d")
        assert again.returncode == 0, again.stderr
        assert " Network changed_back  Removed" in again.stderr
        assert " Network changed_back  Created" in again.stderr
        assert "doesn't match configuration" in again.stderr
        assert json.loads(skiff("network", "inspect", "changed_back").stdout)[0]["Internal"]
        assert container_id() == first  # the same container, running on the new network
        assert compose(tmp_path, "exec", "-T", "app", "ls", "/data").stdout == "kept\n"
        yes = compose(tmp_path, "up", "-d", "-y")
        assert yes.returncode == 0, yes.stderr
        assert " Volume changed_data  Removed" in yes.stderr, yes.stderr
        labels = json.loads(skiff("volume", "inspect", "changed_data").stdout)[0]["Labels"]
        assert labels["v"] == "2"
        assert container_id() != first
        assert compose(tmp_path, "exec", "-T", "app", "ls", "/data").stdout == ""
    finally:
        down = compose(tmp_path, "down", "-v")
    assert down.returncode == 0, down.stderr
