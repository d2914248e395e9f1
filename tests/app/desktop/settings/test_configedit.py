from __future__ import annotations

from dataclasses import replace

import pytest

from app.desktop.settings.configedit import (
    SettingsForm,
    check_name,
    config_from_form,
    form_from_config,
)
from engine.containers.config import (
    ContainerConfig,
    MountSpec,
    PortBinding,
    Resources,
    RestartPolicy,
)
from engine.errors import InvalidArgument

BASE = ContainerConfig(image="busybox", image_id="sha256:" + "a" * 64)


def test_round_trip_keeps_the_config() -> None:
    config = replace(
        BASE, env=["A=1", "B=x=y"], cmd=["sh", "-c", "echo 'hi there'"],
        ports=[PortBinding(80, "tcp", "", 8080), PortBinding(53, "udp", "127.0.0.1", 0)],
        mounts=[MountSpec("bind", "/data", "/srv/data", True), MountSpec("volume", "/v", "vol"),
                MountSpec("tmpfs", "/scratch")],
        restart_policy=RestartPolicy("on-failure", 3),
        resources=Resources(memory=64 * 1024 * 1024, nano_cpus=1_500_000_000, pids_limit=50),
        network="host")
    form = form_from_config("web", config)
    assert form.memory == "64m" and form.cpus == "1.5" and form.pids == "50"
    assert form.command == "sh -c 'echo '\"'\"'hi there'\"'\"''"
    assert config_from_form(config, form) == config


def test_a_path_alone_is_an_anonymous_volume_as_with_skiff_run_v() -> None:
    form = SettingsForm(volumes=[("", "/cache", False)])
    assert config_from_form(BASE, form).mounts == [MountSpec("volume", "/cache", "", False)]


def test_empty_rows_are_ignored_and_defaults_apply() -> None:
    form = SettingsForm(env=[("", "")], ports=[("", "", "", "")], volumes=[("", "", False)])
    assert config_from_form(BASE, form) == BASE


def test_the_default_network_is_called_bridge_as_the_cli_calls_it() -> None:
    form = form_from_config("web", BASE)
    assert form.network == "bridge"
    assert config_from_form(BASE, form) == BASE  # the same network: nothing to recreate
    assert config_from_form(BASE, replace(form, network="none")).network == "none"


@pytest.mark.parametrize(("form", "message"), [
    (SettingsForm(env=[("A B", "1")]), "without spaces"),
    (SettingsForm(ports=[("http", "tcp", "", "")]), "port: invalid containerPort: 'http'"),
    (SettingsForm(ports=[("80", "icmp", "", "")]), "invalid proto: 'icmp'"),
    (SettingsForm(ports=[("80", "tcp", "", "99999")]), "invalid hostPort: '99999'"),
    (SettingsForm(ports=[("80", "tcp", "localhost", "")]), "invalid IP address: 'localhost'"),
    (SettingsForm(volumes=[("/srv", "data", False)]), "must be absolute"),
    (SettingsForm(volumes=[("./here", "/data", False)]), "absolute path"),
    (SettingsForm(memory="1k"), "Minimum memory limit allowed is 6MB"),
    (SettingsForm(memory="much"), "memory limit"),
    (SettingsForm(cpus="two"), "CPUs: failed to parse two as a rational number"),
    (SettingsForm(cpus="-1"), "CPUs: invalid number of CPUs -1"),
    (SettingsForm(cpus="0.0000000001"), "CPUs: value is too precise"),
    (SettingsForm(cpus="999"), "Range of CPUs is from 0.01"),
    (SettingsForm(pids="-1"), "whole number"),
    (SettingsForm(command="echo 'unclosed"), "check the quotes"),
    (SettingsForm(restart="sometimes"), "unknown"),
])
def test_bad_values_are_named(form: SettingsForm, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        config_from_form(BASE, form)


def test_port_with_protocol_suffix_and_retries_only_for_on_failure() -> None:
    form = SettingsForm(ports=[("53/udp", "", "", "5353")], restart="always", max_retries=4)
    config = config_from_form(BASE, form)
    assert config.ports == [PortBinding(53, "udp", "", 5353)]
    assert config.restart_policy == RestartPolicy("always", 0)


def test_names() -> None:
    assert check_name(" web-1 ") == "web-1"
    with pytest.raises(InvalidArgument, match="Invalid container name"):
        check_name("-bad")
    with pytest.raises(InvalidArgument, match="at most 128 characters"):
        check_name("x" * 129)
