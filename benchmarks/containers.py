"""How fast a container runs: Skiff end to end, the engine alone, and peers.

    .venv/bin/python benchmarks/containers.py [--runs 10]

Prints, side by side, the median and best wall time of:
- ``skiff run --rm busybox true`` as a user types it (CLI start, helper start,
  create, start, exit, remove);
- the engine's own create + start + exit + remove for the same container, with
  its helper already running;
- the same container under crun, runc and podman where they are installed.

Everything runs on a private SKIFF_ROOT and is removed afterwards. Needs root.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.isolation import private_world  # noqa: E402
from tests.fixtures.images import build_busybox_oci  # noqa: E402


def timed(runs: int, action: Callable[[int], None]) -> list[float]:
    times = []
    for i in range(runs):
        start = time.perf_counter()
        action(i)
        times.append(time.perf_counter() - start)
    return times


def skiff_cli(work: Path, runs: int, env: dict[str, str]) -> list[float]:
    skiff = [sys.executable, "-m", "app.cli"]
    return timed(runs, lambda _: subprocess.run([*skiff, "run", "--rm", "busybox", "true"],
                                                env=env, check=True))


def skiff_engine(runs: int) -> list[float]:
    from engine.containers.config import ContainerConfig
    from engine.engine import Engine

    async def measure() -> list[float]:
        async with Engine() as engine:
            await engine.helper.call("ping")
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                container = await engine.create(
                    ContainerConfig(image="busybox", image_id="", cmd=["true"]))
                await engine.start(container.id)
                await engine.wait(container.id)
                await engine.remove(container.id)
                times.append(time.perf_counter() - start)
            return times

    return asyncio.run(measure())


def oci_runtime(name: str, layout: Path, work: Path, runs: int) -> list[float] | None:
    binary = shutil.which(name)
    if binary is None or shutil.which("umoci") is None:
        return None
    bundle = work / f"{name}-bundle"
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:latest", str(bundle)], check=True,
                   stdout=subprocess.DEVNULL)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["args"] = ["true"]
    config["process"]["terminal"] = False
    (bundle / "config.json").write_text(json.dumps(config))
    command = [binary, "run", "--bundle", str(bundle)]
    if _hybrid_cgroups():
        # crun and runc refuse a cgroup2 mount beside v1 controllers (this kind of host):
        # give them a mount namespace without it. unshare's own cost is counted in.
        command = ["unshare", "-m", "sh", "-c",
                   'umount /sys/fs/cgroup/unified && exec "$@"', "-", *command]
    try:
        return timed(runs, lambda i: subprocess.run(
            [*command, f"skiff-bench-{os.getpid()}-{i}"], check=True,
            stdout=subprocess.DEVNULL))
    finally:
        shutil.rmtree(bundle, ignore_errors=True)


def _hybrid_cgroups() -> bool:
    return Path("/sys/fs/cgroup/unified/cgroup.controllers").exists() and \
        Path("/sys/fs/cgroup/memory").is_dir()


def podman(archive: Path, runs: int) -> list[float] | None:
    binary = shutil.which("podman")
    if binary is None:
        return None
    loaded = subprocess.run([binary, "load", "-q", "-i", str(archive)], capture_output=True,
                            text=True, check=True).stdout
    image = loaded.strip().split()[-1]
    command = [binary, "run", "--rm", "--network", "none", image, "true"]
    trial = subprocess.run(command, capture_output=True, text=True)
    if trial.returncode != 0:
        print(f"podman cannot run containers here: {trial.stderr.strip().splitlines()[-1]}",
              file=sys.stderr)
        return None
    return timed(runs, lambda _: subprocess.run(command, check=True))


def report(rows: list[tuple[str, list[float] | None]]) -> None:
    print(f"{'what':<52}{'median':>10}{'best':>10}")
    for label, times in rows:
        if times is None:
            print(f"{label:<52}{'not available':>20}")
            continue
        print(f"{label:<52}{statistics.median(times) * 1000:>8.1f}ms"
              f"{min(times) * 1000:>8.1f}ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("run this benchmark as root", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="skiff-bench-"))
    world = private_world(work)
    world.__enter__()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        layout = build_busybox_oci(work)
        archive = work / "busybox.tar"
        subprocess.run(["skopeo", "copy", "-q", f"oci:{layout}:latest",
                        f"docker-archive:{archive}:busybox:latest"], check=True)
        subprocess.run([sys.executable, "-m", "app.cli", "load", "-q", "-i", str(archive)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "app.cli", "run", "--rm", "busybox", "true"],
                       env=env, check=True)  # warm caches once
        rows = [
            ("skiff run --rm busybox true (end to end)", skiff_cli(work, options.runs, env)),
            ("engine create+start+exit+remove (helper running)", skiff_engine(options.runs)),
            ("crun run (same image, unpacked bundle)",
             oci_runtime("crun", layout, work, options.runs)),
            ("runc run (same image, unpacked bundle)",
             oci_runtime("runc", layout, work, options.runs)),
            ("podman run --rm --network none busybox true", podman(archive, options.runs)),
        ]
        report(rows)
    finally:
        subprocess.run([sys.executable, "-m", "app.cli", "system", "prune", "-f"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        world.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
