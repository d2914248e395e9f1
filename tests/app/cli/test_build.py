"""``skiff build`` and ``skiff commit`` end to end: docker's output, exit codes, and running
what was built."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures import cli

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]
Skiff = Callable[..., subprocess.CompletedProcess[str]]


def _run(*args: str, stdin_bytes: bytes | None = None, cwd: Path = REPO,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return cli.skiff(*args, stdin_bytes=stdin_bytes or b"", cwd=cwd, timeout=timeout)


@pytest.fixture
def skiff(busybox_image: str, skiff_root: Path) -> Iterator[Skiff]:
    def listed(*args: str) -> set[str]:
        return set(_run(*args).stdout.split())

    containers = listed("ps", "-aq", "--no-trunc")
    images = listed("images", "-aq", "--no-trunc")
    yield _run
    leftover = listed("ps", "-aq", "--no-trunc") - containers
    if leftover:
        _run("rm", "-f", *sorted(leftover))
    for image in listed("images", "-aq", "--no-trunc") - images:
        _run("rmi", "-f", image)


def _context(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_build_tag_and_run(skiff: Skiff, tmp_path: Path) -> None:
    _context(tmp_path, {
        "Dockerfile": "FROM busybox\nARG WHO=world\nRUN echo \"hello $WHO\" > /greeting\n"
                      "CMD [\"cat\", \"/greeting\"]\n"})
    done = skiff("build", "-t", "clibuild:1", "--build-arg", "WHO=skiff", str(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Step 1/4 : FROM busybox"
    assert "Step 3/4 : RUN echo \"hello $WHO\" > /greeting" in lines
    assert any(line.startswith(" ---> Running in ") for line in lines)
    assert lines[-2].startswith("Successfully built ")
    assert lines[-1] == "Successfully tagged clibuild:1"
    ran = skiff("run", "--rm", "clibuild:1")
    assert ran.stdout == "hello skiff\n", ran.stderr
    again = skiff("build", "-q", "-t", "clibuild:1", "--build-arg", "WHO=skiff", str(tmp_path))
    assert again.returncode == 0 and again.stdout.startswith("sha256:")
    assert again.stdout.strip().removeprefix("sha256:")[:12] in done.stdout


def test_failing_run_exits_with_its_code(skiff: Skiff, tmp_path: Path) -> None:
    _context(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo before; exit 3\n"})
    done = skiff("build", str(tmp_path))
    assert done.returncode == 3
    assert "before\n" in done.stdout
    assert "The command '/bin/sh -c echo before; exit 3' returned a non-zero code: 3" in \
        done.stderr
    assert not [c for c in skiff("ps", "-a", "--format", "{{.Image}}").stdout.split()
                if c.startswith("sha256:")]


def test_context_from_stdin_tar_and_dockerfile_flag(skiff: Skiff, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("build/Custom", b"FROM busybox\nCOPY data.txt /data.txt\n"),
                           ("data.txt", b"from stdin\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    done = skiff("build", "-f", "build/Custom", "-t", "stdinbuild", "-",
                 stdin_bytes=buffer.getvalue())
    assert done.returncode == 0, done.stderr
    ran = skiff("run", "--rm", "stdinbuild", "cat", "/data.txt")
    assert ran.stdout == "from stdin\n"


def test_unknown_instruction_names_file_and_line(skiff: Skiff, tmp_path: Path) -> None:
    _context(tmp_path, {"Dockerfile": "FROM busybox\n\nBOGUS thing\n"})
    done = skiff("build", str(tmp_path))
    assert done.returncode == 1
    assert "Dockerfile:3" in done.stderr and "unknown instruction: BOGUS" in done.stderr


def test_commit_a_container(skiff: Skiff) -> None:
    made = skiff("run", "--name", "tocommit", "busybox", "sh", "-c",
                 "echo committed > /made && rm /etc/group")
    assert made.returncode == 0, made.stderr
    done = skiff("commit", "-m", "by test", "-c", "CMD [\"cat\", \"/made\"]", "tocommit",
                 "committed:1")
    assert done.returncode == 0, done.stderr
    assert skiff("run", "--rm", "committed:1").stdout == "committed\n"
    gone = skiff("run", "--rm", "committed:1", "ls", "/etc/group")
    assert gone.returncode != 0
    history = skiff("history", "--no-trunc", "--format", "{{.Comment}}", "committed:1")
    assert history.stdout.splitlines()[0] == "by test"


def test_builder_prune_asks_then_removes_the_cache(skiff: Skiff, tmp_path: Path) -> None:
    _context(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo one > /one\n"
                                      "RUN echo two > /two\nLABEL x=y\n"})
    assert skiff("build", "-q", "-t", "cliprune:1", str(tmp_path)).returncode == 0
    df = skiff("system", "df", "-v")
    assert "Build cache usage:" in df.stdout and df.stdout.count(" regular ") == 2
    no = skiff("builder", "prune", "-a", stdin_bytes=b"n\n")
    assert no.stdout == ("WARNING! This will remove all build cache.\n"
                         "Are you sure you want to continue? [y/N] ")
    kept = skiff("builder", "prune", "-a", "-f", "--keep-storage", "1gb")  # all fits
    assert kept.stdout == "Total reclaimed space: 0B\n", kept.stderr
    dangling = skiff("builder", "prune", "-f")  # the steps under a tagged image stay
    assert dangling.stdout == "Total reclaimed space: 0B\n", dangling.stderr
    done = skiff("builder", "prune", "-a", stdin_bytes=b"y\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].endswith("[y/N] Deleted build cache objects:") and len(lines) == 6
    assert lines[-1].startswith("Total reclaimed space: ")
    summary = skiff("system", "df", "--format", "{{.Type}} {{.TotalCount}}").stdout
    assert "Build Cache 0" in summary
    bad = skiff("builder", "prune", "-f", "--filter", "label=x")
    assert bad.returncode == 125 and "until" in bad.stderr


def test_build_from_a_url_with_its_own_dockerfile(skiff: Skiff, tmp_path: Path) -> None:
    """skiff build URL: a tar served on loopback is the context, and -f names a file in it."""
    import functools
    import http.server
    import threading

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("build/Custom", b"FROM busybox\nCOPY data.txt /data.txt\n"),
                           ("data.txt", b"from a URL\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / "ctx.tar.gz").write_bytes(buffer.getvalue())
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/ctx.tar.gz"
        # a local file of the same name is not the one: -f is the remote context's
        (tmp_path / "build").mkdir()
        (tmp_path / "build" / "Custom").write_text("FROM busybox\nRUN exit 9\n")
        done = skiff("build", "-q", "-f", "build/Custom", "-t", "urlbuild:1", url,
                     cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        ran = skiff("run", "--rm", "urlbuild:1", "cat", "/data.txt")
        assert ran.stdout == "from a URL\n", ran.stderr
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
