"""What a running container costs in memory: its monitor's USS and PSS, and the helper's.

    .venv/bin/python benchmarks/monitor_memory.py [--containers 50] [--cycles 200]

Starts the containers (busybox ``sleep``, no network, on a private SKIFF_ROOT)
and prints the median USS (memory no other process shares) and PSS (shared
pages split between their users) of their monitors, read from
/proc/PID/smaps_rollup, beside conmon's and containerd-shim's when containers
of those are running on this machine. Then it creates, starts and removes
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.isolation import private_world  # noqa: E402
from tests.fixtures.images import build_busybox_oci  # noqa: E402

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
        except (OSError, ValueError):
            continue
    return found


def row(name: str, sizes: list[tuple[int, int]]) -> None:
    uss = statistics.median(size[0] for size in sizes) / 1024
    pss = statistics.median(size[1] for size in sizes) / 1024
    print(f"{name:<34}{len(sizes):>6}{uss:>10.2f} MB{pss:>10.2f} MB")


async def measure(count: int, cycles: int) -> None:
    from engine import ContainerConfig, Engine

    def config() -> ContainerConfig:
        return ContainerConfig(image="busybox", image_id="", cmd=["sleep", "3600"],
                               network="none")

    async with Engine() as engine:
        print(f"starting {count} containers...", file=sys.stderr)
        ids = []
        try:
            for _ in range(count):
                container = await engine.containers.create(config())
                await engine.containers.start(container.id)
                ids.append(container.id)
            monitors = []
            for cid in ids:
                pid = (await engine.containers.inspect(cid))["State"]["Pid"]
                monitors.append(memory(parent(pid)))
            helper = helper_pid()
            print(f"{'':<34}{'count':>6}{'USS':>13}{'PSS':>13}")
            row("skiff monitor", monitors)
            found = peers()
            for name in PEERS:
                if name in found:
                    row(name, found[name])
            if not found:
                print("(conmon and containerd-shim: not running on this machine; "
                      "issue 16 measured 0.33 MB and 2.4 MB USS)")
            before = memory(helper)[0]
            print(f"{cycles} create/start/rm cycles...", file=sys.stderr)
            for i in range(cycles):
                container = await engine.containers.create(config())
                await engine.containers.start(container.id)
                await engine.containers.remove(container.id, force=True)
                if i == 9:  # the first few fill caches and pools once
                    before = memory(helper)[0]
            after = memory(helper)[0]
            print(f"{'helper USS after 10 cycles':<34}{before / 1024:>16.2f} MB")
            print(f"{f'helper USS after {cycles} cycles':<34}{after / 1024:>16.2f} MB")
        finally:
            for cid in ids:
                await engine.containers.remove(cid, force=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=200)
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("run this benchmark as root", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="skiff-bench-memory-"))
    world = private_world(work)
    world.__enter__()
    try:
        layout = build_busybox_oci(work)
        archive = work / "busybox.tar"
        subprocess.run(["skopeo", "copy", "-q", f"oci:{layout}:latest",
                        f"docker-archive:{archive}:busybox:latest"], check=True)

        async def load() -> None:
            from engine import Engine

            async with Engine() as engine:
                await engine.images.load(archive)

        asyncio.run(load())
        asyncio.run(measure(options.containers, options.cycles))
    finally:
        world.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
