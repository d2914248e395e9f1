"""engine.Reader shows what the engine's services show: a container's inspect read
without the helper is the service's, and a running container on a network is left
to the engine (its endpoints are the helper's); a rehearsal compiles what reading
matches with and keeps nothing else."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from engine import ContainerNotFound, Engine, Reader, Reference, rfc3339_ns
from engine.containers.config import ContainerConfig, MountSpec
from engine.images.blobs import validate_digest


@pytest.mark.root
async def test_container_inspect_read_without_the_helper_is_the_services(
        engine: Engine) -> None:
    volume = (await engine.volumes.create("reader-data")).name
    created = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["true"], labels={"a": "b"},
        mounts=[MountSpec("volume", "/data", volume)]))
    await engine.networks.create("reader-net")
    await engine.networks.connect("reader-net", created.id, aliases=["db"])
    exited = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["sh", "-c", "exit 3"], network="none"))
    await engine.containers.start(exited.id)
    assert await engine.containers.wait(exited.id) == 3
    running = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["sleep", "600"], network="none"))
    await engine.containers.start(running.id)
    try:
        with Reader() as reader:
            for container in (created, exited, running):
                assert reader.container_inspect(container.id) == \
                    await engine.containers.inspect(container.id)
            with pytest.raises(ContainerNotFound):
                reader.container_inspect("no-such-container")
        assert (await engine.containers.inspect(created.id)).mounts[0].name == volume
    finally:
        await engine.containers.remove(created.id, force=True)
        await engine.networks.remove("reader-net")
        await engine.volumes.remove(volume)


@pytest.mark.root
async def test_a_running_container_on_a_network_is_left_to_the_engine(engine: Engine) -> None:
    container = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["sleep", "600"]))
    await engine.containers.start(container.id)
    with Reader() as reader:
        assert reader.container_inspect(container.id) is None
    found = (await engine.containers.inspect(container.id)).docker_json()
    assert found["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]


@pytest.mark.root
async def test_containers_are_listed_as_the_engine_lists_them(engine: Engine) -> None:
    """The reader looks at a record's config only for a container it shows or an exited
    one (is it --rm?): the list is the engine's all the same."""
    made = []

    async def ran(config: ContainerConfig) -> str:
        container = await engine.containers.create(config)
        made.append(container.id)
        await engine.containers.start(container.id)
        return container.id

    made.append((await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["true"], network="none"))).id)
    exited = await ran(ContainerConfig(image="busybox", image_id="", cmd=["sh", "-c", "exit 3"],
                                       network="none", labels={"x": "y"}))
    gone = await ran(ContainerConfig(image="busybox", image_id="", cmd=["true"],
                                     network="none", auto_remove=True))
    running = await ran(ContainerConfig(image="busybox", image_id="", cmd=["sleep", "600"],
                                        network="none"))
    assert await engine.containers.wait(exited) == 3
    assert await engine.containers.wait(gone) == 0
    try:
        with Reader() as reader:
            shown = reader.containers(all=True)
            assert reader.hidden_auto_removes == 1
            assert [c.id for c in reader.containers()] == [running]
        assert gone not in [c.id for c in shown]
        assert shown == await engine.containers.list(all=True)
        assert {c.id for c in shown} == set(made) - {gone}
        assert next(c for c in shown if c.id == exited).config.labels == {"x": "y"}
    finally:
        for container_id in made:
            try:
                await engine.containers.remove(container_id, force=True)
            except ContainerNotFound:
                pass


def test_a_rehearsal_compiles_what_reading_matches_with_and_keeps_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    re.purge()
    Reader.rehearse()
    assert list(tmp_path.iterdir()) == [] and tempfile.tempdir == str(tmp_path)

    def compiled(*args: object) -> None:
        raise AssertionError("a pattern was compiled after the rehearsal")

    monkeypatch.setattr("re._compiler.compile", compiled)
    assert Reference.parse("localhost:5000/a/b:1").repository == "a/b"
    assert validate_digest("sha256:" + "f" * 64) == "f" * 64
    assert rfc3339_ns("2024-05-01T12:00:00Z") == 1_714_564_800 * 10**9
