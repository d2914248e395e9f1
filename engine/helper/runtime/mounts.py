"""The container's filesystem as a plan: mounts computed as data, then applied.

``plan_rootfs`` is pure (tested without root); ``apply`` performs the steps
inside the container's fresh mount namespace, before pivot_root. Paths in the
plan are absolute host paths under the container's rootfs mountpoint.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from engine.helper.runtime import syscalls as sc

__all__ = [
    "MASKED_PATHS",
    "READONLY_PATHS",
    "Device",
    "MountStep",
    "plan_rootfs",
]

# Docker's defaults (moby's oci/defaults.go).
MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
)
READONLY_PATHS = (
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
)


@dataclass(frozen=True)
class Device:
    path: str
    major: int
    minor: int
    mode: int = 0o666


DEVICES = (
    Device("/dev/null", 1, 3), Device("/dev/zero", 1, 5), Device("/dev/full", 1, 7),
    Device("/dev/random", 1, 8), Device("/dev/urandom", 1, 9), Device("/dev/tty", 5, 0),
)
DEV_LINKS = (
    ("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"),
    ("pts/ptmx", "/dev/ptmx"), ("/proc/kcore", "/dev/core"),
)


@dataclass(frozen=True)
class MountStep:
    source: str | None
    target: str  # host path
    fstype: str | None
    flags: int = 0
    data: str | None = None
    kind: str = "dir"  # what the target must be: dir | file
    remount_ro: bool = False  # bind mounts need a second pass to become read-only
    copy_up: bool = False  # fill an empty volume from the image's content at the target


@dataclass(frozen=True)
class RootfsPlan:
    rootfs: str
    steps: list[MountStep] = field(default_factory=list)
    devices: tuple[Device, ...] = DEVICES
    links: tuple[tuple[str, str], ...] = DEV_LINKS


@dataclass(frozen=True)
class BindMount:
    source: str  # host path ("tmpfs" for a tmpfs)
    target: str  # path inside the container
    read_only: bool = False
    kind: str = "dir"  # dir | file | tmpfs
    copy_up: bool = False


def _inside(rootfs: str, path: str) -> str:
    return os.path.join(rootfs, path.lstrip("/"))


def plan_rootfs(*, rootfs: str, lowerdirs: list[str], upperdir: str, workdir: str,
                binds: list[BindMount], shm_size: int = 64 << 20,
                mount_sysfs: bool = True) -> RootfsPlan:
    """Everything mounted under ``rootfs`` before pivot_root, in order.

    ``lowerdirs`` are top layer first, as overlayfs wants them. The overlay is
    mounted nodev: device nodes shipped in an image layer stay inert, and /dev
    is our own tmpfs with the standard nodes.
    """
    nosuid_nodev_noexec = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC
    steps = [
        MountStep("overlay", rootfs, "overlay", sc.MS_NODEV,
                  f"lowerdir={':'.join(lowerdirs)},upperdir={upperdir},workdir={workdir}"),
        MountStep("proc", _inside(rootfs, "/proc"), "proc", nosuid_nodev_noexec),
        MountStep("tmpfs", _inside(rootfs, "/dev"), "tmpfs", sc.MS_NOSUID | sc.MS_STRICTATIME,
                  "mode=755,size=65536k"),
        MountStep("devpts", _inside(rootfs, "/dev/pts"), "devpts", sc.MS_NOSUID | sc.MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620,gid=5"),
        MountStep("shm", _inside(rootfs, "/dev/shm"), "tmpfs", nosuid_nodev_noexec,
                  f"mode=1777,size={shm_size}"),
        MountStep("mqueue", _inside(rootfs, "/dev/mqueue"), "mqueue", nosuid_nodev_noexec),
    ]
    if mount_sysfs:
        steps.append(MountStep("sysfs", _inside(rootfs, "/sys"), "sysfs",
                               nosuid_nodev_noexec | sc.MS_RDONLY))
    for bind in binds:
        if bind.kind == "tmpfs":
            flags = sc.MS_NOSUID | sc.MS_NODEV | (sc.MS_RDONLY if bind.read_only else 0)
            steps.append(MountStep("tmpfs", _inside(rootfs, bind.target), "tmpfs", flags,
                                   "mode=1777"))
            continue
        steps.append(MountStep(bind.source, _inside(rootfs, bind.target), None,
                               sc.MS_BIND | sc.MS_REC, kind=bind.kind,
                               remount_ro=bind.read_only, copy_up=bind.copy_up))
    return RootfsPlan(rootfs, steps)


def _ensure_target(target: str, kind: str, rootfs: str) -> None:
    """Create a mountpoint inside the rootfs without following symlinks out of it."""
    rel = os.path.relpath(target, rootfs)
    if rel.startswith(".."):
        raise OSError(22, f"mount target {target} is outside the root filesystem")
    fd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY)
    try:
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            try:
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                if last and kind == "file":
                    os.close(os.open(part, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o644,
                                     dir_fd=fd))
                    return
                os.mkdir(part, 0o755, dir_fd=fd)
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                raise OSError(40, f"mount target {target} goes through a symbolic link")
            if last:
                return
            nfd = os.open(part, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nfd
    finally:
        os.close(fd)


def apply(plan: RootfsPlan) -> None:
    """Perform the plan in the current (private) mount namespace."""
    for step in plan.steps:
        if step.copy_up:
            _copy_up(step.target, step.source or "", plan.rootfs)
        if step.target != plan.rootfs:
            _ensure_target(step.target, step.kind, plan.rootfs)
        sc.mount(step.source, step.target, step.fstype, step.flags, step.data)
        if step.remount_ro:
            sc.mount(None, step.target, None,
                     sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC)
        if step.fstype == "tmpfs" and step.target.endswith("/dev"):
            _populate_dev(plan)


def _copy_up(target: str, volume: str, rootfs: str) -> None:
    """Docker's volume initialisation: an empty volume gets the image's files there."""
    if not os.path.isdir(volume) or os.listdir(volume):
        return
    real = os.path.realpath(target)
    if not (real + "/").startswith(rootfs.rstrip("/") + "/") or not os.path.isdir(real) \
            or os.path.islink(target):
        return
    _copy_tree(real, volume)


def _copy_tree(source: str, dest: str) -> None:
    """Copy contents with owners, modes and links, never following a symlink."""
    for entry in os.scandir(source):
        src, dst = entry.path, os.path.join(dest, entry.name)
        st = entry.stat(follow_symlinks=False)
        if entry.is_symlink():
            os.symlink(os.readlink(src), dst)
        elif entry.is_dir(follow_symlinks=False):
            os.mkdir(dst)
            _copy_tree(src, dst)
        elif entry.is_file(follow_symlinks=False):
            with open(src, "rb") as fin, open(dst, "xb") as fout:
                while chunk := fin.read(1 << 20):
                    fout.write(chunk)
        else:
            continue  # devices, fifos and sockets are not copied into volumes
        os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
        if not entry.is_symlink():
            os.chmod(dst, stat.S_IMODE(st.st_mode))
    st = os.stat(source)
    os.chown(dest, st.st_uid, st.st_gid)
    os.chmod(dest, stat.S_IMODE(st.st_mode))


def _populate_dev(plan: RootfsPlan) -> None:
    dev = _inside(plan.rootfs, "/dev")
    old = os.umask(0)
    try:
        for device in plan.devices:
            path = _inside(plan.rootfs, device.path)
            os.mknod(path, stat.S_IFCHR | device.mode, os.makedev(device.major, device.minor))
        for target, link in plan.links:
            os.symlink(target, _inside(plan.rootfs, link))
        for sub in ("pts", "shm", "mqueue"):
            os.mkdir(os.path.join(dev, sub), 0o755)
    finally:
        os.umask(old)


def mask_paths(masked: tuple[str, ...] = MASKED_PATHS,
               readonly: tuple[str, ...] = READONLY_PATHS) -> None:
    """After pivot_root: hide kernel files and make others read-only, as Docker does."""
    for path in masked:
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            sc.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY, "size=0")
        else:
            sc.mount("/dev/null", path, None, sc.MS_BIND)
    for path in readonly:
        if not os.path.exists(path):
            continue
        sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        sc.mount(None, path, None,
                 sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC | sc.MS_NOSUID
                 | sc.MS_NODEV | sc.MS_NOEXEC)


def enter_rootfs(rootfs: str) -> None:
    """pivot_root into rootfs and detach the old root (the "." "." trick)."""
    os.chdir(rootfs)
    sc.pivot_root(".", ".")
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")


__all__ += ["BindMount", "RootfsPlan", "apply", "enter_rootfs", "mask_paths"]
