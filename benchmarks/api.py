"""The Docker Engine API: ``skiff serve`` side by side with dockerd.

    .venv/bin/python benchmarks/api.py [--runs 10] [--burst 200]

Prints the median and best wall time of ``docker run --rm busybox true`` (the
real docker CLI) through ``skiff serve``, and through a private dockerd where
Debian's ``docker.io`` is installed, then the time a burst of concurrent
``GET /containers/json`` requests takes on each (five containers listed).
Everything runs on private roots and sockets and is removed afterwards.
Needs root and the docker CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.isolation import private_world  # noqa: E402
from tests.fixtures.images import build_busybox_oci  # noqa: E402


def _docker(sock: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}",
           "DOCKER_CONFIG": str(sock.parent / "docker-config")}
    return subprocess.run(["docker", *args], env=env, capture_output=True, text=True,
                          check=check)


def _ready(sock: Path, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while _docker(sock, "version", check=False).returncode != 0:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def skiff_server(work: Path, env: dict[str, str]) -> Iterator[Path]:
    sock = work / "skiff" / "docker.sock"
    (work / "skiff" / "docker-config").mkdir(parents=True)
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host",
                                f"unix://{sock}"], env=env, stdout=subprocess.DEVNULL)
    try:
        _ready(sock, process, "skiff serve")
        yield sock
    finally:
        _stop(process)


@contextlib.contextmanager
def dockerd_server(work: Path) -> Iterator[Path | None]:
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
        _ready(sock, process, "dockerd")
        yield sock
    finally:
        _stop(process)
        subprocess.run(["umount", "-R", str(base / "exec")], check=False,
                       stderr=subprocess.DEVNULL)


def runs_of(sock: Path, runs: int, network: str) -> list[float]:
    command = ["run", "--rm", *(["--network", network] if network else []), "busybox", "true"]
    _docker(sock, *command)  # warm caches once
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        _docker(sock, *command)
        times.append(time.perf_counter() - start)
    return times


async def _get(sock: Path, path: str) -> None:
    reader, writer = await asyncio.open_unix_connection(str(sock))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"GET {path}: {head.splitlines()[0]!r}")
    await reader.read()
    writer.close()


def burst(sock: Path, count: int) -> list[float]:
    async def once() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(_get(sock, "/v1.41/containers/json?all=1")
                               for _ in range(count)))
        return time.perf_counter() - start

    return [asyncio.run(once()) for _ in range(3)]


def measure(sock: Path | None, archive: Path, runs: int, count: int,
            network: str) -> tuple[list[float] | None, list[float] | None]:
    if sock is None:
        return None, None
    _docker(sock, "load", "-q", "-i", str(archive))
    made = [_docker(sock, "create", "busybox", "true").stdout.strip() for _ in range(5)]
    try:
        return runs_of(sock, runs, network), burst(sock, count)
    finally:
        _docker(sock, "rm", "-f", *made, check=False)


def _cell(times: list[float] | None) -> str:
    if times is None:
        return f"{'not installed':>22}"
    return f"{statistics.median(times) * 1000:>10.1f}ms{min(times) * 1000:>8.1f}ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--burst", type=int, default=200)
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
        with skiff_server(work, env) as sock:
            skiff = measure(sock, archive, options.runs, options.burst, "")
        with dockerd_server(work) as docker_sock:
            dockerd = measure(docker_sock, archive, options.runs, options.burst, "none")
        print(f"{'what (median, best)':<46}{'skiff serve':>22}{'dockerd':>22}")
        print(f"{'docker run --rm busybox true':<46}{_cell(skiff[0])}{_cell(dockerd[0])}")
        print(f"{f'{options.burst} x GET /containers/json at once':<46}"
              f"{_cell(skiff[1])}{_cell(dockerd[1])}")
    finally:
        world.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
