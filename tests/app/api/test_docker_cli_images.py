"""The real docker CLI (28.x) against ``skiff serve``: images, pull/push with the
local registry, save/load, network, volume, system df, login."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.registry import PASSWORD, USER, LocalRegistry

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def docker(docker_cli):  # type: ignore[no-untyped-def]
    def run(*args: str, check: bool = True, input: bytes | None = None
            ) -> subprocess.CompletedProcess[str]:
        done = docker_cli(*args, input=input.decode() if input else None, timeout=240)
        if check and done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr}")
        return done
    return run


def test_images_inspect_history(docker) -> None:  # type: ignore[no-untyped-def]
    listed = docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout
    assert "busybox:latest" in listed
    out = docker("image", "inspect", "busybox", "--format", "{{.Os}} {{.Id}}").stdout
    assert out.startswith("linux sha256:")
    assert docker("history", "-q", "busybox").stdout.strip()
    missing = docker("image", "inspect", "nosuch:1", check=False)
    assert missing.returncode == 1 and "No such image: nosuch:1" in missing.stderr
    assert docker("images", "-q", "--filter", "dangling=true").returncode == 0


def test_tag_rmi_save_load(docker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docker("tag", "busybox", "apicli/copy:1")
    assert "apicli/copy" in docker("images", "apicli/copy", "--format",
                                   "{{.Repository}}").stdout
    archive = tmp_path / "saved.tar"
    docker("save", "-o", str(archive), "apicli/copy:1", "busybox:latest")
    assert archive.stat().st_size > 0
    removed = docker("rmi", "apicli/copy:1").stdout
    assert "Untagged: apicli/copy:1" in removed
    loaded = docker("load", "-i", str(archive)).stdout
    assert "Loaded image: apicli/copy:1" in loaded
    docker("rmi", "apicli/copy:1")


def test_pull_push_and_login(docker, plain_registry: LocalRegistry,  # type: ignore[no-untyped-def]
                             basic_registry: LocalRegistry) -> None:
    image = f"{plain_registry.host}/test/busybox:1.1"
    docker("rmi", image, check=False)  # another test of the session may have pulled it
    pulled = docker("pull", image)
    assert "Digest: sha256:" in pulled.stdout and "Downloaded newer image" in pulled.stdout
    assert "Image is up to date" in docker("pull", image).stdout
    target = f"{basic_registry.host}/apicli/pushed:1"
    docker("tag", image, target)
    logged_in = False
    try:
        refused = docker("push", target, check=False)
        assert refused.returncode != 0
        bad = docker("login", basic_registry.host, "-u", USER, "--password-stdin",
                     input=b"wrong\n", check=False)
        assert bad.returncode != 0
        docker("login", basic_registry.host, "-u", USER, "--password-stdin",
               input=PASSWORD.encode() + b"\n")
        logged_in = True
        pushed = docker("push", target)
        assert "digest: sha256:" in pushed.stdout
        docker("rmi", target)
        docker("pull", target)
    finally:
        docker("rmi", "-f", target, check=False)
        docker("rmi", image, check=False)
        if logged_in:  # skiff keeps what /auth checked: forget it again
            docker("logout", basic_registry.host)
            subprocess.run([sys.executable, "-m", "app.cli", "logout", basic_registry.host],
                           check=True, capture_output=True, cwd=REPO)
    failed = docker("pull", f"{plain_registry.host}/test/nosuch:1", check=False)
    assert failed.returncode == 1 and failed.stderr.strip()


def test_network_and_volume_commands(docker) -> None:  # type: ignore[no-untyped-def]
    docker("network", "create", "--subnet", "10.231.9.0/24", "--label", "k=v", "apicli-net")
    try:
        names = docker("network", "ls", "--format", "{{.Name}}").stdout.split()
        assert {"bridge", "host", "none", "apicli-net"} <= set(names)
        labelled = docker("network", "ls", "-q", "--filter", "label=k=v").stdout.split()
        assert len(labelled) == 1
        doc = json.loads(docker("network", "inspect", "apicli-net").stdout)
        assert doc[0]["IPAM"]["Config"][0]["Subnet"] == "10.231.9.0/24"
        again = docker("network", "create", "apicli-net", check=False)
        assert again.returncode == 1 and "already exists" in again.stderr
    finally:
        docker("network", "rm", "apicli-net")
    docker("volume", "create", "--label", "k=v", "apicli-vol")
    try:
        assert "apicli-vol" in docker("volume", "ls", "-q", "--filter", "label=k=v").stdout
        doc = json.loads(docker("volume", "inspect", "apicli-vol").stdout)
        assert doc[0]["Labels"] == {"k": "v"}
    finally:
        docker("volume", "rm", "apicli-vol")
    gone = docker("volume", "inspect", "apicli-vol", check=False)
    assert gone.returncode == 1 and "no such volume" in gone.stderr


def test_system_df(docker) -> None:  # type: ignore[no-untyped-def]
    table = docker("system", "df").stdout
    assert table.startswith("TYPE") and "Images" in table and "Local Volumes" in table
    docker("create", "--name", "apicli-df", "busybox", "true")
    verbose = docker("system", "df", "-v").stdout
    assert "busybox" in verbose and "apicli-df" in verbose and "Created" in verbose


def test_connect_prune_and_search(docker, plain_registry: LocalRegistry  # type: ignore[no-untyped-def]
                                  ) -> None:
    docker("network", "create", "apicli-extra")
    try:
        docker("create", "--name", "apicli-joined", "busybox", "sleep", "60")
        docker("network", "connect", "--alias", "extra", "apicli-extra", "apicli-joined")
        docker("start", "apicli-joined")
        networks = json.loads(docker("inspect", "--format",
                                     "{{json .NetworkSettings.Networks}}",
                                     "apicli-joined").stdout)
        assert set(networks) == {"bridge", "apicli-extra"}
        assert networks["apicli-extra"]["IPAddress"]
        docker("network", "disconnect", "apicli-extra", "apicli-joined")
        docker("rm", "-f", "apicli-joined")
        pruned = docker("network", "prune", "-f").stdout
        assert "apicli-extra" in pruned
    finally:
        docker("network", "rm", "apicli-extra", check=False)
    docker("volume", "create", "apicli-pruned")
    assert "apicli-pruned" in docker("volume", "prune", "-a", "-f").stdout
    assert docker("image", "prune", "-f").returncode == 0
    found = docker("search", f"{plain_registry.host}/test/busy", "--format",
                   "{{.Name}}").stdout.split()
    assert f"{plain_registry.host}/test/busybox" in found
