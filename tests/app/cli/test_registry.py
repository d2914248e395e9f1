"""``skiff pull/push/login/logout/search/image tags`` against real local registries.

The CLI runs as a subprocess with the session's SKIFF_ROOT and a private HOME
and XDG directories, so stored credentials never touch the user's own.
"""

from __future__ import annotations

import json
import os
import pty
import re
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures import cli
from tests.fixtures.registry import PASSWORD, USER, LocalRegistry, skopeo_inspect
from tests.fixtures.terminal import read_until_closed

pytestmark = pytest.mark.root

Skiff = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def skiff(busybox_image: str, skiff_root: Path, tmp_path: Path) -> Iterator[Skiff]:
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_RUNTIME_DIR=str(home / "run"))
    (home / "run").mkdir(parents=True)

    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return cli.skiff(*args, input=input, env=env)

    before = set(run("images", "-q", "--no-trunc").stdout.split())
    containers = set(run("ps", "-aq").stdout.split())
    yield run
    leftover = set(run("ps", "-aq").stdout.split()) - containers
    if leftover:
        run("rm", "-f", *sorted(leftover))
    for image in set(run("images", "-q", "--no-trunc").stdout.split()) - before:
        run("rmi", "-f", image)


def test_pull_plain_lines_then_up_to_date(skiff: Skiff, plain_registry: LocalRegistry) -> None:
    ref = f"{plain_registry.host}/test/busybox:1.0"
    first = skiff("pull", ref)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "1.0: Pulling from test/busybox"
    # (Blobs an earlier test pulled are already in the store.)
    assert any(re.fullmatch(r"[0-9a-f]{12}: (Pull complete|Already exists)", line)
               for line in lines)
    assert "\x1b[" not in first.stdout  # not a terminal: no redrawing
    assert not any("Downloading [" in line for line in lines)  # nor byte counts
    assert re.fullmatch(r"Digest: sha256:[0-9a-f]{64}", lines[-3])
    assert lines[-2] == f"Status: Downloaded newer image for {ref}"
    assert lines[-1] == ref
    listed = skiff("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert ref in listed
    image_id = skiff("images", "-q", ref).stdout.strip()
    assert image_id and not any(line.startswith(image_id) for line in lines)  # no config line
    again = skiff("pull", ref)
    assert again.stdout.splitlines()[-2] == f"Status: Image is up to date for {ref}"
    quiet = skiff("pull", "-q", ref)
    assert quiet.stdout == ref + "\n"


def test_pull_default_tag_and_errors(skiff: Skiff, plain_registry: LocalRegistry) -> None:
    pulled = skiff("pull", f"{plain_registry.host}/test/busybox")
    assert pulled.stdout.startswith("Using default tag: latest\n"
                                    "latest: Pulling from test/busybox\n")
    missing = skiff("pull", f"{plain_registry.host}/test/busybox:nosuchtag")
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr
    assert missing.stderr.startswith("Error response from daemon: ")
    assert len(missing.stderr.splitlines()) == 1
    assert "nosuchtag" in missing.stderr


def test_run_pulls_a_missing_image(skiff: Skiff, plain_registry: LocalRegistry) -> None:
    ref = f"{plain_registry.host}/test/busybox:1.1"
    result = skiff("run", "--rm", ref, "echo", "pulled")
    assert (result.returncode, result.stdout) == (0, "pulled\n"), result.stderr
    errors = result.stderr.splitlines()
    assert errors[0] == f"Unable to find image '{ref}' locally"
    assert errors[1] == "1.1: Pulling from test/busybox"
    assert errors[-1] == f"Status: Downloaded newer image for {ref}"


def test_login_logout(skiff: Skiff, make_registry: Callable[..., LocalRegistry],
                      tmp_path: Path) -> None:
    registry = make_registry("htpasswd")
    wrong = skiff("login", "-u", USER, "--password-stdin", registry.host, input="nope\n")
    assert wrong.returncode == 1
    assert "Traceback" not in wrong.stderr
    assert len(wrong.stderr.splitlines()) == 1
    no_tty = skiff("login", registry.host, input="")
    assert no_tty.returncode == 1
    assert "non TTY" in no_tty.stderr
    needs_user = skiff("login", "--password-stdin", registry.host, input=PASSWORD)
    assert needs_user.returncode == 1 and "--username" in needs_user.stderr
    right = skiff("login", "-u", USER, "--password-stdin", registry.host,
                  input=PASSWORD + "\n")
    assert (right.returncode, right.stdout) == (0, "Login Succeeded\n"), right.stderr
    auth = tmp_path / "home" / ".config" / "skiff" / "auth.json"
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert registry.host in json.loads(auth.read_text())["auths"]
    warned = skiff("login", "-u", USER, "-p", PASSWORD, registry.host)
    assert warned.returncode == 0
    assert "--password-stdin" in warned.stderr  # docker's warning about -p
    out = skiff("logout", registry.host)
    assert out.stdout == f"Removing login credentials for {registry.host}\n"
    assert registry.host not in json.loads(auth.read_text()).get("auths", {})


def test_push_and_tags_and_search(skiff: Skiff,
                                  make_registry: Callable[..., LocalRegistry]) -> None:
    registry = make_registry()
    target = f"{registry.host}/cli/pushed:1"
    assert skiff("tag", "busybox", target).returncode == 0
    pushed = skiff("push", target)
    assert pushed.returncode == 0, pushed.stderr
    lines = pushed.stdout.splitlines()
    assert lines[0] == f"The push refers to repository [{registry.host}/cli/pushed]"
    assert any(re.fullmatch(r"[0-9a-f]{12}: Pushed", line) for line in lines)
    image_id = skiff("images", "-q", target).stdout.strip()
    assert image_id and not any(line.startswith(image_id) for line in lines)  # no config line
    match = re.fullmatch(r"1: digest: (sha256:[0-9a-f]{64})", lines[-1])
    assert match, lines[-1]
    assert skopeo_inspect(registry, target)["Digest"] == match.group(1)
    assert skiff("tag", "busybox", f"{registry.host}/cli/pushed:2").returncode == 0
    assert skiff("push", "-q", f"{registry.host}/cli/pushed:2").returncode == 0
    assert skiff("image", "tags", f"{registry.host}/cli/pushed").stdout.split() == ["1", "2"]
    found = skiff("search", f"{registry.host}/pushed")
    header, *rows = found.stdout.splitlines()
    assert header.split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]
    assert [row.split()[0] for row in rows] == [f"{registry.host}/cli/pushed"]
    named = skiff("search", "--format", "{{.Name}}", f"{registry.host}/nothing-like-it")
    assert (named.returncode, named.stdout) == (0, "")


def test_run_never_says_using_default_tag(skiff: Skiff, plain_registry: LocalRegistry) -> None:
    """docker's CLI says "Using default tag" for pull only; run pulls without it."""
    ref = f"{plain_registry.host}/test/busybox"
    for policy in ("missing", "always", "always"):  # pulled, then present and pulled again
        result = skiff("run", "--rm", "--pull", policy, ref, "true")
        assert result.returncode == 0, result.stderr
        assert "Using default tag" not in result.stderr
        if policy == "always":
            assert result.stderr.startswith("latest: Pulling from test/busybox\n")
    assert "Using default tag" not in skiff("run", "--rm", ref, "true").stderr


def test_one_image_id_one_size_however_it_came(skiff: Skiff, plain_registry: LocalRegistry,
                                               busybox_docker_archive: Path,
                                               busybox_oci_archive: Path) -> None:
    """Loaded from plain tars, pulled gzip-compressed, loaded from an OCI archive: the
    same image ID shows the same SIZE (the layers' files), in images and inspect."""
    ref = f"{plain_registry.host}/test/busybox:1.0"

    def sizes() -> set[str]:
        rows = skiff("images", "--format", "{{.ID}} {{.Size}}").stdout.splitlines()
        return {row.split()[1] for row in rows if row.startswith(image_id)}

    def inspected() -> str:
        return skiff("image", "inspect", "-f", "{{.Size}}", image_id).stdout.strip()

    assert skiff("load", "-i", str(busybox_docker_archive)).returncode == 0
    image_id = skiff("images", "-q", "busybox:latest").stdout.strip()
    loaded, loaded_bytes = sizes(), inspected()
    assert len(loaded) == 1 and int(loaded_bytes) > 0
    assert skiff("pull", ref).returncode == 0
    assert skiff("images", "-q", ref).stdout.strip() == image_id
    assert (sizes(), inspected()) == (loaded, loaded_bytes)
    assert skiff("load", "-i", str(busybox_oci_archive)).returncode == 0
    assert (sizes(), inspected()) == (loaded, loaded_bytes)
    # Back to the plain tars the session started with (the gzip blobs go again).
    assert skiff("load", "-i", str(busybox_docker_archive)).returncode == 0


def test_layers_umoci_insert_wrote_load_and_pull(skiff: Skiff, inserted_oci: Path,
                                                 inserted_docker_archive: Path,
                                                 make_registry: Callable[..., LocalRegistry]
                                                 ) -> None:
    """umoci insert's layer ends right after its file's data (no padding, no zero blocks):
    docker loads and pulls it, and so does Skiff."""
    loaded = skiff("load", "-i", str(inserted_docker_archive))
    assert (loaded.returncode, loaded.stdout) == (0, "Loaded image: inserted:latest\n"), \
        loaded.stderr
    ran = skiff("run", "--rm", "inserted", "cat", "/hello.txt")
    assert (ran.returncode, ran.stdout) == (0, "hello\n"), ran.stderr
    assert skiff("rmi", "inserted").returncode == 0
    registry = make_registry()
    registry.push(inserted_oci, "latest", "test/inserted")
    ref = f"{registry.host}/test/inserted:latest"
    pulled = skiff("pull", ref)
    assert pulled.returncode == 0, pulled.stderr
    ran = skiff("run", "--rm", ref, "cat", "/hello.txt")
    assert (ran.returncode, ran.stdout) == (0, "hello\n"), ran.stderr


def test_an_interactive_login_hides_the_password_without_a_controlling_terminal(
        make_registry: Callable[..., LocalRegistry], busybox_image: str, tmp_path: Path) -> None:
    """As a command the user's skiff server runs has it: a terminal on its streams but
    none of its own (no /dev/tty: the prompt turns the echo off on standard input)."""
    registry = make_registry("htpasswd")
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    leader, follower = pty.openpty()
    process = subprocess.Popen([*cli.COMMAND, "login", "-u", USER, registry.host], env=env,
                               cwd=cli.REPO, stdin=follower, stdout=follower, stderr=follower,
                               start_new_session=True)  # a session with no terminal
    os.close(follower)
    seen = b""
    try:
        while b"Password: " not in seen:
            seen += os.read(leader, 1024)
        os.write(leader, PASSWORD.encode() + b"\n")
        seen += read_until_closed(leader)
        assert process.wait(60) == 0, seen
    finally:
        os.close(leader)
    assert b"Login Succeeded" in seen and PASSWORD.encode() not in seen, seen
