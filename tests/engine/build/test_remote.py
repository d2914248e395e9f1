"""Build contexts from a git repository and from a URL, served from this machine over HTTP."""

from __future__ import annotations

import functools
import http.server
import io
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.build.builder import BuildOptions
from engine.build.context import open_context
from engine.build.remote import is_git_url
from engine.errors import InvalidArgument
from tests.engine.build.helpers import files_of


def test_which_urls_are_git() -> None:
    assert is_git_url("https://example.com/team/app.git")
    assert is_git_url("https://example.com/team/app.git#main:sub")
    assert is_git_url("git://example.com/app") and is_git_url("git@example.com:app")
    assert is_git_url("github.com/docker/rootfs")
    assert not is_git_url("https://example.com/context.tar.gz")
    assert not is_git_url("./app.git") and not is_git_url("/tmp/x")


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                   check=True, capture_output=True)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, the directory it serves): plain HTTP on loopback (git's dumb protocol)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _repository(tmp_path: Path, www: Path) -> None:
    work = tmp_path / "work"
    (work / "app").mkdir(parents=True)
    _git("init", "-q", "-b", "main", cwd=work)
    (work / "Dockerfile").write_text("FROM busybox\nCOPY top.txt /top.txt\n")
    (work / "top.txt").write_text("main\n")
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "main", cwd=work)
    _git("checkout", "-q", "-b", "feature", cwd=work)
    (work / "app" / "Dockerfile").write_text("FROM busybox\nCOPY note.txt /note.txt\n")
    (work / "app" / "note.txt").write_text("from the feature branch\n")
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "feature", cwd=work)
    _git("checkout", "-q", "main", cwd=work)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(www / "repo.git")],
                   check=True, capture_output=True)
    subprocess.run(["git", "update-server-info"], cwd=www / "repo.git", check=True)


async def _built(engine: Any, source: str, **options: Any) -> Any:
    context = open_context(source)
    try:
        result = await engine.images.build(context, BuildOptions(**options))
    finally:
        context.close()
    assert not context.root.exists()
    if context.checkout is not None:
        assert not context.checkout.exists()
    return files_of(engine, result.image_id)


async def test_git_repository_with_ref_and_subdirectory(engine: Any, tmp_path: Path,
                                                        served: tuple[str, Path]) -> None:
    base, www = served
    _repository(tmp_path, www)
    files = await _built(engine, f"{base}/repo.git#feature:app")
    assert files.read("/note.txt") == b"from the feature branch\n"
    files = await _built(engine, f"{base}/repo.git")  # HEAD, the whole repository
    assert files.read("/top.txt") == b"main\n"
    with pytest.raises(InvalidArgument, match="outside the repository"):
        open_context(f"{base}/repo.git#feature:../..")
    with pytest.raises(InvalidArgument, match="git fetch failed"):
        open_context(f"{base}/repo.git#no-such-branch")


async def test_url_of_a_tar_or_of_a_dockerfile(engine: Any, served: tuple[str, Path]) -> None:
    base, www = served
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("Dockerfile", b"FROM busybox\nCOPY in.txt /in.txt\n"),
                           ("in.txt", b"from a tar\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (www / "context.tar.gz").write_bytes(buffer.getvalue())
    (www / "Dockerfile.txt").write_text("FROM busybox\nRUN echo from a URL > /made\n")
    files = await _built(engine, f"{base}/context.tar.gz")
    assert files.read("/in.txt") == b"from a tar\n"
    files = await _built(engine, f"{base}/Dockerfile.txt")
    assert files.read("/made") == b"from a URL\n"
    with pytest.raises(InvalidArgument, match="404"):
        open_context(f"{base}/missing.tar")
