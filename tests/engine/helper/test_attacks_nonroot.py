"""The attacks of issue 10, run by a desktop user through the real pkexec path.

Each one was found to give an authorised non-root user root's power on the
host; each must now be refused (or be harmless), and the host unchanged. The
user is the harness's (tests/fixtures/desktopuser.py): Skiff installed by its
own ``make install``, polkitd, a rule for that user, ``runuser``. The checks
also look from inside the user's container: not the identity uid map,
seccomp in filter mode, no new user namespace, files on the host the user's.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.desktopuser import DesktopUser

pytestmark = pytest.mark.root

SECRET = "root's secret\n"


@pytest.fixture
def user(desktop_user: DesktopUser, user_busybox: str) -> Iterator[DesktopUser]:
    """The desktop user, with every container they made removed afterwards."""
    yield desktop_user
    desktop_user.clean()


@pytest.fixture
def data(user: DesktopUser) -> Iterator[Path]:
    """A directory of the user's with a root-only directory inside (as /root is)."""
    top = user.home / "data"
    top.mkdir()
    os.chown(top, user.uid, user.gid)
    private = top / "rootonly"
    private.mkdir(mode=0o700)
    (private / "secret").write_text(SECRET)
    (private / "secret").chmod(0o600)
    yield top
    shutil.rmtree(top)


def in_container(user: DesktopUser, *args: str, script: str) -> subprocess.CompletedProcess[str]:
    """``skiff run --rm [ARGS] busybox sh -c SCRIPT`` as the user."""
    return user.skiff("run", "--rm", *args, "busybox", "sh", "-c", script)


def refused(out: subprocess.CompletedProcess[str]) -> None:
    assert out.returncode != 0, out.stdout
    assert "Traceback" not in out.stderr, out.stderr


# -- 1. bind mounts the kernel checks --------------------------------------------------

def test_a_read_only_etc_does_not_give_away_shadow(user: DesktopUser) -> None:
    out = in_container(user, "-v", "/etc:/x:ro", script="cat /x/shadow")
    refused(out)
    assert "root:" not in out.stdout


def test_read_only_is_recursive(user: DesktopUser) -> None:
    script = ("for d in /host/proc /host/sys /host/dev /host/tmp /host/run; do "
              "touch $d/skiff-attack 2>/dev/null && echo WROTE $d; done; "
              "grep ' /host' /proc/mounts | grep -v ' ro[, ]' | head -3; true")
    out = in_container(user, "-v", "/:/host:ro", script=script)
    assert out.returncode == 0, out.stderr
    assert "WROTE" not in out.stdout and out.stdout.strip() == "", out.stdout
    assert not Path("/tmp/skiff-attack").exists()


def test_cp_from_a_created_container_reads_as_the_user(user: DesktopUser, data: Path) -> None:
    created = user.skiff("create", "-v", f"{data}:/x", "busybox", "true", check=True)
    cid = created.stdout.strip()
    out = user.skiff("cp", f"{cid}:/x/rootonly/secret", "-")
    refused(out)
    assert SECRET.strip() not in out.stdout


def test_a_symlink_swapped_in_before_start_changes_nothing(user: DesktopUser,
                                                           data: Path) -> None:
    source = data / "mounted"
    source.mkdir()
    os.chown(source, user.uid, user.gid)
    created = user.skiff("create", "-v", f"{source}:/x", "busybox", "cat", "/x/secret",
                         check=True)
    cid = created.stdout.strip()
    source.rmdir()
    source.symlink_to(data / "rootonly")  # what the user could do in their own directory
    os.lchown(source, user.uid, user.gid)
    started = user.skiff("start", "-a", cid)
    assert SECRET.strip() not in started.stdout
    refused(started)


# -- 2. no setuid-root file on the host ------------------------------------------------

def test_files_container_root_makes_in_a_bind_are_the_users(user: DesktopUser,
                                                            data: Path) -> None:
    script = ("cp /bin/busybox /x/sh && chown 0:0 /x/sh && chmod 4755 /x/sh && "
              "touch /x/made && id -u")
    out = in_container(user, "-v", f"{data}:/x", script=script)
    assert out.returncode == 0 and out.stdout.strip() == "0", out.stderr
    for name in ("sh", "made"):
        st = os.stat(data / name)
        assert (st.st_uid, st.st_gid) == (user.uid, user.gid), name
    assert os.stat(data / "sh").st_uid != 0  # setuid, but to the user themselves


def test_a_named_volume_holds_nothing_setuid_root(user: DesktopUser) -> None:
    script = "cp /bin/busybox /v/sh && chown 0:0 /v/sh && chmod 4755 /v/sh"
    out = in_container(user, "-v", "attackvol:/v", script=script)
    assert out.returncode == 0, out.stderr
    try:
        found = list((user.installation.helper_root / "users").rglob("attackvol"))
        assert found, "the volume's host directory"
        for path in found[0].rglob("*"):
            st = os.lstat(path)
            assert not (st.st_uid == 0 and st.st_mode & stat.S_ISUID), path
        nobody = subprocess.run(["runuser", "-u", "nobody", "--", "ls", str(found[0])],
                                capture_output=True, text=True)
        assert nobody.returncode != 0, "another user reached the volume"
    finally:
        user.skiff("volume", "rm", "attackvol")


# -- 3. devices --------------------------------------------------------------------------

def test_a_made_device_node_cannot_be_opened(user: DesktopUser) -> None:
    script = ("mknod /dev/l0 b 7 0 2>&1; head -c 24 /dev/l0 > /dev/null && echo READ; "
              "mknod /tmp/l0 b 7 0 2>&1; head -c 24 /tmp/l0 > /dev/null && echo READ; "
              "head -c 1 /dev/zero > /dev/null && echo ZERO")
    out = in_container(user, script=script)
    assert "READ" not in out.stdout and "ZERO" in out.stdout, out.stdout


# -- 5. private state ----------------------------------------------------------------------

def test_another_user_reads_nothing_of_the_users_containers(user: DesktopUser) -> None:
    created = user.skiff("run", "-d", "-e", "TOKEN=hunter2", "busybox", "sh", "-c",
                         "echo logged-secret; sleep 60", check=True)
    cid = created.stdout.strip()
    state = user.installation.helper_root / "users" / str(user.uid) / "containers" / cid
    for name in ("spec.json", "status.json", "ctr.log"):
        out = subprocess.run(["runuser", "-u", "nobody", "--", "cat", str(state / name)],
                             capture_output=True, text=True)
        assert out.returncode != 0 and "hunter2" not in out.stdout, name
        assert "logged-secret" not in out.stdout
    inspected = user.skiff("inspect", "--format", "{{.Config.Env}}", cid, check=True)
    assert "TOKEN=hunter2" in inspected.stdout  # the owner still reads their own


# -- 6. networks -------------------------------------------------------------------------

def test_network_rules_for_a_user(user: DesktopUser) -> None:
    refused(user.skiff("network", "create", "--subnet", "8.8.8.0/24", "hijack"))
    out = user.skiff("run", "--rm", "-p", "80:80", "busybox", "true")
    refused(out)
    assert "80" in out.stderr
    host_net = in_container(user, "--network", "host", script="ip link set lo down")
    refused(host_net)
    assert (Path("/sys/class/net/lo/operstate").read_text().strip() in ("unknown", "up"))


# -- 7. seccomp and the user namespace, seen from inside ----------------------------------

def test_inside_the_users_container(user: DesktopUser) -> None:
    script = ("cat /proc/self/uid_map; grep Seccomp: /proc/self/status; "
              "unshare -U -r true && echo UNSHARED; id -u")
    out = in_container(user, script=script)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    first = lines[0].split()
    assert first[:2] == ["0", str(user.uid)], "container root is the user"
    assert "0 0 4294967295" not in " ".join(lines[0].split()), "not the identity map"
    assert "Seccomp:\t2" in out.stdout
    assert "UNSHARED" not in out.stdout
    assert lines[-2] == "0"


# -- 8. shared layers: tests/engine/helper/test_layerrefs.py (two users on one helper) ---

# -- 10. what pkexec runs --------------------------------------------------------------

def test_the_helper_runs_code_only_root_can_change(user: DesktopUser) -> None:
    installation = user.installation
    for path in (installation.helper, *installation.prefix.rglob("engine/helper/*.py")):
        for part in (path, *path.parents):
            st = os.stat(part)
            assert st.st_uid == 0 and not st.st_mode & 0o022, part
