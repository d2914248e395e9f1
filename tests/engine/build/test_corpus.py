"""A corpus of Dockerfiles from busybox and scratch (no network): every instruction and flag,
checked by the image's config, by its files (content, mode, owner, symlinks) and by running it."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.engine.build.helpers import build, files_of, write_context


async def _run(engine: Any, image: str, *cmd: str) -> str:
    from engine.containers.config import ContainerConfig

    container = await engine.containers.create(ContainerConfig(image=image, image_id="",
                                                    cmd=list(cmd) or None))
    try:
        session = await engine.containers.start_attached(container.id)
        chunks = []
        while True:
            stream, data = await session.read()
            if not stream:
                break
            chunks.append(data)
        session.close()
        return b"".join(chunks).decode()
    finally:
        await engine.containers.remove(container.id, force=True, volumes=True)


async def test_metadata_instructions(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": (
        "FROM busybox\n"
        "MAINTAINER someone <a@b.c>\n"
        "ENV A=1 B=\"two words\"\n"
        "ENV C ${A}-legacy\n"
        "LABEL org.test.x=\"$B\" plain=yes\n"
        "EXPOSE 80 53/udp 8000-8001\n"
        "VOLUME [\"/data\"]\n"
        "VOLUME /logs /cache\n"
        "STOPSIGNAL SIGINT\n"
        "HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost || exit 1\n"
        "SHELL [\"/bin/sh\", \"-ec\"]\n"
        "USER 1000:1000\n"
        "WORKDIR /home\n"
        "WORKDIR app\n"
        "ENTRYPOINT [\"echo\"]\n"
        "CMD [\"hi\"]\n"
        "ONBUILD RUN echo triggered > trigger\n")})
    result, _events, _ = await build(engine, tmp_path)
    image = engine._shared.image_store.get(result.image_id)
    run = image.run_config
    assert image.config["author"] == "someone <a@b.c>"
    env = dict(e.split("=", 1) for e in run["Env"])
    assert env["A"] == "1" and env["B"] == "two words" and env["C"] == "1-legacy"
    assert run["Labels"] == {"org.test.x": "two words", "plain": "yes"}
    assert set(run["ExposedPorts"]) == {"80/tcp", "53/udp", "8000/tcp", "8001/tcp"}
    assert set(run["Volumes"]) == {"/data", "/logs", "/cache"}
    assert run["StopSignal"] == "SIGINT"
    assert run["Healthcheck"] == {"Test": ["CMD-SHELL", "wget -q localhost || exit 1"],
                                  "Interval": 5_000_000_000, "Retries": 2}
    assert run["Shell"] == ["/bin/sh", "-ec"]
    assert run["User"] == "1000:1000" and run["WorkingDir"] == "/home/app"
    assert run["Entrypoint"] == ["echo"] and run["Cmd"] == ["hi"]
    assert run["OnBuild"] == ["RUN echo triggered > trigger"]
    history = [h["created_by"] for h in image.config["history"][-16:]]
    # the classic builder's words, as dockerd writes them (compared with Debian's dockerd)
    assert "/bin/sh -c #(nop)  ENV A=1 B=two words" in history
    assert "/bin/sh -c #(nop)  STOPSIGNAL SIGINT" in history
    assert "/bin/sh -c #(nop)  EXPOSE 80 53/udp 8000-8001" in history
    assert "/bin/sh -c #(nop)  HEALTHCHECK &{[\"CMD-SHELL\" \"wget -q localhost || exit 1\"] " \
        "\"5s\" \"0s\" \"0s\" '\\x02'}" in history
    assert "/bin/sh -ec #(nop) WORKDIR /home/app" in history  # the shell SHELL set
    assert "/bin/sh -ec #(nop)  CMD [\"hi\"]" in history
    assert "comment" not in image.config["history"][-1]
    # /home/app was in the base image (app's): WORKDIR left it as it was, and made no
    # layer (test_classic.py checks a WORKDIR that makes its directory)
    entry = files_of(engine, image.id).get("/home/app")
    assert entry is not None and entry.is_dir and (entry.uid, entry.gid) == (1000, 1000)
    assert len(image.layers) == 1
    assert (await _run(engine, image.id)) == "hi\n"

    # ONBUILD: the trigger runs in a child build, and the child does not keep it
    child = tmp_path / "child"
    write_context(child, {"Dockerfile": f"FROM {image.id}\nRUN cat trigger\n"})
    done, _events, text = await build(engine, child)
    assert "# Executing 1 build trigger" in text
    child_image = engine._shared.image_store.get(done.image_id)
    assert "OnBuild" not in child_image.run_config
    assert files_of(engine, child_image.id).read("/home/app/trigger") == b"triggered\n"


async def test_copy_and_add(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {
        "Dockerfile": (
            "FROM busybox\n"
            "COPY --chown=app:app --chmod=640 conf/*.conf /etc/app/\n"
            "COPY --chown=1234 tree /tree\n"
            "COPY single.txt /renamed.txt\n"
            "ADD archive.tar.gz /unpacked/\n"
            "ADD --chown=1234 archive.tar.gz /chowned/\n"
            "ADD single.txt archive.tar.gz /both/\n"
            "COPY <<EOF /heredoc.txt\nline one\nEOF\n"
            "COPY . /all/\n"),
        "conf/a.conf": "a\n", "conf/b.conf": "b\n", "conf/skip.txt": "no\n",
        "tree/sub/file.txt": "deep\n", "single.txt": "one\n",
        "secret.key": "hidden\n", "logs/x.log": "log\n", "logs/keep.log": "keep\n",
        ".dockerignore": "secret.key\nlogs\n!logs/keep.log\n",
    })
    (tmp_path / "tree" / "link").symlink_to("sub/file.txt")
    (tmp_path / "tree" / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "tree" / "run.sh").chmod(0o755)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("inner/x.txt", b"x\n"), ("top.txt", b"top\n")):
            info = tarfile.TarInfo(name)
            info.size, info.uid, info.gid, info.mode = len(data), 7, 8, 0o600
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / "archive.tar.gz").write_bytes(buffer.getvalue())
    result, _events, _ = await build(engine, tmp_path)
    files = files_of(engine, result.image_id)

    def meta(path: str) -> tuple[int, int, int]:
        entry = files.get(path)
        assert entry is not None, path
        return entry.mode & 0o7777, entry.uid, entry.gid

    assert meta("/etc/app/a.conf") == (0o640, 1000, 1000)
    assert files.read("/etc/app/b.conf") == b"b\n" and files.get("/etc/app/skip.txt") is None
    assert meta("/tree/sub/file.txt")[1:] == (1234, 1234)
    assert meta("/tree/run.sh") == (0o755, 1234, 1234)
    link = files.entries["tree/link"]
    assert link.type == tarfile.SYMTYPE and link.linkname == "sub/file.txt"
    assert files.read("/renamed.txt") == b"one\n" and meta("/renamed.txt")[1:] == (0, 0)
    assert files.read("/unpacked/inner/x.txt") == b"x\n"
    assert meta("/unpacked/top.txt") == (0o600, 7, 8)  # the archive's owners
    assert meta("/chowned/inner/x.txt") == (0o600, 1234, 1234)  # or --chown's
    assert files.read("/both/single.txt") == b"one\n" and files.read("/both/top.txt")
    assert files.read("/heredoc.txt") == b"line one\n"
    assert files.get("/all/secret.key") is None and files.get("/all/logs/x.log") is None
    assert files.read("/all/logs/keep.log") == b"keep\n"
    assert files.read("/all/single.txt") == b"one\n"
    assert (await _run(engine, result.image_id, "cat", "/tree/link")) == "deep\n"


async def test_multi_stage_target_and_scratch(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": (
        "ARG BASE=busybox\n"
        "FROM ${BASE} AS builder\n"
        "ARG MSG\n"
        "RUN mkdir -p /out && echo \"$MSG\" > /out/msg && ln -s msg /out/link\n"
        "FROM busybox AS unused\n"
        "RUN exit 1\n"
        "FROM scratch AS final\n"
        "COPY --from=builder /out /\n"
        "COPY --from=0 /bin/busybox /bin/busybox\n"
        "CMD [\"/bin/busybox\", \"cat\", \"/msg\"]\n"
        "FROM builder AS other\n"
        "RUN echo other\n")})
    result, events, text = await build(engine, tmp_path, target="final",
                                       build_args={"MSG": "staged", "UNUSED": "x"})
    assert "RUN exit 1" not in text and "RUN echo other" not in text
    assert "[Warning] One or more build-args [UNUSED] were not consumed" in text
    assert events[0].total == 7  # builder (3 steps) and final (4)
    image = engine._shared.image_store.get(result.image_id)
    assert len(image.layers) == 2
    files = files_of(engine, image.id)
    assert files.read("/msg") == b"staged\n"
    assert files.entries["link"].linkname == "msg"
    assert (await _run(engine, image.id)) == "staged\n"
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in \
        image.run_config["Env"]


async def test_run_deletes_as_whiteouts_and_opaque_dirs(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": (
        "FROM busybox\n"
        "RUN mkdir -p /d/old && touch /d/old/f /d/keep && rm /etc/group\n"
        "RUN rm -rf /d && mkdir /d && echo new > /d/new && ln -s /d/new /lnk "
        "&& touch /owned && chown 4321:4321 /owned\n"
        "RUN [\"sh\", \"-c\", \"echo exec form > /exec\"]\n"
        "RUN <<EOF\necho from heredoc > /heredoc\nEOF\n")})
    result, _events, _ = await build(engine, tmp_path)
    image = engine._shared.image_store.get(result.image_id)
    files = files_of(engine, image.id)
    assert files.get("/etc/group") is None
    assert files.get("/d/old") is None and files.get("/d/keep") is None
    assert files.read("/d/new") == b"new\n"
    assert files.entries["lnk"].linkname == "/d/new"
    owned = files.get("/owned")
    assert owned is not None and (owned.uid, owned.gid) == (4321, 4321)
    assert files.read("/exec") == b"exec form\n" and files.read("/heredoc") == b"from heredoc\n"
    out = await _run(engine, image.id, "sh", "-c", "ls /d; cat /d/new; ls /etc/group 2>&1")
    assert out.startswith("new\nnew\n") and "No such file" in out
    history = [h["created_by"] for h in image.config["history"]]
    assert any(h.startswith("/bin/sh -c echo from heredoc") for h in history)
    assert "sh -c echo exec form > /exec" in history


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
async def test_saved_image_reads_with_skopeo(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo x > /x\n"
                                           "CMD [\"cat\", \"/x\"]\n"})
    result, _events, _ = await build(engine, tmp_path, tags=("skopeo-check:1",))
    archive = tmp_path / "saved.tar"
    await engine.images.save(["skopeo-check:1"], archive)
    done = subprocess.run(["skopeo", "inspect", "--config", f"docker-archive:{archive}"],
                          capture_output=True, text=True, check=True)
    config = json.loads(done.stdout)
    assert config["config"]["Cmd"] == ["cat", "/x"]
    image = engine._shared.image_store.get(result.image_id)
    assert config["rootfs"]["diff_ids"] == [la.diff_id for la in image.layers]


async def test_copy_through_a_linked_directory_and_history_ids(engine: Any,
                                                               tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": (
        "FROM busybox\n"
        "RUN mkdir -p /real && ln -s /real /linked\n"
        "COPY f.txt /linked/\n"
        "COPY f.txt /linked/sub/g.txt\n"), "f.txt": "f\n"})
    result, events, _ = await build(engine, tmp_path)
    files = files_of(engine, result.image_id)
    assert files.read("/real/f.txt") == b"f\n" and files.read("/real/sub/g.txt") == b"f\n"
    assert files.entries["linked"].type == tarfile.SYMTYPE
    steps = [e.image_id for e in events if e.kind == "step_done"]
    history = await engine.images.history(result.image_id)
    assert [h.id for h in history[:4]] == list(reversed(steps))


async def test_add_url_copy_from_image_and_network_none(engine: Any, tmp_path: Path) -> None:
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    (served / "remote.txt").write_text("downloaded\n")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        context = tmp_path / "ctx"
        write_context(context, {"Dockerfile": (
            "FROM scratch\n"
            f"ADD http://127.0.0.1:{port}/remote.txt /dl/\n"
            "COPY --from=busybox /bin/busybox /bin/sh\n"
            "FROM busybox\n"
            "COPY --from=0 /dl/remote.txt /remote.txt\n"
            "RUN ls /sys/class/net > /nets\n")})
        result, _events, _ = await build(engine, context, network="none")
    finally:
        server.shutdown()
        thread.join()
    files = files_of(engine, result.image_id)
    assert files.read("/remote.txt") == b"downloaded\n"
    entry = files.get("/remote.txt")
    assert entry is not None and entry.mode & 0o777 == 0o600
    assert files.read("/nets") == b"lo\n"


async def test_heredocs(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": (
        "FROM busybox\n"
        "ARG WHO=world\n"
        "COPY <<EOF /expanded\nhello $WHO\nEOF\n"
        "COPY <<\"EOF\" /kept\nhello $WHO\nEOF\n"
        "COPY <<-EOT /dir/\n\ttabbed\n\tEOT\n"
        "RUN <<EOF\necho \"ran for $WHO\" > /ran\nEOF\n"
        "RUN cat <<EOF > /catted\nvia cat\nEOF\n")})
    result, _events, _ = await build(engine, tmp_path)
    files = files_of(engine, result.image_id)
    assert files.read("/expanded") == b"hello world\n"
    assert files.read("/kept") == b"hello $WHO\n"
    assert files.read("/dir/EOT") == b"tabbed\n"
    assert files.read("/ran") == b"ran for world\n"
    assert files.read("/catted") == b"via cat\n"


async def test_run_after_volume_leaves_no_volume(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": (
        "FROM busybox\nVOLUME /data\nRUN echo lost > /data/x && echo kept > /kept\n")})
    before = {v.name for v in await engine.volumes.list()}
    result, _events, _ = await build(engine, tmp_path)
    assert {v.name for v in await engine.volumes.list()} == before
    files = files_of(engine, result.image_id)
    assert files.read("/kept") == b"kept\n" and files.get("/data/x") is None


async def test_run_mounts(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": (
        "FROM busybox\n"
        "RUN --mount=type=cache,target=/cache,id=counter "
        "echo x >> /cache/hits && wc -l < /cache/hits > /seen\n"
        "RUN --mount=type=tmpfs,target=/scratch touch /scratch/t && ls /scratch > /tmpls\n"
        "RUN --mount=type=bind,source=src,target=/src --mount=type=tmpfs,target=/t "
        "cat /src/in.txt > /from-bind && (touch /src/no 2>/dev/null || echo ro > /ro)\n"),
        "src/in.txt": "bound\n"})
    first, _events, _ = await build(engine, tmp_path, no_cache=True)
    files = files_of(engine, first.image_id)
    assert files.read("/tmpls") == b"t\n" and files.read("/from-bind") == b"bound\n"
    assert files.read("/ro") == b"ro\n"
    assert files.get("/cache/hits") is None and files.get("/scratch/t") is None
    assert files.get("/src/in.txt") is None
    second, _events, _ = await build(engine, tmp_path, no_cache=True)
    assert files_of(engine, second.image_id).read("/seen") == b"2\n"  # the cache stayed
    caches = [v for v in await engine.volumes.list() if v.name.startswith("buildcache-")]
    for volume in caches:
        await engine.volumes.remove(volume.name)
    assert caches


def test_mount_errors(tmp_path: Path) -> None:
    from engine.build.context import open_context
    from engine.build.dockerfile import parse
    from engine.build.runmounts import run_mounts
    from engine.errors import InvalidArgument

    context = open_context(write_context(tmp_path, {"Dockerfile": ""}))
    for flag, message in (("type=secret,id=x,target=/s", "type=secret is not supported"),
                          ("type=bind,from=stage,target=/x", "from="),
                          ("type=bind,target=/x,rw", "writable"),
                          ("type=cache", "a target is required")):
        ins = parse(f"FROM busybox\nRUN --mount={flag} true\n").stages[0].instructions[0]
        with pytest.raises(InvalidArgument, match=message):
            run_mounts(ins, context, "/")


def test_context_links_stay_inside(tmp_path: Path) -> None:
    from engine.build.context import open_context

    root = write_context(tmp_path / "ctx", {"Dockerfile": "", "real/file": "x"})
    (root / "out").symlink_to("/etc")
    (root / "in").symlink_to("real")
    (root / "abs").symlink_to("/real/file")
    context = open_context(root)
    assert context.inside("out/passwd", follow_last=True) == root / "etc" / "passwd"
    assert context.inside("out", follow_last=True) == root / "etc"
    assert context.inside("in/file") == root / "real" / "file"
    assert context.inside("abs", follow_last=True) == root / "real" / "file"
    assert context.inside("abs") == root / "abs"


async def test_add_checksum(engine: Any, tmp_path: Path) -> None:
    import hashlib

    from engine.errors import InvalidArgument

    good = "sha256:" + hashlib.sha256(b"sum\n").hexdigest()
    write_context(tmp_path, {"Dockerfile": f"FROM busybox\nADD --checksum={good} f /f\n",
                             "f": "sum\n"})
    result, _events, _ = await build(engine, tmp_path)
    assert files_of(engine, result.image_id).read("/f") == b"sum\n"
    (tmp_path / "Dockerfile").write_text("FROM busybox\nADD --checksum=sha256:00 f /f\n")
    with pytest.raises(InvalidArgument, match="digest mismatch"):
        await build(engine, tmp_path)


async def test_copy_exclude_and_parents(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {
        "Dockerfile": (
            "FROM busybox\n"
            "COPY --exclude=*.txt hom* /excl/\n"
            "COPY --exclude=**/*.log --exclude=sub/skip.md tree /tree/\n"
            "COPY --parents x/a.txt y/sub/b.txt /kept/\n"
            "COPY --parents ./y/./sub/*.txt /pivot/\n"
            "COPY --parents tree /whole/\n"),
        "home.md": "md\n", "homfile.txt": "no\n",
        "tree/keep.md": "k\n", "tree/run.log": "no\n", "tree/sub/deep.log": "no\n",
        "tree/sub/skip.md": "no\n", "tree/sub/ok.md": "ok\n",
        "x/a.txt": "a\n", "y/sub/b.txt": "b\n"})
    result, _events, _ = await build(engine, tmp_path)
    files = files_of(engine, result.image_id)
    assert files.read("/excl/home.md") == b"md\n" and files.get("/excl/homfile.txt") is None
    assert files.read("/tree/keep.md") == b"k\n" and files.read("/tree/sub/ok.md") == b"ok\n"
    assert files.get("/tree/run.log") is None and files.get("/tree/sub/deep.log") is None
    assert files.get("/tree/sub/skip.md") is None
    assert files.read("/kept/x/a.txt") == b"a\n" and files.read("/kept/y/sub/b.txt") == b"b\n"
    assert files.read("/pivot/sub/b.txt") == b"b\n" and files.get("/pivot/y") is None
    assert files.read("/whole/tree/keep.md") == b"k\n"
    assert files.read("/whole/tree/sub/deep.log") == b"no\n"
