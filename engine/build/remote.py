"""Build contexts that are not on this machine: a git repository or a URL, as docker's.

``skiff build URL`` (and the API's ``remote=``) takes what ``docker build`` takes:

- a git repository: ``https://host/repo.git``, ``git://...``, ``git@host:repo``,
  ``github.com/owner/repo``, each with an optional ``#REF:SUBDIR`` (a branch, tag
  or commit, and the context's directory in it). It is fetched with the ``git``
  command into a private temporary directory (shallow where the server can; its
  submodules too), and the context is SUBDIR of the checkout, never outside it;
- any other ``http(s)://`` URL: its body is the context when it is a tar (plain
  or compressed), else it is the Dockerfile, with an empty context.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from engine.errors import InvalidArgument

__all__ = ["is_git_url", "is_remote", "open_git", "open_url"]

_GIT_SUFFIX = re.compile(r"\.git(?:#.+)?$")
_MAX_BODY = 1 << 30  # a context of more than a GiB from a URL is refused


def is_git_url(text: str) -> bool:
    """docker's IsGitURL: a git scheme or host prefix, or an http(s) URL of a ``.git``."""
    if text.startswith(("git://", "github.com/", "git@")):
        return True
    return text.startswith(("http://", "https://")) and \
        bool(_GIT_SUFFIX.search(text.split("?", 1)[0]))


def is_remote(text: str) -> bool:
    return is_git_url(text) or text.startswith(("http://", "https://"))


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PROTOCOL_FROM_USER": "0"}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              env=env, timeout=600)
    except FileNotFoundError:
        raise InvalidArgument("unable to prepare context: git is not installed: install it "
                              "to build from a git repository") from None
    except subprocess.TimeoutExpired:
        raise InvalidArgument(f"unable to prepare context: git {args[0]} took longer than "
                              "10 minutes") from None
    if done.returncode:
        raise InvalidArgument(f"unable to prepare context: git {args[0]} failed: "
                              f"{(done.stderr or done.stdout).strip()}")
    return done.stdout


def _smart_http(remote: str) -> bool:
    """Whether an http(s) git server speaks the smart protocol (only that one can
    fetch shallow), as docker asks it."""
    import httpx

    if not remote.startswith(("http://", "https://")):
        return True
    try:
        answer = httpx.get(f"{remote}/info/refs?service=git-upload-pack", timeout=30,
                           follow_redirects=True)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and answer.headers.get("content-type") == \
        "application/x-git-upload-pack-advertisement"


def open_git(url: str) -> tuple[Path, Path]:
    """(checkout root to remove afterwards, the context directory in it)."""
    remote, _, fragment = url.partition("#")
    ref, _, subdir = fragment.partition(":")
    if remote.startswith("github.com/"):
        remote = "https://" + remote
    root = Path(tempfile.mkdtemp(prefix="skiff-build-git-"))
    try:
        _git("init", "-q", cwd=root)
        _git("remote", "add", "origin", remote, cwd=root)
        depth = ["--depth", "1"] if _smart_http(remote) else []
        _git("fetch", "-q", *depth, "origin", "--", ref or "HEAD", cwd=root)
        _git("checkout", "-q", "FETCH_HEAD", cwd=root)
        _git("submodule", "update", "-q", "--init", "--recursive", "--depth=1", cwd=root)
        shutil.rmtree(root / ".git", ignore_errors=True)
        context = _inside(root, subdir)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root, context


def _inside(root: Path, subdir: str) -> Path:
    """SUBDIR of the checkout: a directory in it, whatever links the repository holds."""
    if not subdir:
        return root
    resolved = (root / subdir.strip("/")).resolve()
    if resolved != root and root not in resolved.parents:
        raise InvalidArgument(f"unable to prepare context: subdirectory {subdir!r} is "
                              "outside the repository")
    if not resolved.is_dir():
        raise InvalidArgument(f"unable to prepare context: subdirectory {subdir!r} of the "
                              "repository is not a directory")
    return resolved


def open_url(url: str) -> Path:
    """The URL's body in a private temporary file (removed by the caller)."""
    import httpx

    handle, name = tempfile.mkstemp(prefix="skiff-build-url-")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as sink, \
                httpx.stream("GET", url, follow_redirects=True, timeout=60) as answer:
            if answer.status_code >= 400:
                raise InvalidArgument(f"unable to prepare context: unable to download remote "
                                      f"context {url}: {answer.status_code} "
                                      f"{answer.reason_phrase}")
            written = 0
            for chunk in answer.iter_bytes():
                written += len(chunk)
                if written > _MAX_BODY:
                    raise InvalidArgument(f"unable to prepare context: {url} is larger "
                                          "than 1 GiB")
                sink.write(chunk)
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise InvalidArgument(f"unable to prepare context: unable to download remote "
                              f"context {url}: {exc}") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
