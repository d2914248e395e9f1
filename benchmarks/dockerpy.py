"""docker-py's own integration suite, unchanged, against ``skiff serve`` and against dockerd.

    .venv/bin/python benchmarks/dockerpy.py [--source DIR] [--against skiff|dockerd|both]
        [--reference FILE] [--save DIR] [--api-version 1.41] [-k EXPR] [TEST ...]

The third-party check of the Docker API: docker-py's ``tests/integration`` at the
tag of the installed ``docker`` package (``--source``: a checkout of it; without
it the tag is cloned from GitHub into the work directory) runs once against a
private ``skiff serve`` and once against a private dockerd (Debian's docker.io,
in a network namespace of its own so its docker0 and iptables rules stay there).
Both get the same images with no network: the busybox-static test image tagged
as the suite's alpine, busybox and hello-world. Both run at API 1.41, the newest
dockerd 20.10 speaks. Prints each side's counts, then every test whose outcome
differs, with the first line of its failure. ``--save DIR`` keeps each
side's outcomes (SIDE.json) and server log; ``--reference DIR/dockerd.json``
compares with a saved run instead of running dockerd again. Needs root, the
docker CLI, skopeo and umoci.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.apiservers import docker, ready, stop  # noqa: E402
from benchmarks.isolation import private_world  # noqa: E402
from tests.fixtures.images import build_busybox_oci  # noqa: E402

#: The images docker-py's integration tests name; each is the busybox test image.
SUITE_IMAGES = ("alpine:3.10", "alpine:latest", "busybox:latest", "hello-world:latest")
REPOSITORY = "https://github.com/docker/docker-py"
Outcomes = dict[str, tuple[str, str]]  # test id -> (outcome, first line of its message)


@contextlib.contextmanager
def skiff_server(work: Path) -> Iterator[Path]:
    base = work / "skiff"
    sock = base / "docker.sock"
    (base / "docker-config").mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with (base / "serve.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host",
                                    f"unix://{sock}"], env=env, cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=log)
    try:
        ready(sock, process, "skiff serve", timeout=120)
        yield sock
    finally:
        stop(process, timeout=60)


@contextlib.contextmanager
def dockerd_server(work: Path) -> Iterator[Path]:
    binary = shutil.which("dockerd")
    if binary is None:
        raise RuntimeError("dockerd is not installed (Debian's docker.io)")
    base = work / "dockerd"
    sock = base / "docker.sock"
    (base / "docker-config").mkdir(parents=True)
    parent = f"skiff-pysuite-dockerd-{os.getpid()}"
    daemon = [binary, "--data-root", str(base / "data"), "--exec-root", str(base / "exec"),
              "--pidfile", str(base / "dockerd.pid"), "-H", f"unix://{sock}",
              "--cgroup-parent", parent]
    # Its own network namespace: docker0 and the iptables rules dockerd adds stay there.
    script = 'ip link set lo up && exec "$@"'
    with (base / "dockerd.log").open("wb") as log:
        process = subprocess.Popen(["unshare", "--net", "--", "sh", "-c", script, "sh",
                                    *daemon], stdout=log, stderr=log)
    try:
        ready(sock, process, "dockerd", timeout=120)
        yield sock
    finally:
        stop(process, timeout=60)
        subprocess.run(["umount", "-R", "-l", str(base / "exec")], check=False,
                       stderr=subprocess.DEVNULL)
        _remove_cgroups(parent)


def load_images(sock: Path, archive: Path) -> None:
    docker(sock, "load", "-q", "-i", str(archive))
    for name in SUITE_IMAGES:
        docker(sock, "tag", "busybox:latest", name)


def empty(sock: Path) -> None:
    """What the suite left (a failed tearDown, the swarm tests): containers, then the
    networks and volumes, so that nothing of the run outlives it."""
    left = docker(sock, "ps", "-aq", check=False).stdout.split()
    if left:
        docker(sock, "rm", "-f", "-v", *left, check=False)
    docker(sock, "network", "prune", "-f", check=False)
    docker(sock, "volume", "prune", "-af", check=False)


def _remove_cgroups(name: str) -> None:
    for cgroup in sorted(Path("/sys/fs/cgroup").glob(f"**/{name}"), reverse=True):
        with contextlib.suppress(OSError):
            cgroup.rmdir()


def source_tree(given: Path | None, work: Path) -> Path:
    """The docker-py checkout whose tag is the installed package's version."""
    import docker

    if given is not None:
        return given.resolve()
    checkout = work / "docker-py"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", docker.__version__,
                    REPOSITORY, str(checkout)], check=True)
    return checkout


def run_suite(sock: Path, source: Path, junit: Path, api_version: str,
              selection: list[str], keyword: str | None) -> None:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DOCKER_", "SKIFF_"))}
    env.update(DOCKER_HOST=f"unix://{sock}", DOCKER_CONFIG=str(sock.parent / "docker-config"),
               DOCKER_TEST_API_VERSION=api_version, PYTHONDONTWRITEBYTECODE="1")
    home = sock.parent / "home"  # the context tests write HOME/.docker
    home.mkdir(exist_ok=True)
    env["HOME"] = str(home)
    # credentials/utils_test.py replaces os.environ for good, after which docker-py
    # dials its default socket: in a mount namespace of the run's own, that is ours.
    default = f"mount -t tmpfs tmpfs /run && ln -s {sock} /run/docker.sock && exec \"$@\""
    command = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", default,
               "sh", sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:asyncio",
               "-p", "no:pytestqt", "-q",
               "--timeout", "180", f"--junitxml={junit}", "-o", "addopts=",
               "-o", "junit_family=xunit2",
               *(["-k", keyword] if keyword else []),
               *(selection or ["tests/integration"])]
    subprocess.run(command, cwd=source, env=env, check=False)


def read_junit(junit: Path) -> Outcomes:
    outcomes: Outcomes = {}
    for case in ET.parse(junit).iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                message = (child.get("message") or child.text or "").strip()
                break
        outcomes[name] = (outcome, message.splitlines()[0][:160] if message else "")
    return outcomes


def report(sides: dict[str, Outcomes]) -> None:
    for side, outcomes in sides.items():
        counts = Counter(outcome for outcome, _ in outcomes.values())
        print(f"{side:<8} " + ", ".join(f"{n} {what}" for what, n in sorted(counts.items())))
    if len(sides) != 2:
        return
    (left, ours), (right, theirs) = sides.items()
    differ = sorted(name for name in ours.keys() | theirs.keys()
                    if ours.get(name, ("absent", ""))[0] != theirs.get(name, ("absent", ""))[0])
    print(f"\n{len(differ)} tests differ ({left} / {right}):")
    for name in differ:
        mine, reference = ours.get(name, ("absent", "")), theirs.get(name, ("absent", ""))
        print(f"  {name}: {mine[0]} / {reference[0]}")
        for _, message in (mine, reference):
            if message:
                print(f"      {message}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="a docker-py checkout at the tag")
    parser.add_argument("--against", choices=("skiff", "dockerd", "both"), default="both")
    parser.add_argument("--reference", type=Path, help="dockerd's outcomes saved by --save")
    parser.add_argument("--save", type=Path,
                        help="a directory for each side's outcomes (SIDE.json) and server log")
    parser.add_argument("--api-version", default="1.41")
    parser.add_argument("-k", dest="keyword")
    parser.add_argument("tests", nargs="*", help="test paths inside the checkout")
    options = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("docker") is None:
        print("run this as root, with the docker CLI installed", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="skiff-pysuite-"))
    world = private_world(work)
    world.__enter__()
    sides: dict[str, Outcomes] = {}
    try:
        source = source_tree(options.source, work)
        archive = work / "busybox.tar"
        subprocess.run(["skopeo", "copy", "-q", f"oci:{build_busybox_oci(work)}:latest",
                        f"docker-archive:{archive}:busybox:latest"], check=True)
        servers = {"skiff": skiff_server, "dockerd": dockerd_server}
        wanted = ["skiff", "dockerd"] if options.against == "both" else [options.against]
        for side in wanted:
            with servers[side](work) as sock:
                load_images(sock, archive)
                junit = work / f"{side}.xml"
                try:
                    run_suite(sock, source, junit, options.api_version, options.tests,
                              options.keyword)
                finally:
                    empty(sock)
                sides[side] = read_junit(junit)
            if options.save is not None:
                options.save.mkdir(parents=True, exist_ok=True)
                (options.save / f"{side}.json").write_text(json.dumps(sides[side], indent=1))
                log = {"skiff": "serve.log", "dockerd": "dockerd.log"}[side]
                shutil.copy(work / side / log, options.save / log)
        if options.reference is not None:
            saved = json.loads(options.reference.read_text())
            sides["dockerd"] = {name: (outcome, message) for name, (outcome, message)
                                in saved.items()}
        report(sides)
    finally:
        world.__exit__(None, None, None)
        _remove_cgroups(os.environ["SKIFF_CGROUP_PARENT"])
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
