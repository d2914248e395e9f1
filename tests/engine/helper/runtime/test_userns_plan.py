"""User namespaces without root: subordinate ids, maps, modes, flags and inspect."""

from __future__ import annotations

import argparse

import pytest

from app.cli.createflags import build_config
from app.cli.options import UsageError, parse_userns
from engine.containers.cmdline import run_command
from engine.containers.config import ContainerConfig
from engine.containers.details import ContainerDetails, NetworkSettings, UsernsMapping
from engine.containers.imageconfig import merge_config
from engine.containers.model import Container
from engine.containers.runspec import container_spec
from engine.containers.state import ContainerState, Status
from engine.errors import InvalidArgument, ProtocolError
from engine.helper.runtime import mounts
from engine.helper.runtime.idmap import (
    IdMap,
    choose_mode,
    container_map,
    free_range,
    parse_subordinate,
)
from engine.helper.runtime.shifted import layers_mode
from engine.helper.runtime.spec import RuntimeSpec, Userns
from engine.wire.protocol import VERBS, validate

SUBUID = """\
# comment
alice:100000:65536
1001:165536:65536
bob:231072:131072
broken line
carol:x:5
alice:400000:1000
"""


def test_subordinate_ranges_by_name_or_uid() -> None:
    assert parse_subordinate(SUBUID, "alice", 1000) == [(100000, 65536), (400000, 1000)]
    assert parse_subordinate(SUBUID, "dave", 1001) == [(165536, 65536)]  # by uid
    assert parse_subordinate(SUBUID, "carol", 1002) == []  # malformed lines skipped
    assert parse_subordinate("", "alice", 1000) == []


def test_a_users_map_is_the_user_then_the_first_range() -> None:
    ids = container_map(uid=1000, gid=1000, name="alice", subuid=SUBUID, subgid=SUBUID)
    assert ids.uids.extents == ((0, 1000, 1), (1, 100000, 65536))
    assert ids.gids.proc_text() == "0 1000 1\n1 100000 65536\n"
    assert ids.root() == (1000, 1000)
    assert ids.uids.to_host(0) == 1000
    assert ids.uids.to_host(33) == 100032
    assert ids.uids.to_host(65536) == 165535
    assert ids.uids.to_host(65537) is None
    assert ids.uids.describe() == ["0:1000:1", "1:100000:65536"]


def test_a_large_range_is_capped() -> None:
    ids = container_map(uid=1002, gid=50, name="bob", subuid=SUBUID, subgid=SUBUID)
    assert ids.uids.extents == ((0, 1002, 1), (1, 231072, 65536))
    assert ids.gids.extents[0] == (0, 50, 1)  # the user's primary group


def test_root_remaps_to_its_range_from_zero() -> None:
    text = "root:300000:65536\n"
    ids = container_map(uid=0, gid=0, name="root", subuid=text, subgid=text)
    assert ids.uids.extents == ((0, 300000, 65536),)
    assert ids.root() == (300000, 300000)


def test_no_range_names_the_fix() -> None:
    with pytest.raises(InvalidArgument) as caught:
        container_map(uid=1003, gid=1003, name="erin", subuid=SUBUID, subgid=SUBUID)
    message = str(caught.value)
    assert "\n" not in message
    assert "user erin has no subordinate uids in /etc/subuid" in message
    assert message.endswith("sudo usermod --add-subuids 401000-466535 "
                            "--add-subgids 401000-466535 erin")  # after every range given
    with pytest.raises(InvalidArgument, match="no subordinate gids"):
        container_map(uid=1000, gid=1000, name="alice", subuid=SUBUID, subgid="")


def test_a_range_holding_the_users_own_id_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="contains the user's own uid 100005"):
        container_map(uid=100005, gid=5, name="alice", subuid=SUBUID, subgid=SUBUID)


def test_free_range_starts_at_100000() -> None:
    assert free_range("", "") == (100000, 165535)
    assert free_range("a:100000:65536\n", "b:500000:10\n") == (500010, 565545)


def test_modes() -> None:
    assert choose_mode(1000, "") == "remap"
    assert choose_mode(1000, "remap") == "remap"
    assert choose_mode(0, "") == "host"
    assert choose_mode(0, "host") == "host"
    assert choose_mode(0, "remap") == choose_mode(0, "auto") == "remap"
    with pytest.raises(InvalidArgument, match="--userns=host is for root's containers only"):
        choose_mode(1000, "host")
    with pytest.raises(InvalidArgument, match="invalid --userns"):
        choose_mode(0, "private")


def test_layers_are_idmapped_from_linux_5_19() -> None:
    assert layers_mode(None, "6.18.44-fc-v1300") == "idmapped"
    assert layers_mode(None, "5.19.0") == "idmapped"
    assert layers_mode(None, "5.15.0-91-generic") == "copy"
    assert layers_mode(None, "garbage") == "copy"
    assert layers_mode("copy", "6.18.0") == "copy"
    assert layers_mode("nonsense", "5.4.0") == "copy"


def test_dev_belongs_to_container_root_in_a_user_namespace() -> None:
    plan = mounts.plan_rootfs(rootfs="/r", lowerdirs=["a"], upperdir="/u", workdir="/w",
                              binds=[], owner=(1000, 1000, 100004))
    data = {step.target: step.data for step in plan.steps}
    assert data["/r/dev"] == "mode=755,size=65536k,uid=1000,gid=1000"
    assert data["/r/dev/pts"] == "newinstance,ptmxmode=0666,mode=0620,uid=1000,gid=100004"
    assert data["/r/dev/shm"].endswith(",uid=1000,gid=1000")
    plain = mounts.plan_rootfs(rootfs="/r", lowerdirs=["a"], upperdir="/u", workdir="/w",
                               binds=[])
    assert {s.target: s.data for s in plain.steps}["/r/dev/pts"].endswith(",gid=5")


def test_runtime_spec_keeps_its_user_namespace() -> None:
    remap = Userns([[0, 1000, 1], [1, 100000, 65536]], [[0, 1000, 1]], "copy", "/s/abc")
    spec = RuntimeSpec(id="x", owner_uid=1000, args=["true"], env=[], userns=remap)
    again = RuntimeSpec.from_json(spec.to_json())
    assert again.userns == remap
    assert RuntimeSpec.from_json(
        RuntimeSpec(id="x", owner_uid=0, args=["true"], env=[]).to_json()).userns is None
    old = spec.to_json()
    del old["userns"]  # a spec.json from before user namespaces
    assert RuntimeSpec.from_json(old).userns is None
    assert IdMap.from_json(remap.uid_map).to_host(7) == 100006


def _parse(*argv: str) -> argparse.Namespace:
    from app.cli.main import build_parser

    return build_parser().parse_args(list(argv))


def test_the_userns_flag() -> None:
    assert parse_userns("host") == "host"
    assert parse_userns("auto") == "remap"
    assert parse_userns("") == ""
    with pytest.raises(UsageError, match='invalid value for "--userns"'):
        parse_userns("keep-id")
    config = build_config(_parse("run", "--userns", "remap", "busybox"), "sha256:" + "0" * 64,
                          {})
    assert config.userns == "remap"
    assert "--userns remap" in run_command(config)
    assert build_config(_parse("run", "busybox"), "sha256:" + "0" * 64, {}).userns == ""


def test_the_request_carries_it_and_the_helper_checks_it() -> None:
    class Image:
        run_config = {"Cmd": ["sh"]}
        layers: list[object] = []

    config = ContainerConfig(image="busybox", image_id="", userns="remap")
    request = container_spec("a" * 64, config, Image(), "n").to_json()  # type: ignore[arg-type]
    assert request["userns"] == "remap"
    spec = {key: request[key] for key in VERBS["container_create"]["spec"].items or {}
            if key in request}
    assert validate("container_create", {"id": "a" * 64, "spec": spec})["spec"]["userns"] \
        == "remap"
    spec["userns"] = "keep-id"
    with pytest.raises(ProtocolError, match="must be one of"):
        validate("container_create", {"id": "a" * 64, "spec": spec})


def test_inspect_says_how_the_container_is_mapped() -> None:
    state = ContainerState(status=Status.CREATED)
    remapped = Container("a" * 64, "n", "now", ContainerConfig(image="busybox", image_id="i"),
                         state)
    userns = UsernsMapping.from_helper({"mode": "remap", "uid_map": ["0:1000:1"],
                                        "gid_map": ["0:1000:1"], "layers": "idmapped"})
    doc = ContainerDetails(remapped, merge_config(remapped.config, {}), ["true"], [], "",
                           NetworkSettings(), userns=userns).docker_json()
    assert doc["HostConfig"]["UsernsMode"] == "remap"
    assert doc["HostConfig"]["IDMappings"] == {"UidMap": ["0:1000:1"], "GidMap": ["0:1000:1"]}
    assert doc["GraphDriver"]["Data"] == {"UsernsLayers": "idmapped"}
    host = Container("a" * 64, "n", "now",
                     ContainerConfig(image="busybox", image_id="i", userns="host"), state)
    assert UsernsMapping.from_helper({}) is None
    doc = ContainerDetails(host, merge_config(host.config, {}), ["true"], [], "",
                           NetworkSettings()).docker_json()
    assert doc["HostConfig"]["UsernsMode"] == "host"
    assert doc["HostConfig"]["IDMappings"] is None
    assert doc["GraphDriver"]["Data"] is None
