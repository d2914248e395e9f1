"""``skiff serve`` as a desktop user who is not root: the socket is theirs alone,
and what its clients do is done as that user, through the installed helper
(real pkexec and polkitd), exactly as the user's own ``skiff`` would."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest

from tests.fixtures.desktopuser import DesktopUser

pytestmark = pytest.mark.root


def test_a_user_s_server_acts_as_that_user(desktop_user: DesktopUser,
                                           user_busybox: str) -> None:
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed")
    runtime = desktop_user.home / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.chown(runtime, desktop_user.uid, desktop_user.gid)
    process = desktop_user.popen(["env", f"XDG_RUNTIME_DIR={runtime}", "skiff", "serve"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sock = runtime / "skiff" / "docker.sock"
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first == f"Serving the Docker Engine API on unix://{sock}\n", (
            first + (process.stderr.read() if process.poll() is not None and process.stderr
                     else ""))
        assert process.stdout.readline() == f"export DOCKER_HOST=unix://{sock}\n"
        info = sock.stat()
        assert (info.st_uid, info.st_mode & 0o777) == (desktop_user.uid, 0o600)
        env = {"DOCKER_HOST": f"unix://{sock}",
               "DOCKER_CONFIG": str(desktop_user.home / ".docker")}
        out = desktop_user.run(["docker", "run", "--rm", user_busybox, "sh", "-c",
                                "echo hello; id -u"], env=env)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[0] == "hello"
        cid = desktop_user.run(["docker", "run", "-d", user_busybox, "sleep", "60"],
                               env=env).stdout.strip()
        try:  # the user's own skiff sees what the server made: one owner, one world
            assert desktop_user.skiff("ps", "-q", check=True).stdout.split() == [cid[:12]]
            owned = desktop_user.installation.helper_root / "users" / str(desktop_user.uid)
            assert (owned / "containers" / cid).is_dir()
        finally:
            desktop_user.run(["docker", "rm", "-f", cid], env=env)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        desktop_user.clean()
    assert not sock.exists()
