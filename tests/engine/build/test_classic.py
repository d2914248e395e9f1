"""The classic builder's history words: the sums and texts below are what Debian's dockerd
20.10 wrote (``DOCKER_BUILDKIT=0 docker build``) for the same contexts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.build.classic import go_duration, go_healthcheck, nop, nop_copy, run_text
from tests.engine.build.helpers import build, files_of, write_context


def test_go_words() -> None:
    assert [go_duration(n) for n in (0, 500_000_000, 90_000_000_000, 3600_000_000_000,
                                     1_500_000_000, 1_500)] == \
        ["0s", "500ms", "1m30s", "1h0m0s", "1.5s", "1.5µs"]
    assert go_healthcheck({"Test": ["CMD", "true"], "Interval": 90_000_000_000,
                           "Timeout": 500_000_000, "StartPeriod": 2_000_000_000,
                           "Retries": 3}) == \
        "HEALTHCHECK &{[\"CMD\" \"true\"] \"1m30s\" \"500ms\" \"2s\" '\\x03'}"
    assert go_healthcheck({"Test": ["NONE"]}) == \
        "HEALTHCHECK &{[\"NONE\"] \"0s\" \"0s\" \"0s\" '\\x00'}"
    assert nop(None, "ENV A=1") == "/bin/sh -c #(nop)  ENV A=1"
    assert nop_copy(["/bin/sh", "-ec"], "WORKDIR /w") == "/bin/sh -ec #(nop) WORKDIR /w"
    assert run_text(["/bin/sh", "-c", "echo $V"], [("V", "1")]) == "|1 V=1 /bin/sh -c echo $V"
    assert run_text(["true"], []) == "true"


async def test_history_as_dockerd_writes_it(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {
        "Dockerfile": (
            "FROM busybox\n"
            "ARG V=1\n"
            "USER 1000:1000\n"
            "WORKDIR /w1\n"
            "USER root\n"
            "COPY a.txt /x/\n"
            "COPY d /dd\n"
            "COPY --chown=7:8 a.txt /c/\n"
            "COPY a.txt b.txt /m/\n"
            "COPY *.txt /g/\n"
            "RUN echo $V > /v\n"
            "RUN [\"sh\", \"-c\", \"echo hi > /h\"]\n"),
        "a.txt": "hello\n", "b.txt": "b\n", "d/y": "x\n"})
    for name in ("a.txt", "b.txt", "d/y"):
        (tmp_path / name).chmod(0o644)
    (tmp_path / "d").chmod(0o755)
    result, _events, _ = await build(engine, tmp_path)
    image = engine._shared.image_store.get(result.image_id)
    history = [h["created_by"] for h in image.config["history"]][-11:]
    a = "file:679c43c79a56cffbb3b002bda3050542c152a2f09757a0f1a9578871f7cda00d"
    both = "multi:47aa993e7e839b50aafd60bb1fb22e752a479d6f9efeba91e01b16e09aec378e"
    assert history == [
        "/bin/sh -c #(nop)  ARG V=1",
        "/bin/sh -c #(nop)  USER 1000:1000",
        "/bin/sh -c #(nop) WORKDIR /w1",
        "/bin/sh -c #(nop)  USER root",
        f"/bin/sh -c #(nop) COPY {a} in /x/ ",
        "/bin/sh -c #(nop) COPY dir:efb3e27ccbd7756dc81c33bc0ec97283a11bc009849577c8577361bec"
        "84153d1 in /dd ",
        f"/bin/sh -c #(nop) COPY --chown=7:8{a} in /c/ ",
        f"/bin/sh -c #(nop) COPY {both} in /m/ ",
        f"/bin/sh -c #(nop) COPY {both} in /g/ ",
        "|1 V=1 /bin/sh -c echo $V > /v",
        "|1 V=1 sh -c echo hi > /h",
    ]
    workdir = files_of(engine, image.id).get("/w1")
    assert workdir is not None and (workdir.uid, workdir.gid, workdir.mode & 0o7777) == \
        (0, 0, 0o755)


async def test_scratch_gets_the_default_path(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": "FROM scratch\nCOPY a.txt /\nLABEL x=y\n",
                             "a.txt": "hi\n"})
    (tmp_path / "a.txt").chmod(0o644)
    result, _events, _ = await build(engine, tmp_path)
    image = engine._shared.image_store.get(result.image_id)
    assert image.run_config["Env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    assert [h["created_by"] for h in image.config["history"]] == [
        "/bin/sh -c #(nop) COPY file:d8a006482ae06032497452691a2ec7af5b73116f8b5d645cc2feaea"
        "6963960b5 in / ",
        "/bin/sh -c #(nop)  LABEL x=y"]


async def test_a_directory_sum_follows_its_links(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": "FROM busybox\nCOPY tree /tree\n",
                             "tree/sub/a": "a\n"})
    (tmp_path / "tree" / "link").symlink_to("sub/a")  # summed as sub/a, as dockerd does
    (tmp_path / "tree" / "sub" / "a").chmod(0o600)
    for directory in (tmp_path / "tree", tmp_path / "tree" / "sub"):
        directory.chmod(0o755)
    result, _events, _ = await build(engine, tmp_path)
    image = engine._shared.image_store.get(result.image_id)
    assert image.config["history"][-1]["created_by"] == (
        "/bin/sh -c #(nop) COPY dir:35fc67bb5c4cd6550377908da3b8cca5e86bfad39c1560772b483c4"
        "4be5e5f67 in /tree ")


async def test_a_from_sum_as_dockerd_sums_an_image(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": (
        "FROM busybox AS build\n"
        "RUN mkdir -p /out && echo hi > /out/msg && ln /out/msg /out/hard\n"
        "FROM scratch\n"
        "COPY --from=build /out /out\n")})
    result, _events, _ = await build(engine, tmp_path)
    image = engine._shared.image_store.get(result.image_id)
    assert image.config["history"][-1]["created_by"] == (
        "/bin/sh -c #(nop) COPY dir:b29bb9bf6c4c7081d6d791eeeac082351d9645a236246119c5a2eb"
        "ea827fcd23 in /out ")


async def test_an_ignored_directory_an_exception_keeps(engine: Any, tmp_path: Path) -> None:
    """.dockerignore leaves logs/ out but brings logs/keep.log back: COPY logs takes that
    file (as docker's CLI sends it), summed as dockerd sums it."""
    write_context(tmp_path, {"Dockerfile": "FROM busybox\nCOPY logs /logs\n",
                             ".dockerignore": "secret\nlogs\n!logs/keep.log\n*.md\n",
                             "logs/l.log": "l\n", "logs/keep.log": "k\n"})
    (tmp_path / "logs" / "keep.log").chmod(0o644)
    (tmp_path / "logs").chmod(0o755)
    result, _events, _ = await build(engine, tmp_path)
    image = engine._shared.image_store.get(result.image_id)
    files = files_of(engine, image.id)
    assert files.read("/logs/keep.log") == b"k\n" and files.get("/logs/l.log") is None
    assert image.config["history"][-1]["created_by"] == (
        "/bin/sh -c #(nop) COPY dir:5ca3f62defe896b18e95e80262bbfa3317113b7f136cfa226fced801"
        "98ea4bd1 in /logs ")
