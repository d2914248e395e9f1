"""How fast Skiff builds: a 10-step Dockerfile cold (no cache) and warm (every step cached).

    .venv/bin/python benchmarks/build.py [--runs 3]

Prints, side by side, the median and best wall time of:
- ``skiff build`` as a user types it, cold (``--no-cache``) and warm;
- ``docker build`` with the classic builder (``DOCKER_BUILDKIT=0``) through Debian's
  dockerd on a private data root and socket, where ``dockerd`` is installed;
- ``buildah bud`` (``--layers``) where buildah is installed.

Targets: cold no slower than docker's classic builder; warm under 0.5 s.
Everything runs on a private SKIFF_ROOT (and dockerd data root) and is removed
afterwards. Needs root.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.isolation import private_world  # noqa: E402
from tests.fixtures.images import build_busybox_oci  # noqa: E402

DOCKERFILE = """\
FROM busybox
ENV APP=/app
WORKDIR /app
COPY a.txt b.txt ./
RUN cat a.txt b.txt > both.txt
ARG LEVEL=1
RUN echo "level $LEVEL" > level.txt && mkdir -p data && touch data/x
COPY conf/ /etc/app/
RUN rm b.txt
LABEL bench=build
CMD ["cat", "/app/both.txt"]
"""


def _context(where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "Dockerfile").write_text(DOCKERFILE)
    (where / "a.txt").write_text("a\n" * 1000)
    (where / "b.txt").write_text("b\n" * 1000)
    (where / "conf").mkdir(exist_ok=True)
    for i in range(20):
        (where / "conf" / f"{i}.conf").write_text(f"setting={i}\n")
    return where


def timed(runs: int, command: list[str], env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)  # docker's "legacy builder" notice
        times.append(time.perf_counter() - start)
    return times


@contextlib.contextmanager
def private_dockerd(work: Path) -> Iterator[dict[str, str] | None]:
    """Debian's dockerd on its own data root and socket, or None when not installed."""
    binary = shutil.which("dockerd")
    if binary is None or shutil.which("docker") is None:
        yield None
        return
    sock = work / "docker.sock"
    process = subprocess.Popen(
        [binary, "--data-root", str(work / "docker-data"), "--exec-root",
         str(work / "docker-exec"), "--pidfile", str(work / "docker.pid"),
         "--host", f"unix://{sock}", "--bridge", "none", "--iptables=false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, DOCKER_HOST=f"unix://{sock}", DOCKER_BUILDKIT="0")
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(["docker", "version"], env=env, capture_output=True).returncode:
            if time.monotonic() > deadline or process.poll() is not None:
                yield None
                return
            time.sleep(0.5)
        yield env
    finally:
        process.terminate()
        process.wait(timeout=60)


async def _engine_build(context: Path) -> float:
    """A warm build's time inside the engine: no interpreter start, no CLI."""
    from engine import BuildOptions, Engine, open_context

    async with Engine() as engine:
        opened = open_context(context)
        try:
            start = time.perf_counter()
            await engine.images.build(opened, BuildOptions(tags=("bench:build",)))
            return time.perf_counter() - start
        finally:
            opened.close()


def _stop_helpers(work: Path) -> None:
    """End the helpers this run left lingering (those serving its own storage), by PID."""
    import signal

    marker = f"--root\0{work}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"engine.helper" in cmdline and marker in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGTERM)
                deadline = time.monotonic() + 30
                while (entry / "cmdline").exists() and time.monotonic() < deadline:
                    time.sleep(0.1)


def show(label: str, times: list[float]) -> None:
    print(f"{label:<44} median {statistics.median(times):7.3f} s   best {min(times):7.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (containers, overlay mounts, cgroups)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="skiff-bench-build-") as tmp, \
            private_world(Path(tmp)):
        work = Path(tmp)
        # as a user runs it: from compiled modules (a shell may have turned them off)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        context = _context(work / "context")
        layout = build_busybox_oci(work)
        archive = work / "busybox.tar"
        subprocess.run(["skopeo", "copy", "-q", f"oci:{layout}:latest",
                        f"docker-archive:{archive}:busybox:latest"], check=True)
        skiff = [sys.executable, "-m", "app.cli"]
        subprocess.run([*skiff, "load", "-q", "-i", str(archive)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        build = [*skiff, "build", "-q", "-t", "bench:build", str(context)]
        cold = [*build[:4], "--no-cache", *build[4:]]
        show("skiff build, cold (--no-cache)", timed(options.runs, cold, env))
        show("skiff build, warm (every step cached)", timed(options.runs, build, env))
        show("  of which the engine's part (in-process)",
             [asyncio.run(_engine_build(context)) for _ in range(options.runs)])
        # As dockerd is already up when docker builds: a helper that stays between the
        # commands (as it does for a user, for a minute), started by an untimed build.
        lingering = {**env, "SKIFF_HELPER_IDLE": "600"}
        try:
            subprocess.run(cold, env=lingering, check=True, stdout=subprocess.DEVNULL)
            show("skiff build, cold, helper already running",
                 timed(options.runs, cold, lingering))
        finally:
            _stop_helpers(work)
        with private_dockerd(work) as docker_env:
            if docker_env is None:
                print("docker build (classic builder): dockerd is not installed")
            else:
                subprocess.run(["docker", "load", "-q", "-i", str(archive)], env=docker_env,
                               check=True, stdout=subprocess.DEVNULL)
                docker = ["docker", "build", "-q", "-t", "bench:build", str(context)]
                show("docker build (classic), cold (--no-cache)",
                     timed(options.runs, [*docker[:2], "--no-cache", *docker[2:]], docker_env))
                show("docker build (classic), warm", timed(options.runs, docker, docker_env))
        if shutil.which("buildah"):
            bud = ["buildah", "--root", str(work / "buildah"), "--runroot",
                   str(work / "buildah-run"), "bud", "-q", "--layers", "--isolation", "chroot",
                   "-t", "bench:build", str(context)]
            subprocess.run(["buildah", "--root", str(work / "buildah"), "--runroot",
                            str(work / "buildah-run"), "pull", "-q",
                            f"docker-archive:{archive}"], check=True, stdout=subprocess.DEVNULL)
            show("buildah bud, cold (--no-cache)",
                 timed(options.runs, [*bud[:-1], "--no-cache", bud[-1]], env))
            show("buildah bud, warm", timed(options.runs, bud, env))
        else:
            print("buildah bud: buildah is not installed")
        subprocess.run([*skiff, "rmi", "-f", "bench:build"], env=env, capture_output=True)
        subprocess.run([*skiff, "image", "prune", "-f"], env=env, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
