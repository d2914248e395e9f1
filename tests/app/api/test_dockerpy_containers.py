"""docker-py (the ``docker`` package) driving containers and exec through ``skiff serve``."""

from __future__ import annotations

import io
import socket
import tarfile
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.fixtures.apiserver import ApiServer

pytestmark = pytest.mark.root


def test_run_returns_the_output_and_auto_remove_leaves_nothing(docker_client: Any) -> None:
    out = docker_client.containers.run("busybox", ["sh", "-c", "echo hello; echo oops >&2"],
                                       name="py-run", remove=True, stderr=True)
    assert b"hello\n" in out
    assert not docker_client.containers.list(all=True, filters={"name": "py-run"})


def test_a_failing_command_raises_container_error(docker_client: Any) -> None:
    docker = pytest.importorskip("docker")
    with pytest.raises(docker.errors.ContainerError) as caught:
        docker_client.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 9"])
    assert caught.value.exit_status == 9
    assert b"bad" in caught.value.stderr


def test_models_refresh_and_act(docker_client: Any) -> None:
    container = docker_client.containers.run(
        "busybox", ["sleep", "60"], detach=True, name="py-life",
        labels={"com.example.role": "test"}, environment={"GREETING": "hi"},
        mem_limit="64m", ports={"80/tcp": None})
    assert container.status == "created" or container.status == "running"
    container.reload()
    assert container.status == "running"
    assert container.name == "py-life"
    assert container.labels["com.example.role"] == "test"
    assert "GREETING=hi" in container.attrs["Config"]["Env"]
    assert container.attrs["HostConfig"]["Memory"] == 64 * 1024 * 1024
    listed = docker_client.containers.list(filters={"label": "com.example.role=test"})
    assert [c.id for c in listed] == [container.id]
    assert docker_client.containers.get(container.id[:10]).id == container.id
    container.pause()
    container.reload()
    assert container.status == "paused"
    container.unpause()
    top = container.top()  # dockerd's shape: the host's `ps -ef`, this container's rows
    assert top["Titles"] == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert any("sleep" in row[-1] for row in top["Processes"])
    top = container.top(ps_args="-o pid,comm")
    assert top["Titles"] == ["PID", "COMMAND"]
    assert [row[1] for row in top["Processes"]] == ["sleep"]
    container.rename("py-life-2")
    container.reload()
    assert container.name == "py-life-2"
    container.update(mem_limit="32m")
    container.reload()
    assert container.attrs["HostConfig"]["Memory"] == 32 * 1024 * 1024
    container.kill(signal="SIGKILL")
    assert container.wait(timeout=30)["StatusCode"] == 137
    container.remove()
    docker = pytest.importorskip("docker")
    with pytest.raises(docker.errors.NotFound, match="No such container"):
        docker_client.containers.get("py-life-2")


def test_a_name_in_use_is_docker_s_conflict(docker_client: Any) -> None:
    docker = pytest.importorskip("docker")
    docker_client.containers.create("busybox", ["true"], name="py-twice")
    with pytest.raises(docker.errors.APIError) as caught:
        docker_client.containers.create("busybox", ["true"], name="py-twice")
    assert caught.value.status_code == 409
    assert 'Conflict. The container name "/py-twice" is already in use' in str(caught.value)


def test_exec_run_output_exit_code_and_stream(docker_client: Any) -> None:
    container = docker_client.containers.run("busybox", ["sleep", "60"], detach=True)
    code, out = container.exec_run(["sh", "-c", "echo $GREETING from $(pwd); exit 3"],
                                   environment={"GREETING": "hello"}, workdir="/tmp")
    assert (code, out) == (3, b"hello from /tmp\n")
    code, (stdout, stderr) = container.exec_run(["sh", "-c", "echo o; echo e >&2"],
                                                demux=True)
    assert (code, stdout, stderr) == (0, b"o\n", b"e\n")
    code, out = container.exec_run(["id", "-u"], user="1000")
    assert out.strip() == b"1000"
    chunks = container.exec_run(["sh", "-c", "echo a; sleep 0.2; echo b"], stream=True)
    assert b"".join(chunks.output) == b"a\nb\n"
    missing = container.exec_run(["no-such-command"])
    assert missing.exit_code in (126, 127)


def test_exec_detached_then_inspected(docker_client: Any) -> None:
    container = docker_client.containers.run("busybox", ["sleep", "60"], detach=True)
    api = docker_client.api
    exec_id = api.exec_create(container.id, ["sh", "-c", "exit 6"])["Id"]
    api.exec_start(exec_id, detach=True)
    deadline = time.monotonic() + 30
    while (found := api.exec_inspect(exec_id))["Running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found["ExitCode"] == 6
    assert found["ContainerID"] == container.id
    assert exec_id in api.inspect_container(container.id)["ExecIDs"]


def test_exec_socket_half_close_keeps_the_output(docker_client: Any) -> None:
    container = docker_client.containers.run("busybox", ["sleep", "60"], detach=True)
    api = docker_client.api
    exec_id = api.exec_create(container.id, ["sh", "-c", "cat; echo end"], stdin=True)["Id"]
    sock = api.exec_start(exec_id, socket=True)
    raw = sock._sock
    raw.sendall(b"typed\n")
    raw.shutdown(1)  # our stdin ends; the output must still come
    data = b""
    while chunk := raw.recv(4096):
        data += chunk
    raw.close()
    payload = b""
    while data:  # Docker's frames: 8-byte header, then the payload
        size = int.from_bytes(data[4:8], "big")
        assert data[0] == 1
        payload += data[8:8 + size]
        data = data[8 + size:]
    assert payload == b"typed\nend\n"


def test_logs_stats_diff_export_and_archive(docker_client: Any) -> None:
    container = docker_client.containers.run(
        "busybox", ["sh", "-c", "echo first; echo > /tmp/made; sleep 60"], detach=True)
    deadline = time.monotonic() + 30
    while b"first" not in container.logs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert container.logs(stdout=True, stderr=False) == b"first\n"
    assert container.logs(timestamps=True).split(b" ", 1)[1] == b"first\n"
    stats = container.stats(stream=False)
    assert stats["pids_stats"]["current"] >= 1 and stats["memory_stats"]["usage"] > 0
    assert {"Path": "/tmp/made", "Kind": 1} in container.diff()
    exported = b"".join(container.export())
    with tarfile.open(fileobj=io.BytesIO(exported)) as whole:
        names = whole.getnames()
    assert "tmp/made" in names and "bin/busybox" in names
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo("note.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"note\n"))
    assert container.put_archive("/tmp", archive.getvalue())
    chunks, stat = container.get_archive("/tmp/note.txt")
    assert stat["name"] == "note.txt" and stat["size"] == 5
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as got:
        member = got.extractfile("note.txt")
        assert member is not None and member.read() == b"note\n"


def test_prune_removes_stopped_containers_only(docker_client: Any) -> None:
    stopped = docker_client.containers.run("busybox", ["true"], detach=True,
                                           labels={"py-prune": "yes"})
    stopped.wait()
    running = docker_client.containers.run("busybox", ["sleep", "60"], detach=True,
                                           labels={"py-prune": "yes"})
    result = docker_client.containers.prune(filters={"label": "py-prune=yes"})
    assert result["ContainersDeleted"] == [stopped.id]
    running.reload()
    assert running.status == "running"


def test_wait_answers_each_exit_of_a_restarting_container(docker_client: Any) -> None:
    """As dockerd: a container its policy restarts has wait answer at its next exit, and
    it cannot be removed without force while it goes on."""
    api = docker_client.api
    made = api.create_container("busybox", ["sh", "-c", "sleep 1; exit 3"],
                                host_config=api.create_host_config(
                                    restart_policy={"Name": "always"}))
    try:
        api.start(made)
        assert api.wait(made, timeout=30)["StatusCode"] == 3
        with pytest.raises(docker.errors.APIError, match=r"(?i)stop the container before"):
            api.remove_container(made)
    finally:
        api.remove_container(made, force=True)


def test_info_counts_every_image_as_images_all_lists(docker_client: Any) -> None:
    listed = {image["Id"] for image in docker_client.api.images(all=True)}
    assert docker_client.info()["Images"] == len(listed)


def test_the_none_log_driver_keeps_no_output(docker_client: Any) -> None:
    container = docker_client.containers.run("busybox", "echo hello", detach=True,
                                             log_config={"type": "none"})
    try:
        assert container.wait()["StatusCode"] == 0
        assert container.attrs["HostConfig"]["LogConfig"] == {"Type": "none", "Config": {}}
        with pytest.raises(docker.errors.APIError,
                           match="configured logging driver does not support reading"):
            container.logs()
        log = container.attrs["LogPath"]
        assert not log or Path(log).read_bytes() == b""
    finally:
        container.remove(force=True)


def test_rm_link_drops_a_legacy_link_and_keeps_both_containers(docker_client: Any) -> None:
    api = docker_client.api
    linked = api.create_container("busybox", "true", name="apilinked")
    parent = api.create_container("busybox", "true", name="apilinker",
                                  host_config=api.create_host_config(
                                      links={"apilinked": "mylink"}))
    try:
        assert api.inspect_container(parent)["HostConfig"]["Links"]
        api.remove_container("apilinker/mylink", link=True)
        assert not api.inspect_container(parent)["HostConfig"]["Links"]
        assert api.inspect_container(linked)["Id"] == linked["Id"]
        with pytest.raises(docker.errors.NotFound):
            api.remove_container("apilinker/mylink", link=True)
    finally:
        api.remove_container(parent, force=True)
        api.remove_container(linked, force=True)


def test_an_attach_with_logs_gets_the_start_that_comes_while_it_sends_them(
        api_server: ApiServer, docker_client: Any) -> None:
    """The attach waits for its container's start from the moment it is asked, not once
    its logs went out: a start meanwhile (here while the client has not yet read the
    answer's head) hands it the output."""
    api = docker_client.api
    made = api.create_container("busybox", ["echo", "hello"])
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(30)
            sock.connect(str(api_server.socket))
            sock.sendall(f"POST /containers/{made['Id']}/attach?logs=1&stream=1&stdout=1 "
                         "HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                         "Content-Length: 0\r\n\r\n".encode())
            api.start(made)
            received = b""
            while b"hello\n" not in received and (chunk := sock.recv(4096)):
                received += chunk
        assert b"\x01\x00\x00\x00\x00\x00\x00\x06hello\n" in received
    finally:
        api.remove_container(made, force=True)
