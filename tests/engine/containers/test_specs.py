"""Port and mount specs: docker's -p, -v and --mount read and written back, bad ones in one line."""

from __future__ import annotations

import shlex

import pytest

from engine.containers.checks import check_config
from engine.containers.cmdline import run_command
from engine.containers.config import ContainerConfig, MountSpec, PortBinding
from engine.containers.mountspec import (
    format_mount,
    is_anonymous,
    parse_mount,
    parse_tmpfs,
    parse_volume,
    volume_mount,
)
from engine.containers.portspec import (
    format_publish,
    parse_expose,
    parse_publish,
    port_binding,
)
from engine.containers.runspec import container_spec
from engine.errors import InvalidArgument
from engine.images.model import Image
from engine.wire.protocol import validate

ANON = "0123456789abcdef" * 4


@pytest.mark.parametrize(("text", "bindings"), [
    ("80", [PortBinding(80, "tcp", "", 0)]),
    ("8080:80", [PortBinding(80, "tcp", "", 8080)]),
    ("8080:80/udp", [PortBinding(80, "udp", "", 8080)]),
    ("127.0.0.1:8080:80", [PortBinding(80, "tcp", "127.0.0.1", 8080)]),
    ("127.0.0.1::80", [PortBinding(80, "tcp", "127.0.0.1", 0)]),
    ("[::1]:8080:80/tcp", [PortBinding(80, "tcp", "::1", 8080)]),
    ("[::1]::80", [PortBinding(80, "tcp", "::1", 0)]),
    ("8000-8001:80-81", [PortBinding(80, "tcp", "", 8000), PortBinding(81, "tcp", "", 8001)]),
    ("53/UDP", [PortBinding(53, "udp", "", 0)]),
    ("132/sctp", [PortBinding(132, "sctp", "", 0)]),
])
def test_publish_forms_read_back(text: str, bindings: list[PortBinding]) -> None:
    assert parse_publish(text) == bindings
    for binding in bindings:
        assert parse_publish(format_publish(binding)) == [binding]


@pytest.mark.parametrize("text", ["", "http", "0", "70000", "8080:80/icmp", "1:2:3:4",
                                  "8000-8002:80-81", "80-70", "bad ip:80:80", "8080:",
                                  "[::1:80:80", "999.1.1.1:80:80"])
def test_publish_refused_in_one_line(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_publish(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("parts", "message"), [
    (("http", "tcp", "", ""), "invalid containerPort: 'http'"),
    (("0", "tcp", "", ""), "invalid containerPort: '0'"),
    (("80", "icmp", "", ""), "invalid proto: 'icmp'"),
    (("80", "tcp", "", "99999"), "invalid hostPort: '99999'"),
    (("80", "tcp", "localhost", ""), "invalid IP address: 'localhost'"),
])
def test_one_binding_check_for_every_client(parts: tuple[str, str, str, str],
                                            message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        port_binding(*parts)


def test_binding_parts_as_typed() -> None:
    assert port_binding(" 80/UDP ", "", " ::1 ", "") == PortBinding(80, "udp", "::1", 0)
    assert port_binding(443, "tcp", "[::1]", 8443) == PortBinding(443, "tcp", "::1", 8443)


@pytest.mark.parametrize(("text", "spec"), [
    ("/host:/ctr", MountSpec("bind", "/ctr", "/host", False)),
    ("/host:/ctr:ro", MountSpec("bind", "/ctr", "/host", True)),
    ("/host:/ctr:rw", MountSpec("bind", "/ctr", "/host", False)),
    ("data:/var/lib/data", MountSpec("volume", "/var/lib/data", "data", False)),
    ("data:/d:ro,z", MountSpec("volume", "/d", "data", True)),
    ("/anonymous", MountSpec("volume", "/anonymous", "", False)),  # docker's anonymous volume
    ("/anonymous:ro", MountSpec("volume", "/anonymous", "", True)),
])
def test_volume_forms(text: str, spec: MountSpec) -> None:
    assert parse_volume(text) == spec


@pytest.mark.parametrize("text", ["rel/ative:/ctr", "/host:ctr", "/a:/b:rx", "a:b:c:d",
                                  "./here:/ctr", "-bad:/ctr", "x:/ctr", "ctr"])
def test_volume_refused_in_one_line(text: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^invalid volume specification: ") as caught:
        parse_volume(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("text", "spec"), [
    ("type=bind,source=/h,target=/c", MountSpec("bind", "/c", "/h", False)),
    ("type=bind,src=/h,dst=/c,readonly", MountSpec("bind", "/c", "/h", True)),
    ("type=bind,src=/h,destination=/c,ro=false", MountSpec("bind", "/c", "/h", False)),
    ("type=volume,source=vol,target=/c,readonly=1", MountSpec("volume", "/c", "vol", True)),
    ("target=/c", MountSpec("volume", "/c", "", False)),
    ("type=tmpfs,target=/run", MountSpec("tmpfs", "/run", "", False)),
])
def test_mount_forms(text: str, spec: MountSpec) -> None:
    assert parse_mount(text) == spec


@pytest.mark.parametrize("text", ["type=bind,target=/c", "type=nfs,target=/c",
                                  "type=bind,source=/h", "type=bind,src=rel,dst=/c",
                                  "type=tmpfs,source=x,target=/c", "target=/c,colour=red",
                                  "type=bind,src=/h,dst=/c,readonly=maybe", "target=c",
                                  "type=volume,src=-x,dst=/c"])
def test_mount_refused(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_mount(text)


def test_an_empty_source_means_an_anonymous_volume_in_every_client() -> None:
    assert volume_mount("", "/cache") == parse_volume("/cache")
    assert is_anonymous(volume_mount("", "/cache"))
    assert is_anonymous(MountSpec("volume", "/cache", ANON))
    assert not is_anonymous(MountSpec("volume", "/cache", "cache"))
    assert not is_anonymous(MountSpec("tmpfs", "/cache"))


@pytest.mark.parametrize("mount", [
    MountSpec("bind", "/c", "/h", True), MountSpec("volume", "/c", "vol"),
    MountSpec("volume", "/c", "", True), MountSpec("tmpfs", "/run"),
    MountSpec("tmpfs", "/run", "", True),
    MountSpec("tmpfs", "/run", "", True, tmpfs_size=64 << 20, tmpfs_mode=0o700, tmpfs_exec=True),
])
def test_mounts_written_as_flags_read_back(mount: MountSpec) -> None:
    flag, value = format_mount(mount)
    read = {"-v": parse_volume, "--mount": parse_mount, "--tmpfs": parse_tmpfs}[flag]
    assert read(value) == mount


@pytest.mark.parametrize(("text", "expected"), [
    ("/run", MountSpec("tmpfs", "/run")),
    ("/run:rw,noexec,nosuid,size=65536k", MountSpec("tmpfs", "/run", tmpfs_size=64 << 20)),
    ("/t:ro,mode=700,exec,size=1g", MountSpec("tmpfs", "/t", "", True, tmpfs_size=1 << 30,
                                              tmpfs_mode=0o700, tmpfs_exec=True)),
])
def test_tmpfs_options_as_docker_takes_them(text: str, expected: MountSpec) -> None:
    assert parse_tmpfs(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("run", "the path must be absolute"),
    ("/t:suid", "invalid tmpfs option 'suid'"),
    ("/t:dev", "invalid tmpfs option 'dev'"),
    ("/t:size=lots", "invalid tmpfs size"),
    ("/t:size=0", "it must be above 0"),
    ("/t:mode=888", "invalid tmpfs mode '888'"),
    ("/t:uid=5", "invalid tmpfs option 'uid=5'"),
])
def test_bad_tmpfs_options_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_tmpfs(text)


def test_mount_takes_docker_s_tmpfs_fields() -> None:
    assert parse_mount("type=tmpfs,dst=/t,tmpfs-size=16k,tmpfs-mode=1770") == \
        MountSpec("tmpfs", "/t", tmpfs_size=16 << 10, tmpfs_mode=0o1770)
    with pytest.raises(InvalidArgument, match="are for tmpfs mounts"):
        parse_mount("type=volume,dst=/t,tmpfs-size=16k")


def test_the_shown_command_line_reads_back() -> None:
    config = ContainerConfig(image="busybox", image_id="sha256:" + "a" * 64,
                             ports=[PortBinding(80, "tcp", "127.0.0.1", 0),
                                    PortBinding(53, "udp", "::1", 5353)],
                             mounts=[MountSpec("volume", "/v", ANON)])
    words = shlex.split(run_command(config))
    assert words[words.index("-p") + 1] == "127.0.0.1::80"
    assert "[::1]:5353:53/udp" in words
    assert words[words.index("-v") + 1] == "/v"
    v6 = ContainerConfig(image="busybox", image_id="sha256:" + "a" * 64, network="appnet",
                         ipv4_address="10.1.0.5", ipv6_address="fd12::5")
    words = shlex.split(run_command(v6))
    assert words[words.index("--ip") + 1] == "10.1.0.5"
    assert words[words.index("--ip6") + 1] == "fd12::5"


@pytest.mark.parametrize(("text", "message"), [
    ("132:132/sctp", r"cannot publish 132/sctp: Skiff publishes tcp and udp ports"),
    ("[::1]:8080:80/udp", r"cannot publish udp on \[::1\]: Skiff relays TCP only there"),
    ("[fe80::1]:8080:80", r"cannot publish on fe80::1: the kernel does not forward"),
])
def test_what_docker_reads_but_the_helper_cannot_publish(text: str, message: str) -> None:
    config = ContainerConfig(image="busybox", image_id="", ports=parse_publish(text))
    with pytest.raises(InvalidArgument, match=message):
        check_config(config)


def test_an_image_exposing_sctp_still_runs() -> None:
    image = Image(id="sha256:" + "b" * 64, config={"config": {
        "Cmd": ["true"], "ExposedPorts": {"80/tcp": {}, "132/sctp": {}}}}, layers=[])
    config = ContainerConfig(image="x", image_id=image.id, publish_all=True)
    request = container_spec("c" * 64, config, image, "web").to_json()
    assert request["exposed"] == ["80/tcp"]
    assert [p["container_port"] for p in request["ports"]] == [80]
    validate("container_create", {"id": "c" * 64, "spec": request})


def test_expose_takes_docker_s_ports_and_ranges() -> None:
    assert parse_expose("80") == ["80/tcp"]
    assert parse_expose("53/UDP") == ["53/udp"]
    assert parse_expose("7000-7002/tcp") == ["7000/tcp", "7001/tcp", "7002/tcp"]
    for bad in ("abc", "0", "80/icmp", "/tcp", "9-1"):
        with pytest.raises(InvalidArgument):
            parse_expose(bad)
