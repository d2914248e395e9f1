"""Pull benchmark: ``skiff pull`` against ``podman pull`` (and skopeo + umoci), from a
registry on the loopback.

Two images, built with umoci and pushed with skopeo to a docker-registry started on
127.0.0.1 with a temporary storage directory:

- ``random``: ~90 MB of incompressible data in three layers (what the network and the
  digests cost);
- ``rootfs``: ~130 MB of compressible content in thousands of small files, most of
  it in one layer, like a Debian root filesystem (what decompression and creating files cost).

Each pull starts from an empty store and is one command, start-up included:
``skiff pull`` as users run it (the launcher ``make install`` writes, ``python -IS``,
as benchmarks/cli.py makes it; bytecode compiled; nothing of Skiff running before it),
``podman pull`` into a temporary ``--root``, ``skopeo copy`` into an OCI layout then
``umoci unpack``; and
``skiff warm``: skiff as a user's command finds it after any other in the last
minute, its CLI server (app/cli/forkserver.py) and helper up (started by a volume
command before the pull, untimed; stopped after it). A cold ``skiff pull`` leaves its
helper lingering, as any command does with the default SKIFF_HELPER_IDLE (60 s), so it
does not wait for the helper's exit (~10-20 ms with SKIFF_HELPER_IDLE=0), and starts its
CLI server as it ends; both are stopped, untimed, before the next pull. The
contenders alternate, each round in an order turned by one, and every store is
removed only after the last round (ext4 makes files slower for ~30 s after a big
deletion); the table gives the median and the best, the CPU time each
pull took (all its processes, from a cpuacct cgroup of its own: on a loaded machine
the steadier figure), and the ratio skiff / podman (target: at most 0.8). Then a
second ``skiff pull`` of each image into the store that already has it, with its
CPU time: layers already present must cost nothing. ``--against CHECKOUT`` adds
another checkout's ``skiff pull`` (cold) to the rounds: a before and after that meet the same load.

Everything (registry process, stores, images) is removed at the end. Needs root
(unpacking layers), docker-registry, skopeo and umoci; podman when installed. Only
loopback traffic.

    .venv/bin/python benchmarks/pull.py [--runs 3] [--image random|rootfs ...]
                                        [--against CHECKOUT]
"""

from __future__ import annotations

import argparse
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

from benchmarks.cli import installed_skiff  # noqa: E402
from benchmarks.isolation import private_world  # noqa: E402

REGISTRY_BIN = "/usr/bin/docker-registry"
BUSYBOX = Path("/bin/busybox")
TARGET = 0.8
_WORDS = ["container", "layer", "image", "registry", "digest", "manifest", "overlay",
          "namespace", "cgroup", "skiff", "busybox", "tarball", "gzip", "index", "platform",
          "token", "blob", "mount", "pivot", "root", "usr", "lib", "share", "doc", "locale",
          "man", "bin", "etc", "var", "include", "python", "perl", "debian", "copyright"]


# -- the images ------------------------------------------------------------------------


class LayerTar:
    """A layer's tar, written into memory, with plain defaults for every entry."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.tar = tarfile.open(  # noqa: SIM115 - closed by bytes()
            fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT)
        self.dirs: set[str] = set()

    def dir(self, name: str) -> None:
        parent = name.rpartition("/")[0]
        if parent and parent not in self.dirs:
            self.dir(parent)
        if name not in self.dirs:
            self.dirs.add(name)
            self._add(name, tarfile.DIRTYPE, 0o755)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self.dir(name.rpartition("/")[0])
        self._add(name, tarfile.REGTYPE, mode, data)

    def link(self, name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> None:
        self._add(name, kind, 0o777, link=target)

    def _add(self, name: str, kind: bytes, mode: int, data: bytes = b"",
             link: str = "") -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime, info.linkname = kind, mode, 1_700_000_000, link
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        self.tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

    def bytes(self) -> bytes:
        self.tar.close()
        return self.buffer.getvalue()


def busybox_layer() -> bytes:
    layer = LayerTar()
    layer.file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
    for applet in ("sh", "ls", "cat", "echo", "true"):
        layer.link(f"bin/{applet}", "busybox")
    return layer.bytes()


def random_layers(rng: random.Random, total_mb: int, count: int) -> list[bytes]:
    """``count`` layers of incompressible data in a few big files each."""
    per_layer = (total_mb << 20) // count
    layers = []
    for index in range(count):
        layer = LayerTar()
        for n in range(3):
            layer.file(f"data/layer{index}/blob{n}.bin", rng.randbytes(per_layer // 3))
        layers.append(layer.bytes())
    return layers


def rootfs_layers(rng: random.Random, total_mb: int) -> list[bytes]:
    """A root filesystem's worth of small files: ~90 % of it in the first layer.

    File sizes are spread like a distribution's (most under 8 KB, some large), in
    about 1,400 directories, written a directory at a time as a tar of a real tree
    is; contents are text and, for one file in five, half-random "binaries" (gzip
    takes the whole to about a quarter). Symlinks and hard links as a system has them.
    """
    corpus = " ".join(rng.choices(_WORDS, k=1 << 20)).encode()
    total = total_mb << 20
    layers = []
    for share, top in ((0.9, "usr"), (0.1, "opt")):
        files: list[tuple[str, bytes]] = []
        written = 0
        while written < total * share:
            number = len(files)
            size = min(int(rng.lognormvariate(8.0, 1.4)), 4 << 20)
            start = rng.randrange(len(corpus) - size) if size < len(corpus) else 0
            data = corpus[start:start + size]
            if number % 5 == 0:
                data = data[: size // 2] + rng.randbytes(size - size // 2)
            where = f"{top}/{rng.choice(('lib', 'share', 'bin'))}/pkg{rng.randrange(150):03d}"
            files.append((f"{where}/d{rng.randrange(3)}/file{number:05d}", data))
            written += len(data)
        layer = LayerTar()
        for number, (path, data) in enumerate(sorted(files)):
            layer.file(path, data, 0o755 if number % 5 == 0 else 0o644)
            if number % 50 == 1:
                layer.link(f"{path}.link", path.rpartition("/")[2])
            if number % 97 == 2:
                layer.link(f"{path}.hard", path, tarfile.LNKTYPE)
        layers.append(layer.bytes())
    return layers


def build_image(workdir: Path, name: str, layers: list[bytes]) -> Path:
    """An OCI layout (tag latest) of the busybox layer plus ``layers``."""
    layout = workdir / f"oci-{name}"
    _run(["umoci", "init", "--layout", str(layout)])
    _run(["umoci", "new", "--image", f"{layout}:latest"])
    for number, data in enumerate([busybox_layer(), *layers]):
        path = workdir / f"layer{number}.tar"
        path.write_bytes(data)
        _run(["umoci", "raw", "add-layer", "--image", f"{layout}:latest", str(path)])
        path.unlink()
    _run(["umoci", "config", "--image", f"{layout}:latest", "--config.cmd", "sh"])
    _run(["umoci", "gc", "--layout", str(layout)])
    return layout


IMAGES: dict[str, tuple[str, Callable[[random.Random], list[bytes]]]] = {
    "random": ("~90 MB incompressible, 3 layers", lambda rng: random_layers(rng, 90, 3)),
    "rootfs": ("~130 MB of small compressible files", lambda rng: rootfs_layers(rng, 130)),
}


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


LAUNCHERS: dict[Path, list[str]] = {}


def installed(workdir: Path, checkout: Path) -> list[str]:
    """The ``skiff`` command of ``checkout`` as installed (benchmarks/cli.py's), made once,
    with its bytecode compiled (an installation has it; PYTHONDONTWRITEBYTECODE may be set)."""
    if checkout not in LAUNCHERS:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "app", "engine"],
                       cwd=checkout, check=True, stdout=subprocess.DEVNULL)
        LAUNCHERS[checkout] = installed_skiff(workdir / f"install-{len(LAUNCHERS)}", checkout)
    return LAUNCHERS[checkout]


def skiff_pull(ref: str, root: Path, checkout: Path = REPO_ROOT) -> None:
    """``skiff pull`` into ``root`` (SKIFF_ROOT, set by private_world), by the code of
    ``checkout`` (its helper's too: the CLI starts it from its own package)."""
    _run([*LAUNCHERS[checkout], "pull", "-q", ref], cwd=Path("/"))


def skiff_warm_up(root: Path) -> None:
    """Untimed: what any command leaves for a minute, the CLI server and the helper, once
    they are idle (a volume verb starts the helper's warm-up for containers: the zygote's
    imports, the network; a pull beside it would pay for them)."""
    os.environ["SKIFF_HELPER_IDLE"] = "60"
    for verb in ("create", "rm"):
        _run([*LAUNCHERS[REPO_ROOT], "volume", verb, "warmup"], cwd=Path("/"))
    deadline = time.monotonic() + 20
    used = -1
    while time.monotonic() < deadline:
        now = sum(_cpu_ticks(pid) for pid in _lingering(root))
        if now == used:
            return
        used = now
        time.sleep(0.5)


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])


def _lingering(root: Path) -> list[int]:
    """The processes of the world at ``root`` (its CLI server, helper, zygote)."""
    world = str(root / "root").encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if entry.name.isdigit() and world in command:
            found.append(int(entry.name))
    return found


def skiff_cool_down(root: Path) -> None:
    """Stop what the warm-up left (the CLI server, the helper) and wait until it is gone."""
    os.environ["SKIFF_HELPER_IDLE"] = "0"
    lingering = _lingering(root)
    for pid in lingering:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass  # gone by itself (a CLI server that found another one listening)
    for pid in lingering:
        while Path(f"/proc/{pid}").exists():
            time.sleep(0.01)


def podman_pull(ref: str, root: Path) -> None:
    _run(["podman", *_podman_storage(root), "pull", "-q", "--tls-verify=false", ref])


def podman_clean(root: Path) -> None:
    subprocess.run(["podman", *_podman_storage(root), "system", "reset", "-f"],
                   capture_output=True)


def _podman_storage(root: Path) -> list[str]:
    return ["--root", str(root / "storage"), "--runroot", str(root / "run"),
            "--storage-driver", "overlay"]


def skopeo_umoci(ref: str, root: Path) -> None:
    _run(["skopeo", "--insecure-policy", "copy", "-q", "--src-tls-verify=false",
          f"docker://{ref}", f"oci:{root / 'oci'}:latest"])
    _run(["umoci", "unpack", "--image", f"{root / 'oci'}:latest", str(root / "bundle")])


# -- running -------------------------------------------------------------------------------


class CpuAccount:
    """A cpuacct cgroup (v1) that the contenders' processes run in, and its CPU time."""

    def __init__(self) -> None:
        self.path = Path(f"/sys/fs/cgroup/cpuacct/skiff-bench-pull-{os.getpid()}")
        try:
            self.path.mkdir(exist_ok=True)
        except OSError:
            self.path = Path()

    def enter(self) -> None:
        """In a child before exec: join the cgroup."""
        if self.path != Path():
            (self.path / "cgroup.procs").write_text("0")

    def seconds(self) -> float:
        if self.path == Path():
            return float("nan")
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def remove(self) -> None:
        if self.path != Path():
            try:
                self.path.rmdir()
            except OSError as e:
                print(f"cannot remove {self.path}: {e.strerror}", file=sys.stderr)


ACCOUNT: CpuAccount | None = None


def _run(argv: list[str], cwd: Path | None = None) -> None:
    enter = ACCOUNT.enter if ACCOUNT is not None else None
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, preexec_fn=enter)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}")


def _timed(pull: Callable[[str, Path], None], ref: str, root: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one pull."""
    assert ACCOUNT is not None
    os.sync()  # the previous run's writes are not this one's to pay for
    cpu = ACCOUNT.seconds()
    start = time.perf_counter()
    pull(ref, root)
    return time.perf_counter() - start, ACCOUNT.seconds() - cpu


def bench_image(workdir: Path, registry: Registry, name: str, runs: int,
                against: Path | None = None) -> float | None:
    """Push image ``name``, time the contenders on it; the ratio skiff / podman."""
    what, make = IMAGES[name]
    print(f"\n== {name}: {what}", flush=True)
    layout = build_image(workdir, name, make(random.Random(1234)))
    ref = f"{registry.host}/bench/{name}:latest"
    _run(["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
          f"oci:{layout}:latest", f"docker://{ref}"])
    shutil.rmtree(layout)
    manifest = json.loads(subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
        capture_output=True, text=True, check=True).stdout)
    compressed = sum(layer["size"] for layer in manifest["layers"])
    print(f"{len(manifest['layers'])} layers, {compressed / 1e6:.1f} MB compressed", flush=True)

    installed(workdir, REPO_ROOT)
    contenders: list[tuple[str, Callable[[str, Path], None]]] = [
        ("skiff", skiff_pull), ("skiff warm", skiff_pull)]
    if against is not None:
        installed(workdir, against)
        contenders.append(("skiff against", lambda ref, root: skiff_pull(ref, root, against)))
    if shutil.which("podman"):
        contenders.append(("podman", podman_pull))
    contenders.append(("skopeo+umoci", skopeo_umoci))
    times: dict[str, list[float]] = {contender: [] for contender, _ in contenders}
    cpu: dict[str, list[float]] = {contender: [] for contender, _ in contenders}
    again: list[tuple[float, float]] = []
    stores: list[tuple[str, Path]] = []
    try:
        for run in range(runs):
            turn = run % len(contenders)
            for contender, pull in contenders[turn:] + contenders[:turn]:
                root = workdir / f"{contender}-{name}-{run}"
                root.mkdir()
                stores.append((contender, root))
                with private_world(root):
                    if contender == "skiff warm":
                        skiff_warm_up(root)
                    elif contender.startswith("skiff"):
                        os.environ["SKIFF_HELPER_IDLE"] = "60"  # as users have it
                    try:
                        wall, used = _timed(pull, ref, root)
                    finally:
                        if contender.startswith("skiff"):
                            skiff_cool_down(root)
                    times[contender].append(wall)
                    cpu[contender].append(used)
                    if contender == "skiff":
                        again.append(_timed(pull, ref, root))
                print(f"  run {run + 1}: {contender:<14} {times[contender][-1]:6.2f} s "
                      f"(CPU {cpu[contender][-1]:.2f} s)", flush=True)
    finally:
        # Removed only now: ext4 passes over the inodes deleted in the last ~30 s when
        # it makes files, so the run after a removal of thousands of files paid for it
        # (the same skiff pull of the rootfs image took 17 s first, 54 s after one).
        for contender, root in stores:
            if contender == "podman":
                podman_clean(root)
            shutil.rmtree(root, ignore_errors=True)

    print(f"{'contender':<14} {'median s':>9} {'best s':>8} {'MB/s':>7} {'CPU s':>7}")
    for contender, _ in contenders:
        median = statistics.median(times[contender])
        print(f"{contender:<14} {median:9.2f} {min(times[contender]):8.2f} "
              f"{compressed / 1e6 / median:7.1f} {statistics.median(cpu[contender]):7.2f}")
    again_wall = [wall for wall, _ in again]
    print(f"{'skiff again':<14} {statistics.median(again_wall):9.2f} {min(again_wall):8.2f}"
          f" {'':>7} {statistics.median(used for _, used in again):7.2f}"
          "  (every layer present)")
    if "podman" not in times:
        print("podman is not installed: no ratio")
        return None
    for ours in [contender for contender in times if contender.startswith("skiff")]:
        ratio = statistics.median(times[ours]) / statistics.median(times["podman"])
        cpu_ratio = statistics.median(cpu[ours]) / statistics.median(cpu["podman"])
        verdict = "meets" if ratio <= TARGET else "misses"
        print(f"{ours} / podman = {ratio:.2f} ({verdict} the target: at most {TARGET}); "
              f"CPU time {cpu_ratio:.2f}", flush=True)
    return statistics.median(times["skiff"]) / statistics.median(times["podman"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per contender")
    parser.add_argument("--image", action="append", choices=sorted(IMAGES),
                        help="the image(s) to pull (default: both)")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="also time this checkout's skiff pull (cold)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: unpacking layers needs it")
    for tool in (REGISTRY_BIN, "skopeo", "umoci"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")

    global ACCOUNT
    ACCOUNT = CpuAccount()
    workdir = Path(tempfile.mkdtemp(prefix="skiff-bench-pull-"))
    registry: Registry | None = None
    ratios: dict[str, float | None] = {}
    try:
        registry = Registry(workdir)
        for name in args.image or list(IMAGES):
            ratios[name] = bench_image(workdir, registry, name, args.runs,
                                       args.against.resolve() if args.against else None)
    finally:
        if registry is not None:
            registry.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        ACCOUNT.remove()
    print("\n" + "  ".join(f"{name}: skiff / podman = {ratio:.2f}"
                           for name, ratio in ratios.items() if ratio is not None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
