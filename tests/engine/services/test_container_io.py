"""Real containers from the busybox image: exec, volumes and mounts, and attaching
(run -it, start -ai, attach); see test_containers.py."""

from __future__ import annotations

import asyncio
import platform
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.state import Status
from engine.errors import (
    ContainerStartError,
    InvalidState,
)
from tests.engine.services.containerprobes import config, eventually, output, run, started
from tests.fixtures.engine import tidy_engine

pytestmark = pytest.mark.root


# -- exec --------------------------------------------------------------------------

async def _collect(session) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    out: dict[str, bytes] = {"stdout": b"", "stderr": b""}
    while True:
        stream, data = await session.read()
        if not data:
            return out
        out[stream] += data


async def test_exec_returns_output_and_exit_code(engine: Engine) -> None:
    cid = await started(engine, "sleep", "30", env=["FROM_RUN=1"])
    session = await engine.containers.exec(cid, ["sh", "-c",
                                                 "echo $FROM_RUN $X $$; echo err >&2; exit 4"],
                                env=["X=2"])
    out = await _collect(session)
    assert await session.wait() == 4
    session.close()
    value, x, pid = out["stdout"].decode().split()
    assert (value, x, out["stderr"]) == ("1", "2", b"err\n")
    assert int(pid) > 1  # in the container's PID namespace, beside its init


async def test_exec_with_a_tty_runs_an_interactive_shell(engine: Engine) -> None:
    cid = await started(engine, "sleep", "30")
    session = await engine.containers.exec(cid, ["sh"], tty=True, rows=24, cols=80)
    await session.write(b"stty size; tty; echo done-$((6*7))\n")
    seen = b""
    while b"done-42" not in seen:
        _, data = await asyncio.wait_for(session.read(), 10)
        assert data, seen
        seen += data
    assert b"24 80" in seen and b"/dev/pts/" in seen
    await session.write(b"exit 3\n")
    assert await asyncio.wait_for(session.wait(), 10) == 3
    session.close()


async def test_exec_errors_are_clear(engine: Engine) -> None:
    cid = await started(engine, "sleep", "30")
    with pytest.raises(ContainerStartError) as info:
        await engine.containers.exec(cid, ["nosuchcommand"])
    assert info.value.exit_code == 127
    await engine.containers.pause(cid)
    with pytest.raises(InvalidState, match="paused"):
        await engine.containers.exec(cid, ["true"])
    await engine.containers.unpause(cid)
    await engine.containers.kill(cid)
    with pytest.raises(InvalidState, match="not running"):
        await engine.containers.exec(cid, ["true"])


# -- volumes and mounts ------------------------------------------------------------

async def test_named_volume_outlives_its_container(engine: Engine) -> None:
    from engine.containers.config import MountSpec

    data = [MountSpec("volume", "/data", "keep-me")]
    code, _ = await run(engine, "sh", "-c", "echo kept > /data/file", mounts=data)
    assert code == 0
    for container in await engine.containers.list(all=True):
        await engine.containers.remove(container.id)
    code, out = await run(engine, "cat", "/data/file", mounts=data)
    assert (code, out) == (0, "kept\n")
    assert (await engine.volumes.inspect("keep-me")).name == "keep-me"
    for container in await engine.containers.list(all=True):
        await engine.containers.remove(container.id)
    await engine.volumes.remove("keep-me")


async def test_a_new_volume_starts_with_the_images_content(engine: Engine) -> None:
    from engine.containers.config import MountSpec

    code, out = await run(engine, "cat", "/etc/group",
                          mounts=[MountSpec("volume", "/etc", "etc-copy")])
    assert code == 0 and out.startswith("root:x:0:")
    vol = await engine.volumes.get("etc-copy")
    assert Path(vol.mountpoint, "passwd").is_file()
    for container in await engine.containers.list(all=True):
        await engine.containers.remove(container.id, volumes=True)
    await engine.volumes.remove("etc-copy")


async def test_read_only_bind_refuses_writes(engine: Engine, tmp_path: Path) -> None:
    from engine.containers.config import MountSpec

    (tmp_path / "hello.txt").write_text("from the host\n")
    _, out = await run(engine, "sh", "-c",
                       "cat /host/hello.txt; (echo x > /host/new) 2>/dev/null || echo refused",
                       mounts=[MountSpec("bind", "/host", str(tmp_path), read_only=True)])
    assert out == "from the host\nrefused\n"
    assert not (tmp_path / "new").exists()


async def test_tmpfs_mount(engine: Engine) -> None:
    from engine.containers.config import MountSpec

    code, out = await run(engine, "sh", "-c", "mount | grep ' /scratch '",
                          mounts=[MountSpec("tmpfs", "/scratch")])
    assert code == 0 and out.startswith("tmpfs on /scratch type tmpfs")


async def test_anonymous_volume_goes_with_rm_v(engine: Engine) -> None:
    from engine.containers.config import MountSpec

    container = await engine.containers.create(config("true", mounts=[MountSpec("volume",
                                                                                "/anon")]))
    name = container.config.mounts[0].source
    assert (await engine.volumes.get(name)).anonymous
    await engine.containers.remove(container.id, volumes=True)
    assert name not in {v.name for v in await engine.volumes.list()}


# -- attach (run -it, start -ai, attach) -------------------------------------------

async def _read_until(session, text: bytes, limit: float = 10.0) -> bytes:  # type: ignore[no-untyped-def]
    seen = b""
    while text not in seen:
        _, data = await asyncio.wait_for(session.read(), limit)
        assert data, seen
        seen += data
    return seen


async def test_run_it_gives_an_interactive_terminal(engine: Engine) -> None:
    container = await engine.containers.create(config("sh", tty=True, open_stdin=True))
    session = await engine.containers.start_attached(container.id)
    session.resize(30, 100)
    await session.write(b"stty size; tty; echo sum-$((40+2))\n")
    seen = await _read_until(session, b"sum-42")
    assert b"30 100" in seen and b"/dev/pts/0" in seen
    await session.write(b"exit 3\n")
    while (await session.read())[1]:
        pass
    assert session.exit_code == 3
    session.close()
    assert b"sum-42" in b"".join([line.data async for line in engine.containers.logs(container.id)])


async def test_a_tty_has_the_console_size_asked_at_create_before_its_process_starts(
        engine: Engine) -> None:
    container = await engine.containers.create(config("stty", "size", tty=True,
                                                      console_size=(33, 111)))
    for _ in range(2):  # every start, as dockerd sizes the TTY from the stored HostConfig
        await engine.containers.start(container.id)
        assert await engine.containers.wait(container.id) == 0
    assert (await output(engine, container.id)).splitlines() == ["33 111", "33 111"]
    inspected = (await engine.containers.inspect(container.id)).docker_json()
    assert inspected["HostConfig"]["ConsoleSize"] == [33, 111]


async def test_run_i_feeds_stdin_until_it_closes(engine: Engine) -> None:
    container = await engine.containers.create(config("sh", "-c", "cat; echo done >&2",
                                                      open_stdin=True))
    session = await engine.containers.start_attached(container.id)
    await session.write(b"line one\nline two\n")
    session.close_stdin()
    chunks: dict[str, bytes] = {"stdout": b"", "stderr": b""}
    while True:
        stream, data = await asyncio.wait_for(session.read(), 10)
        if not data:
            break
        chunks[stream] += data
    session.close()
    assert chunks == {"stdout": b"line one\nline two\n", "stderr": b"done\n"}
    assert await engine.containers.wait(container.id) == 0


async def test_attach_joins_a_running_container(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "while true; do echo tick; sleep 0.1; done")
    session = await engine.containers.attach(cid)
    await _read_until(session, b"tick")
    session.close()  # leaving does not stop it
    assert (await engine.containers.get(cid)).state.status is Status.RUNNING
    await engine.containers.kill(cid)


async def test_removals_at_once_in_a_fresh_engine_each_remove_theirs(engine: Engine) -> None:
    """The first request of an engine repairs what crashes left: removals that start
    beside it are in flight, not leftovers (compose and the API remove in parallel)."""
    ids = [(await engine.containers.create(config("true"))).id for _ in range(4)]
    ids.append(await started(engine, "sleep", "60"))
    async with Engine() as fresh:
        await asyncio.gather(*(fresh.containers.remove(cid, force=True) for cid in ids))
        assert not {c.id for c in await fresh.containers.list(all=True)} & set(ids)



_RECVMSG = {"x86_64": 47, "aarch64": 212}.get(platform.machine())


def _zygote(helper: int) -> int:
    """The helper's zygote: the child it forked first, from its main thread."""
    with open(f"/proc/{helper}/task/{helper}/children") as f:
        return min(int(p) for p in f.read().split())


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


@pytest.mark.skipif(_RECVMSG is None, reason="recvmsg's number known for x86_64, aarch64")
async def test_the_zygote_prepares_only_for_containers(busybox_image: str) -> None:
    """A helper asked only about layers (a pull) leaves its zygote cold (its imports
    cost a pull ~0.3 s of CPU); the first container verb has it prepare."""
    async with tidy_engine() as fresh:  # its container goes: the CLI's tests count them
        await fresh._shared.repair_once()
        await fresh._shared.helper.call("layer_exists", {"diff_id": "sha256:" + "0" * 64})
        helper = fresh._shared.helper.pid
        assert helper is not None
        zygote = _zygote(helper)

        async def waiting_for_requests() -> bool:  # in recvmsg: any preparing is done
            return _read(f"/proc/{zygote}/syscall").split()[0] == str(_RECVMSG)

        await eventually(waiting_for_requests)
        assert _read(f"/proc/{zygote}/comm") != "skiff-zygote"
        assert (await run(fresh, "true"))[0] == 0
        assert _read(f"/proc/{zygote}/comm") == "skiff-zygote"


async def test_an_ended_monitor_leaves_no_zombie(engine: Engine) -> None:
    """Monitors are the zygote's children (forked once, not twice); the zygote ignores
    SIGCHLD, so one that ended is gone from the process table, not a zombie that
    `ps` shows and that looks alive to whoever checks its pid."""
    import json

    cid = await started(engine, "true")
    await engine.containers.wait(cid)
    status = json.loads((engine._shared.dir(cid) / "status.json").read_text())
    monitor = int(status["monitor_pid"])
    assert monitor > 0

    async def reaped() -> bool:
        return not Path(f"/proc/{monitor}").exists()

    await eventually(reaped)
