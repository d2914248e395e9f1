"""Pull benchmark: Skiff's pull+unpack against podman and skopeo+umoci.

Builds a multi-layer image of about 100 MB (incompressible random files,
compressible text, many small files; base layer /bin/busybox) with umoci,
pushes it with skopeo to a docker-registry started on 127.0.0.1 with a
temporary storage directory, then times, each from an empty store:

- ``skiff``: ``Engine.pull`` (download, verify, unpack every layer through the
  helper), or the registry service with the unpacker in threads when the
  engine cannot start;
- ``podman pull`` into a temporary ``--root`` (download and apply layers);
- ``skopeo copy`` into an OCI layout followed by ``umoci unpack``.

Runs alternate between the tools; the table gives the median and the best.
Everything (registry process, stores, image) is removed at the end. Needs
root (unpacking layers), docker-registry, skopeo and umoci; podman is used
when installed. Only loopback traffic.

    .venv/bin/python benchmarks/pull.py [--size-mb 100] [--layers 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

REGISTRY_BIN = "/usr/bin/docker-registry"
BUSYBOX = Path("/bin/busybox")
_WORDS = ["container", "layer", "image", "registry", "digest", "manifest", "overlay",
          "namespace", "cgroup", "skiff", "busybox", "tarball", "gzip", "index", "platform",
          "token", "blob", "mount", "pivot", "root"]


# -- the image -------------------------------------------------------------------------


def _text(rng: random.Random, size: int) -> bytes:
    """Compressible, log-like text (gzip gets it to roughly a quarter)."""
    out = io.StringIO()
    written = 0
    while written < size:
        line = f"{rng.randrange(10**9):09d} " + " ".join(rng.choices(_WORDS, k=12)) + "\n"
        out.write(line)
        written += len(line)
    return out.getvalue().encode()[:size]


def _layer_tar(index: int, size: int, rng: random.Random) -> bytes:
    """One layer: ~60% random bytes in a few big files, ~30% text, ~10% small files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, data: bytes | None = None, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.mtime, info.mode = 1_700_000_000, mode
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

        base = f"data/layer{index}"
        add("data")
        add(base)
        random_part, text_part = int(size * 0.6), int(size * 0.3)
        chunks = 3
        for n in range(chunks):
            add(f"{base}/blob{n}.bin", rng.randbytes(random_part // chunks))
        add(f"{base}/log.txt", _text(rng, text_part))
        add(f"{base}/small")
        small = max(1, (size - random_part - text_part) // 4096)
        for n in range(small):
            data = _text(rng, 2048) + rng.randbytes(2048)
            add(f"{base}/small/f{n:05d}", data)
    return buffer.getvalue()


def build_image(workdir: Path, size_mb: int, layers: int) -> Path:
    """An OCI layout (tag latest): busybox base layer plus ``layers`` data layers."""
    layout = workdir / "oci"
    _run(["umoci", "init", "--layout", str(layout)])
    _run(["umoci", "new", "--image", f"{layout}:latest"])
    rng = random.Random(1234)
    base = io.BytesIO()
    with tarfile.open(fileobj=base, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in ("sh", "ls", "cat", "echo"):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, "busybox", 0o777
            tar.addfile(info)
    tars = [base.getvalue()]
    per_layer = (size_mb << 20) // layers
    tars.extend(_layer_tar(i, per_layer, rng) for i in range(layers))
    for number, data in enumerate(tars):
        path = workdir / f"layer{number}.tar"
        path.write_bytes(data)
        _run(["umoci", "raw", "add-layer", "--image", f"{layout}:latest", str(path)])
        path.unlink()
    _run(["umoci", "config", "--image", f"{layout}:latest", "--config.cmd", "sh"])
    _run(["umoci", "gc", "--layout", str(layout)])
    return layout


# -- the registry --------------------------------------------------------------------------


class Registry:
    def __init__(self, workdir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        storage = workdir / "registry"
        storage.mkdir()
        config = workdir / "registry.yml"
        config.write_text(json.dumps({
            "version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(storage)}},
            "http": {"addr": f"127.0.0.1:{self.port}", "secret": "bench"}}))
        self.log = (workdir / "registry.log").open("wb")
        self.process = subprocess.Popen([REGISTRY_BIN, "serve", str(config)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://{self.host}/v2/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit("docker-registry did not start")
            time.sleep(0.05)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# -- the contenders -----------------------------------------------------------------------


def skiff_pull(ref: str, root: Path) -> str:
    """Engine.pull into a fresh root (the registry service directly without an engine)."""
    try:
        from engine.engine import Engine
    except ImportError:
        asyncio.run(_service_pull(ref, root))
        return "RegistryService + unpack_layer"

    async def through_engine() -> None:
        async with Engine(root) as engine:
            await engine.pull(ref)

    asyncio.run(through_engine())
    return "Engine.pull"


async def _service_pull(ref: str, root: Path) -> None:
    from engine.db import Database
    from engine.helper.layers import unpack_layer
    from engine.images.blobs import BlobStore
    from engine.images.model import Layer
    from engine.images.reference import Reference
    from engine.images.store import ImageStore
    from engine.registry.credentials import CredentialStore
    from engine.registry.service import RegistryService

    db = Database(root / "skiff.db")
    blobs = BlobStore(root)
    service = RegistryService(blobs, ImageStore(db, blobs),
                              CredentialStore(root / "auth.json", fallbacks=[]))

    async def unpack(layer: Layer) -> None:
        def work() -> None:
            with blobs.open(layer.digest) as source:
                unpack_layer(source, root / "layers", diff_id=layer.diff_id,
                             digest=layer.digest)
        await asyncio.to_thread(work)

    try:
        await service.pull(Reference.parse(ref), unpack=unpack)
    finally:
        db.close()


def podman_pull(ref: str, root: Path) -> str:
    storage = ["--root", str(root / "storage"), "--runroot", str(root / "run"),
               "--storage-driver", "overlay"]
    try:
        _run(["podman", *storage, "pull", "-q", "--tls-verify=false", ref])
    finally:
        subprocess.run(["podman", *storage, "system", "reset", "-f"], capture_output=True)
    return "podman pull"


def skopeo_umoci(ref: str, root: Path) -> str:
    _run(["skopeo", "--insecure-policy", "copy", "-q", "--src-tls-verify=false",
          f"docker://{ref}", f"oci:{root / 'oci'}:latest"])
    _run(["umoci", "unpack", "--image", f"{root / 'oci'}:latest", str(root / "bundle")])
    return "skopeo copy + umoci unpack"


# -- running -------------------------------------------------------------------------------


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=100, help="image content size (MB)")
    parser.add_argument("--layers", type=int, default=5, help="data layers (plus busybox)")
    parser.add_argument("--runs", type=int, default=3, help="runs per contender")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: unpacking layers needs it")
    for tool in (REGISTRY_BIN, "skopeo", "umoci"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")

    contenders: list[tuple[str, Callable[[str, Path], str]]] = [("skiff", skiff_pull)]
    if shutil.which("podman"):
        contenders.append(("podman", podman_pull))
    else:
        print("podman is not installed: skipping it")
    contenders.append(("skopeo+umoci", skopeo_umoci))

    workdir = Path(tempfile.mkdtemp(prefix="skiff-bench-pull-"))
    registry: Registry | None = None
    try:
        print(f"building a {args.size_mb} MB image in {1 + args.layers} layers ...", flush=True)
        layout = build_image(workdir, args.size_mb, args.layers)
        registry = Registry(workdir)
        ref = f"{registry.host}/bench/pull:latest"
        _run(["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
              f"oci:{layout}:latest", f"docker://{ref}"])
        manifest = json.loads(subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
            capture_output=True, text=True, check=True).stdout)
        compressed = sum(la["size"] for la in manifest["layers"])
        print(f"image: {len(manifest['layers'])} layers, {compressed / 1e6:.1f} MB compressed "
              f"(about {args.size_mb} MB unpacked), registry {registry.host}\n", flush=True)

        times: dict[str, list[float]] = {name: [] for name, _ in contenders}
        how: dict[str, str] = {}
        for run in range(args.runs):
            for name, pull in contenders:
                root = workdir / f"{name}-{run}"
                root.mkdir()
                os.sync()  # the previous run's writes are not this one's to pay for
                start = time.perf_counter()
                how[name] = pull(ref, root)
                times[name].append(time.perf_counter() - start)
                shutil.rmtree(root, ignore_errors=True)
                print(f"  run {run + 1}: {name:<14} {times[name][-1]:6.2f} s", flush=True)

        print(f"\n{'contender':<14} {'median s':>9} {'best s':>8} {'MB/s':>7}  how")
        for name, _ in contenders:
            median = statistics.median(times[name])
            print(f"{name:<14} {median:9.2f} {min(times[name]):8.2f} "
                  f"{compressed / 1e6 / median:7.1f}  {how[name]}")
        if "podman" in times:
            ratio = statistics.median(times["skiff"]) / statistics.median(times["podman"])
            verdict = "meets" if ratio <= 1.0 else "misses"
            print(f"\nskiff / podman = {ratio:.2f} ({verdict} the target: no slower than podman)")
    finally:
        if registry is not None:
            registry.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
