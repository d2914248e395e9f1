"""docker's host-option flags of create and run (issues 13 and 15): read as docker reads
them, applied in real containers of root's, and, for a desktop user through the real
pkexec path, never more than that user has on the host."""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from app.cli.hostflags import add_host_flags, host_flags
from app.cli.options import UsageError
from engine.containers.config import DeviceMapping, Ulimit
from engine.helper.runtime.hostlimits import probe_in_namespaces as _probe
from tests.fixtures.cli import skiff
from tests.fixtures.desktopuser import DesktopUser


def _parse(*argv: str) -> dict[str, Any]:
    parser = argparse.ArgumentParser(add_help=False)
    add_host_flags(parser)
    return host_flags(parser.parse_args(list(argv)))


def test_flags_make_docker_s_host_config() -> None:
    found = _parse("--dns", "192.0.2.53", "--dns-search", "example.test", "--dns-opt",
                   "ndots:2", "--add-host", "db=192.0.2.10", "--cap-add", "net_admin",
                   "--cap-drop", "ALL", "--init", "--read-only", "--shm-size", "128m",
                   "--ulimit", "nofile=512:1024", "--sysctl", "net.ipv4.ip_forward=1",
                   "-c", "512", "--device", "/dev/fuse:/dev/f:r")
    assert found["dns"] == ["192.0.2.53"] and found["dns_search"] == ["example.test"]
    assert found["dns_options"] == ["ndots:2"] and found["extra_hosts"] == ["db:192.0.2.10"]
    assert found["cap_add"] == ["net_admin"] and found["cap_drop"] == ["ALL"]
    assert found["init"] is True and found["read_only"] is True
    assert found["shm_size"] == 128 << 20 and found["cpu_shares"] == 512
    assert found["ulimits"] == [Ulimit("nofile", 512, 1024)]
    assert found["sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert found["devices"] == [DeviceMapping("/dev/fuse", "/dev/f", "r")]
    plain = _parse()
    assert plain["init"] is None and plain["ulimits"] == [] and plain["cpu_shares"] is None


@pytest.mark.parametrize(("argv", "message"), [
    (("--ulimit", "nofile"), 'invalid argument "nofile" for "--ulimit" flag'),
    (("--add-host", "db"), "bad format for add-host"),
    (("--sysctl", "vm.swappiness=1"), "sysctl 'vm.swappiness' is not allowed"),
    (("-c", "lots"), 'invalid argument "lots" for "-c, --cpu-shares" flag'),
    (("--shm-size", "big"), 'for "--shm-size" flag'),
])
def test_bad_flags_say_what_is_wrong(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _parse(*argv)


@pytest.mark.root
def test_run_with_host_flags_as_root(busybox_image: str) -> None:
    script = ("grep nameserver /etc/resolv.conf; grep -w db /etc/hosts; ulimit -Hn; "
              "cat /proc/sys/kernel/msgmax; cat /proc/1/cmdline | tr '\\0' ' '; echo; "
              "touch /x 2>&1; ip link set lo mtu 1400 && echo net-admin")
    out = skiff("run", "--rm", "--dns", "192.0.2.53", "--add-host", "db:192.0.2.10",
                "--ulimit", "nofile=100:200", "--sysctl", "kernel.msgmax=4096", "--init",
                "--read-only", "--cap-add", "NET_ADMIN", "--network", "none", busybox_image,
                "sh", "-c", script)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:4] == ["nameserver 192.0.2.53", "192.0.2.10\tdb", "200", "4096"], out.stdout
    assert lines[4].startswith("skiff-init -- sh -c"), out.stdout
    assert "Read-only file system" in out.stdout and "net-admin" in out.stdout
    refused = skiff("run", "--rm", "--mac-address", "02:42:ac:11:00:09", "--network", "none",
                    busybox_image, "true")
    assert refused.returncode == 125 and "mac-address and the network mode" in refused.stderr


@pytest.mark.root
def test_group_add_joins_groups_by_name_and_by_id(busybox_image: str) -> None:
    out = skiff("run", "--rm", "--group-add", "app", "--group-add", "2000", "--network",
                "none", busybox_image, "id", "-G")
    assert out.stdout.split() == ["0", "1000", "2000"], out.stderr
    missing = skiff("run", "--rm", "--group-add", "nosuch", "--network", "none",
                    busybox_image, "true")
    assert missing.returncode != 0
    assert "Unable to find group nosuch" in missing.stderr


# -- a desktop user, through the real pkexec --------------------------------------------

@pytest.fixture
def user(desktop_user: DesktopUser, user_busybox: str) -> Iterator[DesktopUser]:
    yield desktop_user
    desktop_user.clean()


def _run(user: DesktopUser, *flags: str, script: str) -> subprocess.CompletedProcess[str]:
    return user.skiff("run", "--rm", *flags, "busybox", "sh", "-c", script)


@pytest.mark.root
def test_a_user_s_capabilities_hold_only_in_the_container(user: DesktopUser) -> None:
    # SYS_ADMIN added: mounting still fails (the mount namespace is root's, not the
    # container's user namespace's), and the host is untouched
    out = _run(user, "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
               script="grep CapEff /proc/self/status; mkdir -p /m; "
                      "mount -t tmpfs none /m 2>&1 && echo MOUNTED; "
                      "ip link set lo mtu 1400 2>&1 && echo NETADMIN; "
                      "hostname evil 2>&1 && echo RENAMED; true")
    assert out.returncode == 0, out.stderr
    effective = int(out.stdout.split()[1], 16)
    assert effective & (1 << 21) and effective & (1 << 12)  # SYS_ADMIN, NET_ADMIN
    for done in ("MOUNTED", "NETADMIN", "RENAMED"):
        assert done not in out.stdout, out.stdout
    assert out.stdout.count("not permitted") + out.stdout.count("denied") >= 3, out.stdout
    assert os.uname().nodename != "evil"
    dropped = _run(user, "--cap-drop", "ALL", script="chown 1 /tmp 2>&1; true")
    assert "not permitted" in dropped.stdout, dropped.stdout


@pytest.mark.root
def test_a_user_s_ulimits_stop_at_their_own(user: DesktopUser) -> None:
    out = _run(user, "--ulimit", "nofile=64:128", script="ulimit -Hn; ulimit -n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["128", "64"]
    # the user's own hard limit, as their session has it (their helper inherits it)
    own = user.run(["sh", "-c", "ulimit -Hn"], check=True).stdout.strip()
    if own == "unlimited":
        pytest.skip("the user's hard limit of open files is unlimited")
    hard = int(own)
    above = _run(user, "--ulimit", f"nofile={hard + 1}:{hard + 1}", script="true")
    assert above.returncode != 0 and "above yours" in above.stderr, above.stderr


@pytest.mark.root
def test_a_user_s_sysctls_are_their_namespaces_own(user: DesktopUser) -> None:
    out = _run(user, "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.msgmax=4096",
               script="cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "4096"]
    host_net = _run(user, "--network", "host", "--sysctl", "net.ipv4.ip_forward=0",
                    script="true")
    assert host_net.returncode != 0 and "host's network namespace" in host_net.stderr
    global_one = _run(user, "--sysctl", "kernel.panic=1", script="true")
    assert global_one.returncode != 0 and "is not allowed" in global_one.stderr
    # one the kernel keeps from namespaces a user owns (hidden there since Linux 4.x)
    hidden = "net.core.xfrm_acq_expires"
    if _probe([hidden])[hidden]:
        pytest.skip(f"this kernel lets a user's namespaces set {hidden}")
    kept = _run(user, "--sysctl", f"{hidden}=30", script="true")
    assert kept.returncode != 0, kept.stdout
    assert "does not let a user set it" in kept.stderr, kept.stderr


@pytest.mark.root
def test_a_user_gets_only_devices_they_can_open(user: DesktopUser) -> None:
    import stat

    nodes = user.home / "nodes"
    nodes.mkdir()
    try:
        os.chown(nodes, user.uid, user.gid)
        theirs, roots = nodes / "theirs", nodes / "roots"
        for node, owner in ((theirs, user.uid), (roots, 0)):
            os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
            os.chown(node, owner, owner)
        out = _run(user, "--device", f"{theirs}:/dev/mine",
                   script="echo hi > /dev/mine && echo wrote; wc -c < /dev/mine")
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["wrote", "0"]
        refused = _run(user, "--device", f"{roots}:/dev/mine", script="true")
        assert refused.returncode != 0
        assert "you may not read device" in refused.stderr, refused.stderr
        # read-only on the user's terms: a node they may only read gets no write check
        os.chmod(theirs, 0o400)
        reading = _run(user, "--device", f"{theirs}:/dev/mine:r", script="wc -c < /dev/mine")
        assert reading.returncode == 0, reading.stderr
        writing = _run(user, "--device", f"{theirs}:/dev/mine:rw", script="true")
        assert "you may not write device" in writing.stderr, writing.stderr
    finally:
        import shutil

        shutil.rmtree(nodes)


@pytest.mark.root
def test_a_user_s_mac_address_is_theirs_alone(user: DesktopUser) -> None:
    mac = "02:42:0a:0b:0c:0d"
    started = user.skiff("run", "-d", "--mac-address", mac, "busybox", "sleep", "600")
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    try:
        out = user.skiff("exec", cid, "cat", "/sys/class/net/eth0/address")
        assert out.stdout.strip() == mac, out.stderr
        inspect = user.skiff("inspect", "-f", "{{.NetworkSettings.MacAddress}}", cid)
        assert inspect.stdout.strip() == mac
        # on the bridge every user shares, nobody else may take it, nor a multicast one
        again = _run(user, "--mac-address", mac, script="true")
        assert again.returncode != 0 and "already in use" in again.stderr, again.stderr
        group = _run(user, "--mac-address", "03:42:0a:0b:0c:0d", script="true")
        assert group.returncode != 0 and "unicast" in group.stderr, group.stderr
    finally:
        user.skiff("rm", "-f", cid)


@pytest.mark.root
def test_a_user_s_container_with_init_read_only_and_etc_options(user: DesktopUser) -> None:
    script = ("cat /proc/1/cmdline | tr '\\0' ' '; echo; grep -c CapEff /proc/1/status; "
              "grep nameserver /etc/resolv.conf; grep -w db /etc/hosts; touch /x 2>&1; "
              "df -k /dev/shm | tail -1; (sleep 0 & echo $! > /tmp/o); o=$(cat /tmp/o); "
              "for i in $(seq 200); do [ -e /proc/$o ] || break; sleep 0.05; done; "
              "[ -e /proc/$o ] && echo ZOMBIE; exit 3")
    out = _run(user, "--init", "--read-only", "--tmpfs", "/tmp", "--dns", "192.0.2.53",
               "--add-host", "db:192.0.2.10", "--shm-size", "8m", "-c", "512",
               script=script)
    assert out.returncode == 3, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("skiff-init -- sh -c"), out.stdout
    assert "nameserver 192.0.2.53" in lines and "192.0.2.10\tdb" in lines
    assert "Read-only file system" in out.stdout and "ZOMBIE" not in out.stdout
    assert str(8 * 1024) in out.stdout.split()
    stopped = user.skiff("run", "-d", "--init", "busybox", "sleep", "600")
    assert stopped.returncode == 0, stopped.stderr
    cid = stopped.stdout.strip()
    try:
        assert user.skiff("stop", "-t", "30", cid).returncode == 0
        code = user.skiff("inspect", "-f", "{{.State.ExitCode}}", cid).stdout.strip()
        assert code == "143"  # the reaper passed SIGTERM on to sleep
    finally:
        user.skiff("rm", "-f", cid)


def test_update_takes_cpu_shares() -> None:
    from app.cli.update import _b_update, update_changes

    parser = argparse.ArgumentParser(add_help=False)
    _b_update(parser)
    assert update_changes(parser.parse_args(["-c", "512", "x"])) == {"cpu_shares": 512}
    with pytest.raises(UsageError, match='for "-c, --cpu-shares" flag'):
        update_changes(parser.parse_args(["--cpu-shares", "many", "x"]))
