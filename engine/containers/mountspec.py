"""Mounts: docker's ``-v`` and ``--mount`` syntax read and written, and one meaning of each row.

``-v /host:/ctr[:ro]`` binds a host path, ``-v NAME:/ctr`` mounts a named
volume and ``-v /ctr`` an anonymous volume, as in docker; ``--mount`` says the
type (bind, volume, tmpfs) in so many words. The CLI and the window's Settings
tab both read a (source, target, read-only) row with :func:`volume_mount`, so
an empty source means an anonymous volume everywhere.
"""

from __future__ import annotations

from engine.containers.config import MountSpec
from engine.errors import InvalidArgument
from engine.names import check_volume_name
from engine.units import parse_ram

__all__ = ["MOUNT_TYPES", "format_mount", "is_anonymous", "parse_mount", "parse_tmpfs",
           "parse_volume", "volume_mount"]

MOUNT_TYPES = ("bind", "volume", "tmpfs")
# docker's other -v options: SELinux labels, propagation, nocopy; Skiff has one behaviour each
_ACCEPTED = ("rw", "z", "Z", "", "nocopy", "private", "rprivate", "shared", "rshared", "slave",
             "rslave")


def volume_mount(source: str, target: str, read_only: bool = False) -> MountSpec:
    """``-v``'s meaning of a source: "" an anonymous volume, /path a bind, else a volume name."""
    if not target.startswith("/"):
        raise InvalidArgument(f"invalid mount path: {target!r} mount path must be absolute")
    if not source:
        return MountSpec("volume", target, "", read_only)
    if source.startswith("/"):
        return MountSpec("bind", target, source, read_only)
    if source.startswith((".", "~")) or "/" in source:
        raise InvalidArgument(f"invalid mount source: {source!r}: a host path must be an "
                              "absolute path")
    return MountSpec("volume", target, check_volume_name(source), read_only)


def parse_volume(text: str) -> MountSpec:
    """``-v /host:/ctr[:ro|rw]``, ``-v NAME:/ctr[:ro]`` or ``-v /ctr`` (anonymous volume)."""
    parts = text.split(":")
    options: list[str] = []
    if len(parts) == 1:
        source, target = "", parts[0]
    elif len(parts) == 2 and not parts[1].startswith("/"):  # /ctr:ro, as docker reads it
        source, target = "", parts[0]
        options = parts[1].split(",")
    elif len(parts) == 2:
        source, target = parts
    elif len(parts) == 3:
        source, target = parts[0], parts[1]
        options = parts[2].split(",")
    else:
        raise InvalidArgument(f"invalid volume specification: '{text}' (use SOURCE:TARGET[:ro])")
    read_only = False
    for option in options:
        if option == "ro":
            read_only = True
        elif option not in _ACCEPTED:
            raise InvalidArgument(f"invalid volume specification: '{text}': unknown option "
                                  f"{option!r} (use ro or rw)")
    try:
        return volume_mount(source, target, read_only)
    except InvalidArgument as exc:
        raise InvalidArgument(f"invalid volume specification: '{text}': {exc}") from None


def parse_tmpfs(text: str) -> MountSpec:
    """``--tmpfs /run[:rw,size=64m,mode=1777,exec]`` (HostConfig.Tmpfs's ``path: options``).

    Like docker's, the mount is nosuid, nodev and noexec unless ``exec`` is asked;
    ``suid`` and ``dev`` are refused: a container may not make either."""
    target, _, options = text.partition(":")
    if not target.startswith("/"):
        raise InvalidArgument(f"invalid tmpfs mount '{text}': the path must be absolute")
    size = mode = 0
    read_only = run = False
    for option in filter(None, options.split(",")):
        key, eq, value = option.partition("=")
        if key == "size" and eq:
            size = _tmpfs_size(value, text)
        elif key == "mode" and eq:
            mode = _tmpfs_mode(value, text)
        elif option in ("ro", "rw"):
            read_only = option == "ro"
        elif option in ("exec", "noexec"):
            run = option == "exec"
        elif option in ("nosuid", "nodev", "relatime", "noatime", "strictatime", "atime"):
            continue  # nosuid and nodev always; the time options change nothing a user sees
        else:
            raise InvalidArgument(f"invalid tmpfs option {option!r} in '{text}': use ro, rw, "
                                  "size, mode, exec or noexec")
    return MountSpec("tmpfs", target, "", read_only, tmpfs_size=size, tmpfs_mode=mode,
                     tmpfs_exec=run)


def _tmpfs_size(value: str, original: str) -> int:
    try:
        size = parse_ram(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"invalid tmpfs size in '{original}': {exc}") from None
    if size <= 0:
        raise InvalidArgument(f"invalid tmpfs size in '{original}': it must be above 0")
    return size


def _tmpfs_mode(value: str, original: str) -> int:
    try:
        mode = int(value, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise InvalidArgument(f"invalid tmpfs mode '{value}' in '{original}': use octal "
                              "permission bits, such as 1777")
    return mode


def _bool_value(key: str, value: str, original: str) -> bool:
    lowered = value.lower()
    if lowered in ("", "1", "true"):
        return True
    if lowered in ("0", "false"):
        return False
    raise InvalidArgument(f"invalid value for {key}: {value!r} in {original!r}")


def parse_mount(text: str) -> MountSpec:
    """``--mount type=bind|volume|tmpfs,source=...,target=...[,readonly]``."""
    kind = "volume"
    source = target = ""
    read_only = False
    size = mode = 0
    for field in text.split(","):
        key, eq, value = field.partition("=")
        key = key.strip().lower()
        if key == "type":
            kind = value
        elif key in ("source", "src"):
            source = value
        elif key in ("target", "destination", "dst"):
            target = value
        elif key in ("readonly", "ro"):
            read_only = _bool_value(key, value if eq else "", text)
        elif key == "tmpfs-size":
            size = _tmpfs_size(value, text)
        elif key == "tmpfs-mode":
            mode = _tmpfs_mode(value, text)
        elif key in ("bind-propagation", "consistency", "volume-nocopy"):
            continue  # accepted for compatibility; Skiff has one behaviour for each
        else:
            raise InvalidArgument(f"invalid field {key!r} in --mount {text!r}: use type, "
                                  "source, target and readonly")
    if kind not in MOUNT_TYPES:
        raise InvalidArgument(f"invalid mount type {kind!r} in {text!r}: use bind, volume or "
                              "tmpfs")
    if not target:
        raise InvalidArgument(f"invalid --mount {text!r}: target is required")
    if not target.startswith("/"):
        raise InvalidArgument(f"invalid --mount {text!r}: the target must be an absolute path")
    if kind == "bind":
        if not source:
            raise InvalidArgument(f"invalid --mount {text!r}: source is required for bind "
                                  "mounts")
        if not source.startswith("/"):
            raise InvalidArgument(f"invalid --mount {text!r}: a bind source must be an "
                                  "absolute path")
    if kind == "tmpfs" and source:
        raise InvalidArgument(f"invalid --mount {text!r}: tmpfs mounts take no source")
    if kind != "tmpfs" and (size or mode):
        raise InvalidArgument(f"invalid --mount {text!r}: tmpfs-size and tmpfs-mode are for "
                              "tmpfs mounts")
    if kind == "volume" and source:
        check_volume_name(source)
    return MountSpec(kind, target, source, read_only, tmpfs_size=size, tmpfs_mode=mode)


def is_anonymous(mount: MountSpec) -> bool:
    """An anonymous volume: named by the engine (64 hex digits) or not yet named."""
    return mount.type == "volume" and (not mount.source or (
        len(mount.source) == 64 and all(c in "0123456789abcdef" for c in mount.source)))


def format_mount(mount: MountSpec) -> list[str]:
    """The flag and value that read back as ``mount``: ``-v SRC:DST[:ro]`` or ``--mount ...``."""
    suffix = ":ro" if mount.read_only else ""
    if mount.type == "tmpfs":
        options = [*(["ro"] if mount.read_only else []),
                   *([f"size={mount.tmpfs_size}"] if mount.tmpfs_size else []),
                   *([f"mode={mount.tmpfs_mode:o}"] if mount.tmpfs_mode else []),
                   *(["exec"] if mount.tmpfs_exec else [])]
        return ["--tmpfs", mount.target + (":" + ",".join(options) if options else "")]
    if is_anonymous(mount):
        return ["-v", mount.target + suffix]
    return ["-v", f"{mount.source}:{mount.target}{suffix}"]
