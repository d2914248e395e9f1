"""The JSON types of request bodies (container create and update, exec create, network
create and connect, volume create), checked as dockerd's decoder does.

dockerd decodes a body into Go structs: a field of the wrong JSON type (``"Labels":
["a"]``, ``"PortBindings": {"80/tcp": "8080"}``) is a 400 saying which field and
which type, before anything is made. :func:`check_body` does that for every field
Docker defines (known or not to Skiff), so what reads the body later meets only the
types it expects, and a careless client gets that 400, never a 500 nor a
string taken for a list. ``null`` is every field's zero value, as in Go; unknown
fields are ignored.
"""

from __future__ import annotations

from typing import Any

from app.api.errors import ApiError

__all__ = ["check_body", "check_create_body"]

# A type: a name below, or a dict (an object with these fields), or a one-item tuple
# (a list of that type), or a one-item list (a map of strings to that type).
_Type = Any

_STR, _BOOL, _INT, _UINT, _ANY = "string", "bool", "int64", "uint", "any"
_STRS = (_STR,)
_STR_MAP = [_STR]
_STR_SLICE = "strslice.StrSlice"  # a string or a list of strings
_OBJECT = "object"

_ENDPOINT: dict[str, _Type] = {
    "IPAMConfig": {"IPv4Address": _STR, "IPv6Address": _STR, "LinkLocalIPs": _STRS},
    "Links": _STRS, "Aliases": _STRS, "MacAddress": _STR, "DriverOpts": _STR_MAP,
    "NetworkID": _STR, "EndpointID": _STR, "Gateway": _STR, "IPAddress": _STR,
}

_HOST: dict[str, _Type] = {
    "Binds": _STRS, "ContainerIDFile": _STR,
    "LogConfig": {"Type": _STR, "Config": _STR_MAP},
    "NetworkMode": _STR, "PortBindings": [({"HostIp": _STR, "HostPort": _STR},)],
    "RestartPolicy": {"Name": _STR, "MaximumRetryCount": _INT},
    "AutoRemove": _BOOL, "VolumeDriver": _STR, "VolumesFrom": _STRS, "Annotations": _STR_MAP,
    "CapAdd": _STR_SLICE, "CapDrop": _STR_SLICE, "CgroupnsMode": _STR, "Dns": _STRS,
    "DnsOptions": _STRS, "DnsSearch": _STRS, "ExtraHosts": _STRS, "GroupAdd": _STRS,
    "IpcMode": _STR, "Cgroup": _STR, "Links": _STRS, "OomScoreAdj": _INT, "PidMode": _STR,
    "Privileged": _BOOL, "PublishAllPorts": _BOOL, "ReadonlyRootfs": _BOOL,
    "SecurityOpt": _STRS, "StorageOpt": _STR_MAP, "Tmpfs": _STR_MAP, "UTSMode": _STR,
    "UsernsMode": _STR, "ShmSize": _INT, "Sysctls": _STR_MAP, "Runtime": _STR,
    "Isolation": _STR, "CpuShares": _INT, "Memory": _INT, "NanoCpus": _INT,
    "CgroupParent": _STR, "BlkioWeight": _INT, "CpuPeriod": _INT, "CpuQuota": _INT,
    "CpuRealtimePeriod": _INT, "CpuRealtimeRuntime": _INT, "CpusetCpus": _STR,
    "CpusetMems": _STR, "Devices": (_OBJECT,), "DeviceCgroupRules": _STRS,
    "KernelMemory": _INT, "KernelMemoryTCP": _INT, "MemoryReservation": _INT,
    "MemorySwap": _INT, "MemorySwappiness": _INT, "OomKillDisable": _BOOL, "PidsLimit": _INT,
    "Ulimits": ({"Name": _STR, "Soft": _INT, "Hard": _INT},), "CpuCount": _INT,
    "CpuPercent": _INT, "Mounts": (_OBJECT,), "MaskedPaths": _STRS, "ReadonlyPaths": _STRS,
    "Init": _BOOL, "ConsoleSize": (_UINT,),
}

_BODY: dict[str, _Type] = {
    "Hostname": _STR, "Domainname": _STR, "User": _STR, "AttachStdin": _BOOL,
    "AttachStdout": _BOOL, "AttachStderr": _BOOL, "ExposedPorts": [_ANY], "Tty": _BOOL,
    "OpenStdin": _BOOL, "StdinOnce": _BOOL, "Env": _STRS, "Cmd": _STR_SLICE,
    "Healthcheck": {"Test": _STRS, "Interval": _INT, "Timeout": _INT, "Retries": _INT,
                    "StartPeriod": _INT, "StartInterval": _INT},
    "ArgsEscaped": _BOOL, "Image": _STR, "Volumes": [_ANY], "WorkingDir": _STR,
    "Entrypoint": _STR_SLICE, "NetworkDisabled": _BOOL, "MacAddress": _STR, "OnBuild": _STRS,
    "Labels": _STR_MAP, "StopSignal": _STR, "StopTimeout": _INT, "Shell": _STRS,
    "HostConfig": _HOST, "NetworkingConfig": {"EndpointsConfig": [_ENDPOINT]},
}


_IPAM_CONFIG = {"Subnet": _STR, "IPRange": _STR, "Gateway": _STR,
                "AuxiliaryAddresses": _STR_MAP}

#: The other bodies, by the name of dockerd's struct for them.
BODIES: dict[str, dict[str, _Type]] = {
    "ExecOptions": {"User": _STR, "Privileged": _BOOL, "Tty": _BOOL, "ConsoleSize": (_UINT,),
                    "AttachStdin": _BOOL, "AttachStderr": _BOOL, "AttachStdout": _BOOL,
                    "Detach": _BOOL, "DetachKeys": _STR, "Env": _STRS, "WorkingDir": _STR,
                    "Cmd": _STR_SLICE},  # a string is taken as the one argument
    "ExecStartCheck": {"Detach": _BOOL, "Tty": _BOOL, "ConsoleSize": (_UINT,)},
    "UpdateConfig": _HOST,  # its resources and restart policy are HostConfig's
    "NetworkCreateRequest": {
        "Name": _STR, "CheckDuplicate": _BOOL, "Driver": _STR, "Scope": _STR,
        "EnableIPv4": _BOOL, "EnableIPv6": _BOOL, "Internal": _BOOL, "Attachable": _BOOL,
        "Ingress": _BOOL, "ConfigOnly": _BOOL, "ConfigFrom": {"Network": _STR},
        "IPAM": {"Driver": _STR, "Config": (_IPAM_CONFIG,), "Options": _STR_MAP},
        "Options": _STR_MAP, "Labels": _STR_MAP},
    "NetworkConnect": {"Container": _STR, "EndpointConfig": _ENDPOINT},
    "NetworkDisconnect": {"Container": _STR, "Force": _BOOL},
    "VolumeCreateOptions": {"Name": _STR, "Driver": _STR, "DriverOpts": _STR_MAP,
                            "Labels": _STR_MAP},
}


def check_create_body(body: dict[str, Any]) -> None:
    """ApiError 400 naming the first field whose JSON type is not Docker's."""
    _check(body, _BODY, "CreateRequest")


def check_body(body: dict[str, Any], struct: str) -> None:
    """The same for one of the other ``BODIES``."""
    _check(body, BODIES[struct], struct)


def _check(value: Any, expected: _Type, where: str) -> None:
    if value is None or expected == _ANY:
        return
    if isinstance(expected, dict):
        if not isinstance(value, dict):
            raise _wrong(value, where, "struct")
        for key, field_type in expected.items():
            if key in value:
                _check(value[key], field_type, f"{where}.{key}")
    elif isinstance(expected, tuple):
        if not isinstance(value, list):
            raise _wrong(value, where, f"[]{_go(expected[0])}")
        for item in value:
            _check(item, expected[0], where)
    elif isinstance(expected, list):
        if not isinstance(value, dict):
            raise _wrong(value, where, f"map[string]{_go(expected[0])}")
        for item in value.values():
            _check(item, expected[0], where)
    elif not _fits(value, expected):
        raise _wrong(value, where, expected)


def _fits(value: Any, expected: str) -> bool:
    if expected == _STR:
        return isinstance(value, str)
    if expected == _BOOL:
        return isinstance(value, bool)
    if expected in (_INT, _UINT):
        return ((isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())) and (expected == _INT or value >= 0)
    if expected == _STR_SLICE:
        return isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value))
    return isinstance(value, dict)  # _OBJECT


def _go(expected: _Type) -> str:
    if isinstance(expected, dict) or expected == _OBJECT:
        return "struct"
    if isinstance(expected, tuple):
        return f"[]{_go(expected[0])}"
    if isinstance(expected, list):
        return f"map[string]{_go(expected[0])}"
    return str(expected)


def _wrong(value: Any, where: str, go_type: str) -> ApiError:
    kinds = ((bool, "bool"), (str, "string"), (int, "number"), (float, "number"),
             (list, "array"), (dict, "object"))
    kind = next(name for cls, name in kinds if isinstance(value, cls))
    return ApiError(400, f"json: cannot unmarshal {kind} into Go struct field {where} "
                         f"of type {go_type}")
