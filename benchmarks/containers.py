"""How fast a container runs: Skiff end to end, the engine alone, and peers.

    .venv/bin/python benchmarks/containers.py [--runs 10]

Prints, side by side, the median and best wall time of:
- ``skiff run --rm busybox true`` as a user types it (CLI start, helper start,
  create, start, exit, remove);
- the engine's own create + start + exit + remove for the same container, with
  its helper already running;
- the same container under crun, runc and podman where they are installed;
- the engine's start of a container with Docker's default seccomp profile
  against ``--security-opt seccomp=unconfined``, side by side (interleaved runs,
  network none, so only the filter differs);
- the same start in a user namespace (``--userns=remap``: what every non-root
  user's container gets) against the host's, and what the user namespace and
  seccomp together add to a start.

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
from tests.fixtures.users import temporary_root_subids  # noqa: E402


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
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                container = await engine.containers.create(
                    ContainerConfig(image="busybox", image_id="", cmd=["true"]))
                await engine.containers.start(container.id)
                await engine.containers.wait(container.id)
                await engine.containers.remove(container.id)
                times.append(time.perf_counter() - start)
            return times

    return asyncio.run(measure())


def seccomp_starts(runs: int) -> dict[str, list[float]]:
    """Start (until the command runs) and start-to-exit, default profile vs unconfined."""
    from engine.containers.config import ContainerConfig
    from engine.engine import Engine

    options = {"default": [], "unconfined": ["seccomp=unconfined"]}

    async def measure() -> dict[str, list[float]]:
        times: dict[str, list[float]] = {f"{k} {w}": [] for k in options
                                         for w in ("start", "run")}
        async with Engine() as engine:
            for i in range(runs + 1):
                for kind, security_opt in options.items():
                    container = await engine.containers.create(ContainerConfig(
                        image="busybox", image_id="", cmd=["true"], network="none",
                        security_opt=security_opt))
                    start = time.perf_counter()
                    await engine.containers.start(container.id)
                    started = time.perf_counter()
                    await engine.containers.wait(container.id)
                    ended = time.perf_counter()
                    await engine.containers.remove(container.id)
                    if i:  # the first round warms the program cache and page cache
                        times[f"{kind} start"].append(started - start)
                        times[f"{kind} run"].append(ended - start)
        return times

    return asyncio.run(measure())


def seccomp_report(times: dict[str, list[float]]) -> None:
    """Medians and bests side by side: on a busy machine the bests say more."""
    print(f"\n{'seccomp (engine, network none)':<34}{'default':>10}{'unconfined':>12}"
          f"{'cost':>10}{'ratio':>8}")
    for what in ("start", "run"):
        for measure, pick in (("median", statistics.median), ("best", min)):
            with_filter = pick(times[f"default {what}"]) * 1000
            without = pick(times[f"unconfined {what}"]) * 1000
            label = "start (until it runs)" if what == "start" else "start to exit"
            print(f"{label + ', ' + measure:<34}{with_filter:>8.1f}ms{without:>10.1f}ms"
                  f"{with_filter - without:>+8.1f}ms{with_filter / without:>8.2f}")


# (userns, security_opt) of each kind of start, measured interleaved against noise
USERNS_KINDS = {"plain": ("", ["seccomp=unconfined"]), "seccomp": ("", []),
                "userns": ("remap", ["seccomp=unconfined"]), "both": ("remap", [])}


def userns_starts(runs: int) -> dict[str, list[float]]:
    """engine.start() (until the command runs) of each of USERNS_KINDS."""
    from engine.containers.config import ContainerConfig
    from engine.engine import Engine

    async def measure() -> dict[str, list[float]]:
        times: dict[str, list[float]] = {kind: [] for kind in USERNS_KINDS}
        async with Engine() as engine:
            for i in range(runs + 1):
                for kind, (userns, security_opt) in USERNS_KINDS.items():
                    container = await engine.containers.create(ContainerConfig(
                        image="busybox", image_id="", cmd=["true"], network="none",
                        userns=userns, security_opt=security_opt))
                    start = time.perf_counter()
                    await engine.containers.start(container.id)
                    if i:  # the first round warms the caches
                        times[kind].append(time.perf_counter() - start)
                    await engine.containers.wait(container.id)
                    await engine.containers.remove(container.id)
        return times

    with temporary_root_subids():  # root's containers are remapped only on request
        return asyncio.run(measure())


def userns_report(times: dict[str, list[float]]) -> None:
    """What a user namespace adds to a start, alone and with seccomp (target: < 10 ms)."""
    print(f"\n{'user namespace (engine start, network none)':<46}{'median':>10}{'best':>10}")
    rows = (("host ids, no seccomp", "plain", None), ("host ids, seccomp", "seccomp", None),
            ("user namespace, no seccomp", "userns", None),
            ("user namespace and seccomp (a user's start)", "both", None),
            ("  cost of the user namespace", "userns", "plain"),
            ("  cost of both together", "both", "plain"))
    for label, kind, base in rows:
        cells = []
        for pick in (statistics.median, min):
            value = pick(times[kind]) * 1000
            if base is not None:
                value -= pick(times[base]) * 1000
            cells.append(f"{value:>+8.1f}ms" if base else f"{value:>8.1f}ms")
        print(f"{label:<46}{cells[0]:>10}{cells[1]:>10}")


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
        seccomp_report(seccomp_starts(options.runs))
        userns_report(userns_starts(options.runs))
    finally:
        subprocess.run([sys.executable, "-m", "app.cli", "system", "prune", "-f"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        world.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
