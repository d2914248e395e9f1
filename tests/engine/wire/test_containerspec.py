"""The one typed container spec: built by the engine, checked by the protocol against
the schema its own fields carry, read back by the helper unchanged."""

from __future__ import annotations

import dataclasses

import pytest

from engine.errors import ProtocolError
from engine.wire import protocol
from engine.wire.containerspec import (
    SCHEMA,
    ContainerSpec,
    HealthSpec,
    MountSpec,
    PortSpec,
    schema_of,
)

CID = "c" * 64
LAYER = "sha256:" + "a" * 64


def _spec(**changes: object) -> ContainerSpec:
    spec = ContainerSpec(
        args=["sh", "-c", "true"], env=["PATH=/bin"], cwd="/", user="1000:1000",
        hostname="web", layers=[LAYER], memory=64 << 20, nano_cpus=None, pids_limit=100,
        restart_policy="on-failure", restart_max=3, stop_signal=15,
        binds=[MountSpec(type="volume", source="data", target="/data", read_only=False),
               MountSpec(source="/home/u/src", target="/src", read_only=True)],
        network_mode="default",
        ports=[PortSpec(container_port=80, protocol="tcp", host_ip="", host_port=8080)],
        exposed=["80/tcp"], aliases=["web"], name="web-1", image="busybox",
        tty=True, open_stdin=None, log_max_size=0, log_max_files=1, seccomp="unconfined",
        userns="", healthcheck=HealthSpec(args=["true"], interval=10**9, timeout=10**9,
                                          start_interval=10**9, start_period=0, retries=3))
    return dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


def _checked(spec_json: object) -> ContainerSpec:
    args = protocol.validate("container_create", {"id": CID, "spec": spec_json})
    return ContainerSpec.from_checked(args["spec"])


def test_a_spec_travels_unchanged() -> None:
    spec = _spec()
    assert _checked(spec.to_json()) == spec
    bare = _spec(healthcheck=None, user=None, image=None, tty=None, seccomp=None, userns=None)
    assert _checked(bare.to_json()) == bare


def test_the_protocol_schema_is_the_dataclass_fields() -> None:
    assert protocol.VERBS["container_create"]["spec"].items is SCHEMA
    for cls in (ContainerSpec, MountSpec, PortSpec, HealthSpec):
        for field in dataclasses.fields(cls):
            check = schema_of(cls)[field.name]
            # What the request may leave out is exactly what has a default (None).
            assert check.required == (field.default is dataclasses.MISSING), field.name
            if not check.required:
                assert field.default is None


@pytest.mark.parametrize(("changes", "error"), [
    ({"memory": 1 << 20}, "container_create.spec.memory: must be at least 4194304"),
    ({"hostname": "-bad"}, "container_create.spec.hostname: malformed value"),
    ({"layers": ["sha256:xyz"]}, "container_create.spec.layers[0]: malformed value"),
    ({"binds": [MountSpec(type="nfs", source="", target="/x", read_only=False)]},
     "container_create.spec.binds[0].type: must be one of bind, volume, tmpfs"),
    ({"seccomp": "default"}, "container_create.spec.seccomp: malformed value"),
])
def test_the_boundary_refuses_in_the_protocol_s_words(changes: dict[str, object],
                                                      error: str) -> None:
    with pytest.raises(ProtocolError, match=f"^{error.replace('[', '.').replace(']', '.')}$"):
        _checked(_spec(**changes).to_json())


def test_unknown_and_missing_fields_are_refused() -> None:
    data = _spec().to_json()
    with pytest.raises(ProtocolError, match="unknown field 'privileged'"):
        _checked({**data, "privileged": True})
    del data["cwd"]
    with pytest.raises(ProtocolError, match="missing field 'cwd'"):
        _checked(data)
