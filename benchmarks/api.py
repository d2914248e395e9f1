"""The Docker Engine API: ``skiff serve`` side by side with dockerd.

    .venv/bin/python benchmarks/api.py [--runs 10] [--burst 200] [--running 5]

Both servers run at once (dockerd where Debian's ``docker.io`` is installed),
each with the busybox image, five created containers and ``--running`` running
ones, and are timed alternately round by round (a busy machine slows both
alike): the wall time of ``docker run --rm busybox true`` (the real docker CLI),
then of a burst of ``--burst`` concurrent ``GET /containers/json?all=1``, with
the server's own CPU time (user + system) for that burst. It prints medians,
bests and skiff's ratio to dockerd (target: at most 1.0). Everything runs on
private roots and sockets and is removed afterwards. Needs root and the docker
CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.apiservers import docker, ready, stop  # noqa: E402
from benchmarks.isolation import private_world  # noqa: E402
from tests.fixtures.images import build_busybox_oci  # noqa: E402


@dataclass(frozen=True)
class Server:
    sock: Path
    pid: int
    network: str  # what run --rm and the running containers join ("": the default)

    def run_command(self) -> list[str]:
        network = ["--network", self.network] if self.network else []
        return ["run", "--rm", *network, "busybox", "true"]


@contextlib.contextmanager
def skiff_server(work: Path, env: dict[str, str]) -> Iterator[Server]:
    sock = work / "skiff" / "docker.sock"
    (work / "skiff" / "docker-config").mkdir(parents=True)
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host",
                                f"unix://{sock}"], env=env, stdout=subprocess.DEVNULL)
    try:
        ready(sock, process, "skiff serve")
        yield Server(sock, process.pid, "")
    finally:
        stop(process)


@contextlib.contextmanager
def dockerd_server(work: Path) -> Iterator[Server | None]:
    binary = shutil.which("dockerd")
    if binary is None:
        yield None
        return
    base = work / "dockerd"
    sock = base / "docker.sock"
    (base / "docker-config").mkdir(parents=True)
    process = subprocess.Popen(
        [binary, "--data-root", str(base / "data"), "--exec-root", str(base / "exec"),
         "--pidfile", str(base / "dockerd.pid"), "-H", f"unix://{sock}", "--bridge", "none",
         "--iptables=false", "--ip6tables=false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready(sock, process, "dockerd")
        yield Server(sock, process.pid, "none")  # started without its bridge
    finally:
        stop(process)
        subprocess.run(["umount", "-R", str(base / "exec")], check=False,
                       stderr=subprocess.DEVNULL)


Timing = tuple[float, float]  # (wall, server cpu) seconds


def _cpu(pid: int) -> float:
    """User + system seconds of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(server: Server, command: list[str]) -> Timing:
    start, cpu = time.perf_counter(), _cpu(server.pid)
    docker(server.sock, *command)
    return time.perf_counter() - start, _cpu(server.pid) - cpu


async def _get(sock: Path, path: str) -> None:
    reader, writer = await asyncio.open_unix_connection(str(sock))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"GET {path}: {head.splitlines()[0]!r}")
    await reader.read()
    writer.close()


def burst(server: Server, count: int) -> Timing:
    async def once() -> None:
        await asyncio.gather(*(_get(server.sock, "/v1.41/containers/json?all=1")
                               for _ in range(count)))

    start, cpu = time.perf_counter(), _cpu(server.pid)
    asyncio.run(once())
    return time.perf_counter() - start, _cpu(server.pid) - cpu


def prepare(server: Server, archive: Path, running: int) -> list[str]:
    """The image, five created containers and ``running`` running ones."""
    docker(server.sock, "load", "-q", "-i", str(archive))
    made = [docker(server.sock, "create", "busybox", "true").stdout.strip()
            for _ in range(5)]
    network = ["--network", server.network] if server.network else []
    made += [docker(server.sock, "run", "-d", *network, "busybox", "sleep", "3600"
                     ).stdout.strip() for _ in range(running)]
    return made


def _cell(times: list[float] | None) -> str:
    if not times:
        return f"{'not installed':>22}"
    return f"{statistics.median(times) * 1000:>10.1f}ms{min(times) * 1000:>8.1f}ms"


def _ratio(ours: list[float], theirs: list[float] | None) -> str:
    if not theirs:
        return ""
    return f"{statistics.median(ours) / statistics.median(theirs):>8.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--running", type=int, default=5)
    options = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("docker") is None:
        print("run this benchmark as root, with the docker CLI installed", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="skiff-bench-api-"))
    world = private_world(work)
    world.__enter__()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        layout = build_busybox_oci(work)
        archive = work / "busybox.tar"
        subprocess.run(["skopeo", "copy", "-q", f"oci:{layout}:latest",
                        f"docker-archive:{archive}:busybox:latest"], check=True)
        with skiff_server(work, env) as skiff, dockerd_server(work) as dockerd:
            servers = [s for s in (skiff, dockerd) if s is not None]
            made = {s.sock: prepare(s, archive, options.running) for s in servers}
            runs: dict[Path, list[Timing]] = {s.sock: [] for s in servers}
            bursts: dict[Path, list[Timing]] = {s.sock: [] for s in servers}
            try:
                for server in servers:  # warm caches once
                    run_once(server, server.run_command())
                    burst(server, options.burst)
                for _ in range(options.runs):
                    for server in servers:
                        runs[server.sock].append(run_once(server, server.run_command()))
                        bursts[server.sock].append(burst(server, options.burst))
            finally:
                for server in servers:
                    docker(server.sock, "rm", "-f", *made[server.sock], check=False)
        rows = [("docker run --rm busybox true", runs, 0),
                (f"{options.burst} x GET /containers/json, wall", bursts, 0),
                (f"{options.burst} x GET /containers/json, server cpu", bursts, 1)]
        print(f"{len(made[skiff.sock])} containers ({options.running} running), "
              f"median of {options.runs} alternate rounds")
        print(f"{'what (median, best)':<46}{'skiff serve':>22}{'dockerd':>22}{'ratio':>8}")
        for title, found, index in rows:
            ours = [t[index] for t in found[skiff.sock]]
            theirs = [t[index] for t in found[dockerd.sock]] if dockerd else None
            print(f"{title:<46}{_cell(ours)}{_cell(theirs)}{_ratio(ours, theirs)}")
    finally:
        world.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
