"""The container's filesystem plan and its application, without root: plan_rootfs is
pure, and apply, mask_paths and enter_rootfs run against a recording kernel
(engine/helper/runtime/kernel.py) over a temporary directory."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.helper import syscalls as sc
from engine.helper.runtime import devices
from engine.helper.runtime.kernel import RecordingKernel
from engine.helper.runtime.mounts import (
    BindMount,
    MountStep,
    RootfsPlan,
    apply,
    bind_attributes,
    clear_volatile,
    enter_rootfs,
    mask_paths,
    plan_rootfs,
    prepare_tree,
)

NOSUID_NODEV_NOEXEC = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC


def _plan(rootfs: str = "/r", **options: object) -> RootfsPlan:
    return plan_rootfs(rootfs=rootfs, lowerdirs=["top", "base"], upperdir="/c/upper",
                       workdir="/c/work", **options)  # type: ignore[arg-type]


def test_the_rootfs_is_an_overlay_with_the_kernel_filesystems_on_it() -> None:
    plan = _plan(binds=[])
    assert [(s.fstype, s.target) for s in plan.steps] == [
        ("overlay", "/r"), ("proc", "/r/proc"), ("tmpfs", "/r/dev"), ("devpts", "/r/dev/pts"),
        ("tmpfs", "/r/dev/shm"), ("mqueue", "/r/dev/mqueue"), ("sysfs", "/r/sys")]
    overlay, proc, dev, pts, shm, mqueue, sysfs = plan.steps
    # Top layer first; device nodes shipped in a layer stay inert.
    assert overlay.data == "lowerdir=top:base,upperdir=/c/upper,workdir=/c/work"
    assert overlay.flags == sc.MS_NODEV
    assert proc.flags == shm.flags == mqueue.flags == NOSUID_NODEV_NOEXEC
    assert sysfs.flags == NOSUID_NODEV_NOEXEC | sc.MS_RDONLY
    assert dev.flags == sc.MS_NOSUID | sc.MS_STRICTATIME  # the devices cgroup guards it
    assert pts.data == "newinstance,ptmxmode=0666,mode=0620,gid=5"
    assert shm.data == "mode=1777,size=67108864"
    assert plan.devices == "cgroup"


def test_a_remapped_container_owns_its_dev_and_nodev_mode_shuts_devices() -> None:
    plan = _plan(binds=[], owner=(100000, 100000, 100005), device_mode="nodev",
                 mount_sysfs=False, shm_size=1 << 20)
    dev, pts, shm, _ = (s for s in plan.steps if s.target.startswith("/r/dev"))
    assert dev.flags & sc.MS_NODEV
    assert dev.data == "mode=755,size=65536k,uid=100000,gid=100000"
    assert pts.data == "newinstance,ptmxmode=0666,mode=0620,uid=100000,gid=100005"
    assert shm.data == "mode=1777,size=1048576,uid=100000,gid=100000"
    assert "sysfs" not in [s.fstype for s in plan.steps]
    assert plan.devices == "nodev"


def test_binds_follow_the_kernel_filesystems_in_order() -> None:
    plan = _plan(binds=[BindMount("/data", tree=7, fill_from=9),
                        BindMount("/tmp", kind="tmpfs", read_only=True),
                        BindMount("/etc/hosts", tree=8, kind="file")])
    volume, tmpfs, hosts = plan.steps[-3:]
    assert (volume.target, volume.tree, volume.fill_from, volume.kind) == \
        ("/r/data", 7, 9, "dir")
    assert (tmpfs.fstype, tmpfs.target, tmpfs.data) == ("tmpfs", "/r/tmp", "mode=1777")
    assert tmpfs.flags == sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC | sc.MS_RDONLY  # docker's
    assert (hosts.target, hosts.tree, hosts.kind) == ("/r/etc/hosts", 8, "file")


@pytest.mark.parametrize(("read_only", "uid", "mode", "expected"), [
    (False, 0, "cgroup", 0),
    (True, 0, "cgroup", sc.MOUNT_ATTR_RDONLY),
    (False, 1000, "cgroup", sc.MOUNT_ATTR_NOSUID | sc.MOUNT_ATTR_NODEV),
    (False, 0, "nodev", sc.MOUNT_ATTR_NODEV),
])
def test_a_user_s_binds_never_carry_setuid_or_devices(read_only: bool, uid: int, mode: str,
                                                      expected: int) -> None:
    assert bind_attributes(read_only=read_only, owner_uid=uid, device_mode=mode) == expected


def test_a_bind_tree_is_a_private_copy_with_its_attributes(tmp_path: Path) -> None:
    kernel = RecordingKernel()
    fd = os.open(tmp_path, os.O_PATH | os.O_CLOEXEC)
    try:
        tree = prepare_tree(fd, sc.MOUNT_ATTR_RDONLY, kernel)
    finally:
        os.close(fd)
    os.close(tree)
    assert [c.name for c in kernel.calls] == ["open_tree", "mount_setattr"]
    assert kernel.named("open_tree")[0][:2] == (fd, True)
    assert kernel.named("mount_setattr") == [(tree, sc.MOUNT_ATTR_RDONLY, 0, sc.MS_PRIVATE,
                                              True)]


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    root.mkdir()
    return root


@pytest.mark.parametrize("mode", ["cgroup", "nodev"])
def test_apply_mounts_in_plan_order_and_fills_dev(rootfs: Path, mode: str) -> None:
    kernel = RecordingKernel()
    apply(_plan(str(rootfs), binds=[], device_mode=mode), kernel)
    fstypes = [(args[2], args[1]) for args in kernel.named("mount") if args[2]]
    assert fstypes == [("overlay", str(rootfs))] + [
        (fstype, str(rootfs / path)) for fstype, path in (
            ("proc", "proc"), ("tmpfs", "dev"), ("devpts", "dev/pts"), ("tmpfs", "dev/shm"),
            ("mqueue", "dev/mqueue"), ("sysfs", "sys"))]
    dev = rootfs / "dev"
    for sub in ("pts", "shm", "mqueue"):
        assert (dev / sub).is_dir()
    assert os.readlink(dev / "ptmx") == "pts/ptmx"
    nodes = {os.path.basename(d.path): d for d in devices.DEVICES}
    if mode == "cgroup":
        made = {os.path.basename(str(path)): (mode_bits, device)
                for path, mode_bits, device in kernel.named("mknod")}
        assert made == {name: (stat.S_IFCHR | d.mode, os.makedev(d.major, d.minor))
                        for name, d in nodes.items()}
    else:  # the host's own nodes, bound, never made
        assert kernel.named("mknod") == []
        binds = [(src, dst) for src, dst, _, flags, _ in kernel.named("mount")
                 if flags == sc.MS_BIND]
        assert binds == [(d.path, str(dev / name)) for name, d in nodes.items()]


def test_apply_attaches_bind_trees_inside_the_rootfs(rootfs: Path) -> None:
    kernel = RecordingKernel()
    tree = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    plan = RootfsPlan(str(rootfs), [MountStep(None, str(rootfs / "srv/data"), None, tree=tree),
                                    MountStep(None, str(rootfs / "etc/hosts"), None,
                                              kind="file", tree=os.dup(tree))])
    apply(plan, kernel)
    assert [where for _, where in kernel.named("move_mount")] == [
        str(rootfs / "srv/data"), str(rootfs / "etc/hosts")]
    assert (rootfs / "srv/data").is_dir()
    assert (rootfs / "etc/hosts").is_file()
    with pytest.raises(OSError):
        os.fstat(tree)  # consumed by apply


def test_apply_never_mounts_through_a_symlink_out_of_the_rootfs(rootfs: Path,
                                                                tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (rootfs / "etc").symlink_to(outside)  # what an image may ship
    kernel = RecordingKernel()
    tree = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    with pytest.raises(OSError, match="symbolic link"):
        apply(RootfsPlan(str(rootfs), [MountStep(None, str(rootfs / "etc/hosts"), None,
                                                 kind="file", tree=tree)]), kernel)
    assert kernel.named("move_mount") == []
    assert list(outside.iterdir()) == []
    with pytest.raises(OSError, match="outside the root"):
        apply(RootfsPlan(str(rootfs), [MountStep("tmpfs", str(tmp_path / "x"), "tmpfs")]),
              kernel)
    assert kernel.named("mount") == []


def test_mask_paths_hides_and_freezes_what_docker_does(tmp_path: Path) -> None:
    (tmp_path / "kcore").write_text("")
    (tmp_path / "acpi").mkdir()
    (tmp_path / "sys").mkdir()
    kernel = RecordingKernel()
    mask_paths((str(tmp_path / "kcore"), str(tmp_path / "acpi"), str(tmp_path / "nope")),
               (str(tmp_path / "sys"), str(tmp_path / "nope")), kernel)
    assert kernel.named("mount") == [
        ("/dev/null", str(tmp_path / "kcore"), None, sc.MS_BIND, None),
        ("tmpfs", str(tmp_path / "acpi"), "tmpfs", sc.MS_RDONLY, "size=0"),
        (str(tmp_path / "sys"), str(tmp_path / "sys"), None, sc.MS_BIND | sc.MS_REC, None),
        (None, str(tmp_path / "sys"), None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY
         | sc.MS_REC | NOSUID_NODEV_NOEXEC, None),
    ]


@pytest.fixture
def cwd() -> Iterator[None]:
    old = os.getcwd()
    try:
        yield
    finally:
        os.chdir(old)


@pytest.mark.usefixtures("cwd")
def test_enter_rootfs_pivots_and_detaches_the_old_root(rootfs: Path) -> None:
    kernel = RecordingKernel()
    enter_rootfs(str(rootfs), kernel)
    assert [(c.name, c.args) for c in kernel.calls] == [
        ("pivot_root", (".", ".")), ("umount2", (".", sc.MNT_DETACH))]


def test_read_only_makes_the_workdir_then_freezes_the_root_last(rootfs: Path) -> None:
    plan = _plan(str(rootfs), binds=[], read_only=True, workdir_in="/app/work",
                 owner=(os.getuid(), os.getgid(), os.getgid()))
    mkdir, last = plan.steps[-2:]
    assert (mkdir.kind, mkdir.target) == ("mkdir", str(rootfs / "app/work"))
    assert last.target == str(rootfs)
    assert last.flags == sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_NODEV
    kernel = RecordingKernel()
    apply(plan, kernel)
    assert (rootfs / "app/work").is_dir()
    assert kernel.named("mount")[-1][1:4] == (str(rootfs), None, last.flags)
    assert [s.kind for s in _plan(binds=[], read_only=True).steps].count("mkdir") == 0
    assert all(s.flags & sc.MS_RDONLY == 0 or s.fstype == "sysfs" for s in _plan(binds=[]).steps)


class _NoVolatileKernel(RecordingKernel):
    """A kernel before 5.10: an overlay mounted volatile is refused (EINVAL)."""

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int = 0,
              data: str | None = None) -> None:
        super().mount(source, target, fstype, flags, data)
        if fstype == "overlay" and data is not None and "volatile" in data:
            raise OSError(errno.EINVAL, "Invalid argument")


@pytest.mark.parametrize("kernel_has_it", [True, False])
def test_a_volatile_overlay_is_mounted_so_where_the_kernel_has_it(
        rootfs: Path, kernel_has_it: bool) -> None:
    """A --rm container's: its teardown does not sync the upper filesystem."""
    plan = _plan(str(rootfs), binds=[], volatile=True)
    wanted = plan.steps[0].data
    assert wanted == "lowerdir=top:base,upperdir=/c/upper,workdir=/c/work,volatile"
    kernel = RecordingKernel() if kernel_has_it else _NoVolatileKernel()
    apply(plan, kernel)
    assert [args[4] for args in kernel.named("mount") if args[2] == "overlay"] == (
        [wanted] if kernel_has_it else [wanted, wanted.removesuffix(",volatile")])


def test_clear_volatile_takes_the_mark_of_an_earlier_volatile_mount(tmp_path: Path) -> None:
    (tmp_path / "work" / "incompat" / "volatile").mkdir(parents=True)
    (tmp_path / "work" / "incompat" / "volatile" / "#1").mkdir()  # the kernel's, within
    clear_volatile(str(tmp_path))
    assert os.listdir(tmp_path / "work") == []
    clear_volatile(str(tmp_path))  # nothing there: nothing to do
