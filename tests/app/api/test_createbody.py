"""Docker's create body read into the engine's ContainerConfig (pure, no root)."""

from __future__ import annotations

from typing import Any

import pytest

from app.api.backend import MountSpec, PortBinding
from app.api.createbody import container_config
from app.api.errors import ApiError


def test_what_docker_run_sends_is_read_whole() -> None:
    config = container_config({
        "Image": "busybox", "Cmd": ["sh", "-c", "echo"], "Entrypoint": None,
        "Env": ["A=1"], "WorkingDir": "/w", "User": "1000:1000", "Hostname": "h",
        "Tty": True, "OpenStdin": True, "Labels": {"k": "v"}, "StopSignal": "SIGUSR1",
        "StopTimeout": 3, "Volumes": {"/anon": {}, "/bound": {}},
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}, "9000": {}},
        "HostConfig": {
            "Binds": ["/host:/bound:ro", "named:/named"],
            "Mounts": [{"Type": "tmpfs", "Target": "/scratch",
                        "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o700}},
                       {"Type": "volume", "Source": "v2", "Target": "/v2", "ReadOnly": True}],
            "Tmpfs": {"/run": "size=1m"},
            "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                             "53/udp": [{"HostPort": ""}]},
            "PublishAllPorts": True, "Memory": 64 << 20, "MemorySwap": -1,
            "CpuQuota": 50000, "CpuPeriod": 100000, "PidsLimit": 100,
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
            "NetworkMode": "web", "SecurityOpt": ["seccomp=unconfined"],
            "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}},
            "UsernsMode": "host"},
        "NetworkingConfig": {"EndpointsConfig": {"web": {"Aliases": ["api"]}}}})
    assert config.image == "busybox" and config.cmd == ["sh", "-c", "echo"]
    assert config.entrypoint is None and config.env == ["A=1"]
    assert (config.working_dir, config.user, config.hostname) == ("/w", "1000:1000", "h")
    assert config.tty and config.open_stdin and config.labels == {"k": "v"}
    assert (config.stop_signal, config.stop_timeout) == ("SIGUSR1", 3)
    assert config.mounts == [
        MountSpec("bind", "/bound", "/host", True), MountSpec("volume", "/named", "named"),
        MountSpec("tmpfs", "/scratch", tmpfs_size=1 << 20, tmpfs_mode=0o700),
        MountSpec("volume", "/v2", "v2", True),
        MountSpec("tmpfs", "/run", tmpfs_size=1 << 20), MountSpec("volume", "/anon")]
    assert config.ports == [PortBinding(80, "tcp", "127.0.0.1", 8080), PortBinding(53, "udp")]
    assert config.publish_all
    assert config.exposed_ports == ["53/udp", "80/tcp", "9000/tcp"]
    assert config.resources.memory == 64 << 20
    assert config.resources.nano_cpus == 500_000_000
    assert config.resources.pids_limit == 100
    assert (config.restart_policy.name, config.restart_policy.maximum_retry_count) == (
        "on-failure", 2)
    assert (config.network, config.network_aliases) == ("web", ["api"])
    assert config.security_opt == ["seccomp=unconfined"]
    assert (config.log_driver, config.log_options) == ("json-file", {"max-size": "1m"})
    assert config.userns == "host"


def test_strings_are_one_word_lists_and_an_empty_entrypoint_resets() -> None:
    config = container_config({"Image": "busybox", "Cmd": "echo hi", "Entrypoint": [""]})
    assert config.cmd == ["echo hi"] and config.entrypoint == []


def test_compose_s_network_comes_from_its_only_endpoint() -> None:
    config = container_config({"Image": "busybox", "NetworkingConfig": {
        "EndpointsConfig": {"proj_default": {"Aliases": ["db", "proj-db-1"]}}}})
    assert (config.network, config.network_aliases) == ("proj_default",
                                                         ["db", "proj-db-1"])


def test_numeric_stop_signals_are_named() -> None:
    assert container_config({"Image": "b", "StopSignal": "9"}).stop_signal == "SIGKILL"
    assert container_config({"Image": "b", "StopSignal": "term"}).stop_signal == "SIGTERM"


@pytest.mark.parametrize(("body", "message"), [
    ({}, "config cannot be empty"),
    ({"Image": "b", "Cmd": [1]}, r"CreateRequest.Cmd of type strslice.StrSlice"),
    ({"Image": "b", "HostConfig": {"Binds": ["relative"]}}, "invalid volume specification"),
    ({"Image": "b", "HostConfig": {"Binds": ["/a:/b:bogus"]}}, "unknown option"),
    ({"Image": "b", "HostConfig": {"Mounts": [{"Type": "bind", "Source": "rel",
                                               "Target": "/t"}]}}, "absolute"),
    ({"Image": "b", "HostConfig": {"Mounts": [{"Type": "npipe", "Target": "/t"}]}},
     "mount type 'npipe'"),
    ({"Image": "b", "HostConfig": {"AutoRemove": True,
                                   "RestartPolicy": {"Name": "always"}}}, "AutoRemove"),
    ({"Image": "b", "HostConfig": {"NetworkMode": "container:x"}}, "NetworkMode"),
    ({"Image": "b", "HostConfig": {"LogConfig": {"Type": "syslog"}}}, "log driver 'syslog'"),
    ({"Image": "b", "HostConfig": {"MemorySwap": 1 << 30, "Memory": 1 << 20}},
     "MemorySwap"),
    ({"Image": "b", "OnBuild": ["RUN true"]}, "Config.OnBuild"),
    ({"Image": "b", "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "80-90"}]}}},
     "range"),
    ({"Image": "b", "StopSignal": "SIGNOPE"}, "invalid signal"),
])
def test_bad_or_unsupported_bodies_are_refused(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiError, match=message) as caught:
        container_config(body)
    assert caught.value.status == 400



def test_detach_keys_are_found_across_chunks_and_nothing_else_is_held() -> None:
    from app.api.sessions import DEFAULT_DETACH_KEYS, DetachScanner, parse_detach_keys

    assert parse_detach_keys("ctrl-p,ctrl-q") == DEFAULT_DETACH_KEYS
    assert parse_detach_keys("ctrl-@,a,ctrl-[") == b"\x00a\x1b"
    with pytest.raises(ValueError, match="Invalid detach keys"):
        parse_detach_keys("ctrl-pp")
    scanner = DetachScanner(DEFAULT_DETACH_KEYS)
    assert scanner.feed(b"ab\x10") == (b"ab", False)
    assert scanner.feed(b"c") == (b"\x10c", False)  # not the sequence: passed on
    assert scanner.feed(b"\x10") == (b"", False)
    assert scanner.feed(b"\x11rest") == (b"", True)
    assert DetachScanner(b"").feed(b"\x10\x11") == (b"\x10\x11", False)


def test_kept_as_dockerd_keeps_them() -> None:
    """GroupAdd, Isolation and VolumeDriver come back in inspect as sent; another volume
    driver than local is refused only when a named volume would need it."""
    config = container_config({"Image": "busybox", "HostConfig": {
        "GroupAdd": ["1000", "audio"], "Isolation": "default", "VolumeDriver": "foo"}})
    assert (config.group_add, config.isolation, config.volume_driver) == (
        ["1000", "audio"], "default", "foo")
    bridged = container_config({"Image": "busybox", "HostConfig": {"NetworkMode": "bridge"},
                                "NetworkingConfig": {"EndpointsConfig": {"bridge": {
                                    "DriverOpts": {"com.example.opt": "on"}}}}})
    assert bridged.network_driver_opts == {"com.example.opt": "on"}
    tmpfs = container_config({"Image": "busybox", "HostConfig": {"Tmpfs": {"/t": "size=3M"}}})
    assert tmpfs.tmpfs_given == {"/t": "size=3M"}  # shown so in inspect, as sent
    with pytest.raises(ApiError, match='plugin "foo" not found'):
        container_config({"Image": "busybox", "HostConfig": {
            "VolumeDriver": "foo", "Binds": ["data:/data"]}})
    with pytest.raises(ApiError, match="Isolation='hyperv' is not supported"):
        container_config({"Image": "busybox", "HostConfig": {"Isolation": "hyperv"}})
