"""Request bodies' fields of the wrong JSON type: dockerd's 400 naming the field and
the type, before anything reads them (never a 500)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.api.bodytypes import check_body, check_create_body
from app.api.errors import ApiError


@pytest.mark.parametrize(("body", "message"), [
    ({"Labels": ["a"]}, "cannot unmarshal array into Go struct field CreateRequest.Labels "
                        "of type map[string]string"),
    ({"Labels": {"a": 1}}, "number into Go struct field CreateRequest.Labels of type string"),
    ({"Env": "A=b"}, "string into Go struct field CreateRequest.Env of type []string"),
    ({"Tty": "yes"}, "string into Go struct field CreateRequest.Tty of type bool"),
    ({"HostConfig": []}, "array into Go struct field CreateRequest.HostConfig of type struct"),
    ({"HostConfig": {"Memory": True}}, "bool into Go struct field "
                                       "CreateRequest.HostConfig.Memory of type int64"),
    ({"HostConfig": {"PortBindings": {"80/tcp": "8080"}}},
     "string into Go struct field CreateRequest.HostConfig.PortBindings of type []struct"),
    ({"HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": 8080}]}}},
     "number into Go struct field CreateRequest.HostConfig.PortBindings.HostPort of type string"),
    ({"HostConfig": {"RestartPolicy": {"Name": "always", "MaximumRetryCount": "3"}}},
     "CreateRequest.HostConfig.RestartPolicy.MaximumRetryCount of type int64"),
    ({"NetworkingConfig": {"EndpointsConfig": {"net": {"Aliases": "db"}}}},
     "CreateRequest.NetworkingConfig.EndpointsConfig.Aliases of type []string"),
    ({"NetworkingConfig": {"EndpointsConfig": []}},
     "array into Go struct field CreateRequest.NetworkingConfig.EndpointsConfig of type "
     "map[string]struct"),
])
def test_a_field_of_the_wrong_type_is_a_400_naming_it(body: dict[str, Any],
                                                     message: str) -> None:
    with pytest.raises(ApiError) as raised:
        check_create_body({"Image": "busybox", **body})
    assert raised.value.status == 400
    assert message in str(raised.value)


def test_what_clients_send_passes() -> None:
    check_create_body({  # the docker CLI's and docker-py's shapes, nulls included
        "Image": "busybox", "Cmd": "echo hi", "Entrypoint": None, "Env": ["A=b"],
        "Labels": {"a": "b"}, "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}},
        "StopTimeout": 10, "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1e9},
        "Unknown": [1, 2], "HostConfig": {
            "Binds": ["/a:/b"], "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "CapAdd": "NET_ADMIN",
            "Init": None, "Memory": 0, "Isolation": "", "ConsoleSize": [0, 0],
            "LogConfig": {"Type": "", "Config": {}}, "Mounts": [{"Type": "volume"}]},
        "NetworkingConfig": {"EndpointsConfig": {"net": {"Aliases": ["db"],
                                                         "IPAMConfig": None}}}})


@pytest.mark.parametrize(("struct", "body", "message"), [
    ("ExecOptions", {"Cmd": ["true"], "Env": "A=b"}, "ExecOptions.Env of type []string"),
    ("ExecOptions", {"Cmd": ["true"], "Tty": "yes"}, "ExecOptions.Tty of type bool"),
    ("UpdateConfig", {"Memory": "lots"}, "UpdateConfig.Memory of type int64"),
    ("UpdateConfig", {"RestartPolicy": {"Name": 5}}, "UpdateConfig.RestartPolicy.Name"),
    ("NetworkCreateRequest", {"Name": 5}, "NetworkCreateRequest.Name of type string"),
    ("NetworkCreateRequest", {"Name": "n", "IPAM": {"Config": [{"Subnet": 5}]}},
     "NetworkCreateRequest.IPAM.Config.Subnet of type string"),
    ("NetworkConnect", {"Container": "c", "EndpointConfig": []},
     "NetworkConnect.EndpointConfig of type struct"),
    ("NetworkDisconnect", {"Container": 5}, "NetworkDisconnect.Container of type string"),
    ("VolumeCreateOptions", {"Name": ["a"]}, "VolumeCreateOptions.Name of type string"),
])
def test_other_bodies_are_checked_too(struct: str, body: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiError, match=re.escape(message)):
        check_body(body, struct)


def test_other_bodies_as_clients_send_them_pass() -> None:
    check_body({"Cmd": "ls", "AttachStdout": True, "Env": None, "ConsoleSize": [24, 80],
                "Privileged": False, "User": ""}, "ExecOptions")
    check_body({"Memory": 1 << 20, "RestartPolicy": {"Name": "always"}}, "UpdateConfig")
    check_body({"Name": "n", "Driver": "bridge", "EnableIPv6": None, "Options": {},
                "IPAM": {"Driver": "default", "Options": {}, "Config": [
                    {"Subnet": "10.1.0.0/16", "AuxiliaryAddresses": {}}]},
                "ConfigFrom": {"Network": ""}, "Labels": {"a": "b"}}, "NetworkCreateRequest")
    check_body({"Container": "c", "EndpointConfig": {"Aliases": ["x"], "IPAMConfig": {
        "IPv4Address": "10.1.0.5"}}}, "NetworkConnect")
    check_body({"Name": "v", "Driver": "local", "DriverOpts": {}, "Labels": None},
               "VolumeCreateOptions")
