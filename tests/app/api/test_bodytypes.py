"""A create body's fields of the wrong JSON type: dockerd's 400 naming the field and the
type, before anything reads them (never a 500)."""

from __future__ import annotations

from typing import Any

import pytest

from app.api.bodytypes import check_create_body
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
