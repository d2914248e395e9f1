"""Docker's HostConfig.ConsoleSize: kept with the config, asked of the helper with a
TTY only, and read back from records that have it and records that do not."""

from __future__ import annotations

import json

import pytest

from engine.containers.checks import check_config
from engine.containers.config import ContainerConfig
from engine.containers.runspec import container_spec
from engine.containers.storedspec import read_spec, spec_text
from engine.errors import InvalidArgument
from engine.helper.runtime.spec import RuntimeSpec
from engine.images.model import Image
from engine.wire.containerspec import ContainerSpec
from engine.wire.protocol import validate

IMAGE = Image(id="sha256:" + "b" * 64, config={"config": {"Cmd": ["sh"]}}, layers=[])
CID = "c" * 64


def _spec(**options: object) -> ContainerSpec:
    config = ContainerConfig(image="busybox", image_id=IMAGE.id, **options)  # type: ignore[arg-type]
    return container_spec(CID, config, IMAGE, "term")


def test_a_tty_asks_for_its_size_and_the_protocol_takes_it() -> None:
    spec = _spec(tty=True, console_size=(33, 111))
    assert (spec.console_rows, spec.console_cols) == (33, 111)
    checked = validate("container_create", {"id": CID, "spec": spec.to_json()})
    runtime = RuntimeSpec.from_request(CID, 0, ContainerSpec.from_checked(checked["spec"]),
                                       layers_dir="/x", binds=[], cgroup_parent="skiff",
                                       seccomp="default", devices="nodev", userns=None)
    assert runtime.console_size == (33, 111)
    assert RuntimeSpec.from_json(json.loads(json.dumps(runtime.to_json()))) == runtime


@pytest.mark.parametrize(("options", "asked"), [
    ({"console_size": (33, 111)}, (None, None)),  # no TTY: nothing to size
    ({"tty": True}, (None, None)),  # no terminal at create: 0x0 until a resize
    ({"tty": True, "console_size": (0, 111)}, (None, None)),
    ({"tty": True, "console_size": (70000, 80)}, (65535, 80)),  # what a winsize holds
])
def test_the_size_is_asked_only_when_there_is_one(options: dict[str, object],
                                                  asked: tuple[int | None, int | None]) -> None:
    spec = _spec(**options)
    assert (spec.console_rows, spec.console_cols) == asked
    validate("container_create", {"id": CID, "spec": spec.to_json()})


def test_the_config_keeps_it_and_older_records_read_as_none() -> None:
    config = ContainerConfig(image="busybox", image_id="", tty=True, console_size=(33, 111))
    assert ContainerConfig.from_json(json.loads(json.dumps(config.to_json()))) == config
    older = {k: v for k, v in config.to_json().items() if k != "console_size"}
    assert ContainerConfig.from_json(older).console_size == (0, 0)
    spec = _spec(tty=True, console_size=(33, 111))
    assert read_spec(spec_text(spec), "term") == spec
    without = {k: v for k, v in spec.to_json().items() if k not in ("console_rows", "console_cols")}
    assert read_spec(json.dumps(without), "term").console_rows is None
    runtime = {k: v for k, v in RuntimeSpec(CID, 0, ["sh"], []).to_json().items()
               if k != "console_size"}
    assert RuntimeSpec.from_json(runtime).console_size == (0, 0)


def test_a_negative_size_is_refused_in_one_line() -> None:
    with pytest.raises(InvalidArgument, match="console size"):
        check_config(ContainerConfig(image="busybox", image_id="", console_size=(-1, 80)))
