"""What a running container costs in memory: its monitor's USS and PSS, and the helper's.

    .venv/bin/python benchmarks/monitor_memory.py [--containers 50] [--cycles 200]

Starts the containers (busybox ``sleep``, no network, on a private SKIFF_ROOT)
and prints the median USS (memory no other process shares) and PSS (shared
pages split between their users) of their monitors, read from
/proc/PID/smaps_rollup, beside those of the conmons of as many podman
containers started alongside in a private podman root (podman runs them with
runc: its crun refuses this host's hybrid cgroups), and of containerd-shim when
docker containers run on this machine. Then it creates, starts and removes
``--cycles`` more containers one by one and prints the helper's USS before and
after: it must stay flat. Removes everything afterwards. Needs root.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sleepers import busybox_world, remove_all, start_sleepers  # noqa: E402

PEERS = ("conmon", "containerd-shim", "containerd-shim-runc-v2")


def memory(pid: int) -> tuple[int, int]:
    """(USS, PSS) in KiB, from the kernel's rollup of the process's mappings."""
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    return fields["Private_Clean"] + fields["Private_Dirty"], fields["Pss"]


def parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def helper_pid() -> int:
    """Our helper: the parent of its zygote, both running ``engine.helper`` for our root."""
    root = os.environ["SKIFF_ROOT"].encode()
    ours = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if b"engine.helper" in cmdline and b"SKIFF_ROOT=" + root in environ:
            ours.add(int(entry))
    for pid in ours:
        if parent(pid) not in ours:
            return pid
    raise RuntimeError("the helper is not running")


def peers() -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            if comm in PEERS:
                found.setdefault(comm, []).append(memory(int(entry)))
        except (OSError, ValueError, KeyError):  # KeyError: a zombie has no mappings
            continue
    return found


@contextmanager
def podman_sleepers(archive: Path, count: int) -> Iterator[bool]:
    """``count`` podman containers sleeping in a private podman root (their conmons
    then show in ``peers()``); yields False when podman cannot run them here."""
    if shutil.which("podman") is None:
        yield False
        return
    work = Path(tempfile.mkdtemp(prefix="skiff-bench-podman-"))
    podman = ["podman", "--root", str(work / "storage"), "--runroot", str(work / "run"),
              "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs",
              "--runtime", "runc"]
    run = [*podman, "run", "-d", "--network", "none", "--ulimit", "nofile=1024:1024",
           "--ulimit", "nproc=1024:1024", "busybox", "sleep", "3600"]
    try:
        subprocess.run([*podman, "load", "-q", "-i", str(archive)], check=True,
                       capture_output=True)
        print(f"starting {count} podman containers...", file=sys.stderr)
        started = True
        for _ in range(count):
            done = subprocess.run(run, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"podman cannot run containers here: {done.stderr.strip()}",
                      file=sys.stderr)
                started = False
                break
        yield started
    finally:
        subprocess.run([*podman, "rm", "-f", "-a", "-t", "0"], capture_output=True)
        subprocess.run([*podman, "system", "reset", "-f"], capture_output=True)
        overlay = work / "storage" / "overlay"
        if os.path.ismount(overlay):  # podman's own bind mount, which reset leaves
            subprocess.run(["umount", str(overlay)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def row(name: str, sizes: list[tuple[int, int]]) -> None:
    uss = statistics.median(size[0] for size in sizes) / 1024
    pss = statistics.median(size[1] for size in sizes) / 1024
    print(f"{name:<34}{len(sizes):>6}{uss:>10.2f} MB{pss:>10.2f} MB")


async def measure(count: int, cycles: int, archive: Path) -> None:
    from engine import ContainerConfig, Engine

    async with Engine() as engine:
        ids = await start_sleepers(engine, count)
        try:
            monitors = []
            for cid in ids:
                pid = (await engine.containers.get(cid)).state.pid
                monitors.append(memory(parent(pid)))
            helper = helper_pid()
            with podman_sleepers(archive, count) as podman_ran:
                found = peers()
            print(f"{'':<34}{'count':>6}{'USS':>13}{'PSS':>13}")
            row("skiff monitor", monitors)
            for name in PEERS:
                if name in found:
                    row(name, found[name])
            if "conmon" in found:
                conmon = statistics.median(size[0] for size in found["conmon"])
                skiff = statistics.median(size[0] for size in monitors)
                print(f"skiff monitor USS / conmon USS = {skiff / conmon:.1f} "
                      "(target: skiff at most 2 MB)")
            elif not podman_ran:
                print("(conmon: podman could not run containers here; issue 16 measured "
                      "0.33 MB USS)")
            if not any(name.startswith("containerd-shim") for name in found):
                print("(containerd-shim: no docker container runs on this machine; "
                      "issue 16 measured 2.4 MB USS)")
            before = memory(helper)[0]
            print(f"{cycles} create/start/rm cycles...", file=sys.stderr)
            for i in range(cycles):
                container = await engine.containers.create(ContainerConfig(
                    image="busybox", image_id="", cmd=["sleep", "3600"], network="none"))
                await engine.containers.start(container.id)
                await engine.containers.remove(container.id, force=True)
                if i == 9:  # the first few fill caches and pools once
                    before = memory(helper)[0]
            after = memory(helper)[0]
            print(f"{'helper USS after 10 cycles':<34}{before / 1024:>16.2f} MB")
            print(f"{f'helper USS after {cycles} cycles':<34}{after / 1024:>16.2f} MB")
        finally:
            await remove_all(engine, ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=200)
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("run this benchmark as root", file=sys.stderr)
        return 1
    with busybox_world("memory") as archive:
        asyncio.run(measure(options.containers, options.cycles, archive))
    return 0


if __name__ == "__main__":
    sys.exit(main())
