"""``POST /build`` through skiff serve: the docker CLI's classic builder (DOCKER_BUILDKIT=0)
and docker-py's ``images.build``, each then running what it built."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import docker
import pytest

pytestmark = pytest.mark.root

DOCKERFILE = ("FROM busybox\nARG WHO=nobody\nCOPY note.txt /note.txt\n"
              "RUN echo \"built for $WHO\" >> /note.txt\nCMD [\"cat\", \"/note.txt\"]\n")


def _context(root: Path) -> Path:
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "note.txt").write_text("note\n")
    return root


def test_docker_cli_builds_with_the_classic_builder(api_server: Any, tmp_path: Path) -> None:
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed")
    env = {**api_server.env(), "DOCKER_BUILDKIT": "0"}

    def docker(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", *args], capture_output=True, text=True, env=env,
                              timeout=240)

    try:
        done = docker("build", "-t", "apibuild:cli", "--build-arg", "WHO=cli",
                      str(_context(tmp_path)))
        assert done.returncode == 0, done.stderr
        assert "Step 1/5 : FROM busybox" in done.stdout
        assert "Successfully tagged apibuild:cli" in done.stdout
        ran = docker("run", "--rm", "apibuild:cli")
        assert ran.stdout == "note\nbuilt for cli\n", ran.stderr
        again = docker("build", "-t", "apibuild:cli", "--build-arg", "WHO=cli", str(tmp_path))
        assert again.stdout.count("Using cache") == 4
        (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN exit 7\n")
        failed = docker("build", str(tmp_path))
        assert failed.returncode == 7
        assert "returned a non-zero code: 7" in failed.stderr
    finally:
        docker("rmi", "-f", "apibuild:cli")


def test_docker_py_images_build(docker_client: Any, tmp_path: Path) -> None:
    image, logs = docker_client.images.build(path=str(_context(tmp_path)), tag="apibuild:py",
                                             buildargs={"WHO": "py"}, rm=True)
    try:
        lines = [entry.get("stream", "") for entry in logs]
        assert any(line.startswith("Step 4/5 : RUN") for line in lines)
        assert image.tags == ["apibuild:py"]
        out = docker_client.containers.run("apibuild:py", remove=True)
        assert out == b"note\nbuilt for py\n"
    finally:
        docker_client.images.remove("apibuild:py", force=True)


def test_docker_py_build_options_as_the_classic_builder(docker_client: Any) -> None:
    """extra_hosts reach the RUN steps, a network goes by its id, stderr comes marked in
    red, and cache_from limits the cache to what the named images were built from."""
    api = docker_client.api
    network = api.create_network("apibuild-net")["Id"]
    script = (b"FROM busybox\nRUN grep -q 'hello.test' /etc/hosts\n"
              b"RUN echo oops >&2\nRUN touch /made\n")

    def build(tag: str, **options: Any) -> list[dict[str, Any]]:
        return list(api.build(fileobj=io.BytesIO(script), tag=tag, decode=True,
                              extra_hosts={"hello.test": "127.0.0.1"},
                              network_mode=network, **options))

    try:
        first = build("apibuild:first")
        assert "error" not in first[-1], first[-1]
        assert {"stream": "\x1b[91moops\n\x1b[0m"} in first
        cached = build("apibuild:second", cache_from=["apibuild:first"])
        assert sum("Using cache" in line.get("stream", "") for line in cached) == 3
        none = build("apibuild:third", cache_from=["no-such-image"])
        assert not any("Using cache" in line.get("stream", "") for line in none)
    finally:
        for tag in ("apibuild:first", "apibuild:second", "apibuild:third"):
            with contextlib.suppress(docker.errors.ImageNotFound):
                api.remove_image(tag, force=True)
        api.remove_network(network)


def test_raw_request_streams_json_lines(api_server: Any) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"FROM busybox\nLABEL raw=yes\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    answer = api_server.request("POST", "/v1.44/build?q=1&labels=%7B%22extra%22%3A%221%22%7D",
                                buffer.getvalue(), {"Content-Type": "application/x-tar"})
    assert answer.status == 200
    messages = [json.loads(line) for line in answer.body.splitlines() if line.strip()]
    ids = [m["aux"]["ID"] for m in messages if "aux" in m]
    assert len(ids) == 1 and ids[0].startswith("sha256:")
    assert messages[0] == {"stream": ids[0] + "\n"}
    bad = io.BytesIO()
    with tarfile.open(fileobj=bad, mode="w") as tar:
        data = b"FROM busybox\nNOPE x\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    refused = api_server.request("POST", "/build", bad.getvalue(),
                                 {"Content-Type": "application/x-tar"})
    assert refused.status in (400, 500)
    assert b"unknown instruction: NOPE" in refused.body
    api_server.request("DELETE", f"/images/{ids[0]}?force=1")


def test_docker_commit_and_images_all(api_server: Any) -> None:
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed")

    def docker(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", *args], capture_output=True, text=True,
                              env=api_server.env(), timeout=120)

    made = docker("run", "--name", "apicommit", "busybox", "sh", "-c", "echo c > /c")
    assert made.returncode == 0, made.stderr
    try:
        done = docker("commit", "-m", "api commit", "-c", "CMD [\"cat\", \"/c\"]",
                      "apicommit", "apicommitted:1")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("sha256:")
        assert docker("run", "--rm", "apicommitted:1").stdout == "c\n"
        assert docker("images", "-a", "-q").returncode == 0
    finally:
        docker("rm", "-f", "apicommit")
        docker("rmi", "-f", "apicommitted:1")


def test_docker_py_commits_running_and_ending_containers(docker_client: Any) -> None:
    """Commit pauses a running container for its layer; one whose command ends meanwhile
    (docker-py's own tests commit right after start) is committed once it has exited."""
    api = docker_client.api
    images = []
    try:
        running = api.create_container("busybox", ["sh", "-c", "touch /made; sleep 60"])
        api.start(running)
        api.exec_start(api.exec_create(running, ["true"]))  # its command is under way
        images.append(api.commit(running)["Id"])
        assert api.inspect_container(running)["State"]["Status"] == "running"
        busybox = api.inspect_image("busybox")["Id"]
        assert api.inspect_image(images[0])["Parent"] == busybox  # made on it, as docker says
        for _ in range(3):
            ending = api.create_container("busybox", ["touch", "/test"])
            api.start(ending)
            images.append(api.commit(ending)["Id"])
    finally:
        for image in images:
            api.remove_image(image, force=True)


def test_builder_prune_and_system_df(api_server: Any, docker_client: Any,
                                     tmp_path: Path) -> None:
    """docker system df counts a build's steps as build cache; docker builder prune -a and
    docker-py's prune_builds remove them, and the tagged image stays."""
    image, _logs = docker_client.images.build(path=str(_context(tmp_path)),
                                              tag="apibuild:prune", rm=True)
    try:
        usage = docker_client.df()
        steps = [c for c in usage["BuildCache"] if c["Type"] == "regular"]
        assert len(steps) == 3 and "BuilderSize" not in usage  # API >= 1.42, as dockerd
        assert docker_client.api.prune_builds() == {"CachesDeleted": None,
                                                    "SpaceReclaimed": 0}
        if shutil.which("docker") is None:
            pruned = docker_client.api.prune_builds(all=True)
            assert len(pruned["CachesDeleted"]) == 3
        else:
            df = subprocess.run(["docker", "system", "df", "-v"], capture_output=True,
                                text=True, env=api_server.env(), timeout=120)
            assert df.returncode == 0, df.stderr
            assert "Build cache usage:" in df.stdout and df.stdout.count("regular") == 3
            done = subprocess.run(["docker", "builder", "prune", "-a", "-f"],
                                  capture_output=True, text=True, env=api_server.env(),
                                  timeout=120)
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith("Deleted build cache objects:\n")
            assert all(c["ID"] in done.stdout for c in steps)
            assert "Total reclaimed space:" in done.stdout
        assert docker_client.df()["BuildCache"] == []
        assert docker_client.images.get("apibuild:prune").id == image.id
    finally:
        docker_client.images.remove("apibuild:prune", force=True)


def test_remote_context_from_a_url(api_server: Any, tmp_path: Path) -> None:
    """remote= names the context (here a Dockerfile served on loopback): skiff serve
    fetches it, as dockerd does; docker-py sends it for images.build(path=URL)."""
    import functools
    import http.server
    import threading
    import urllib.parse

    (tmp_path / "Dockerfile").write_text("FROM busybox\nLABEL remote=yes\n")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/Dockerfile"
        answer = api_server.request("POST", "/v1.44/build?t=apibuild:remote&remote="
                                    + urllib.parse.quote(url, safe=""), b"", {})
        assert answer.status == 200, answer.body
        messages = [json.loads(line) for line in answer.body.splitlines() if line.strip()]
        assert any("aux" in m for m in messages), messages
        label = api_server.request("GET", "/v1.44/images/apibuild:remote/json", b"", {})
        assert json.loads(label.body)["Config"]["Labels"] == {"remote": "yes"}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        api_server.request("DELETE", "/v1.44/images/apibuild:remote?force=1", b"", {})
