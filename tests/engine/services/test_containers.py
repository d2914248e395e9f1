"""Real containers from the busybox image, checked from inside and outside.

Isolation is checked by probes run in the container; limits by their effect.
"""

from __future__ import annotations

import asyncio
import os
import platform
import signal
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, Resources, RestartPolicy
from engine.containers.state import Status
from engine.errors import (
    Conflict,
    ContainerNotFound,
    ContainerStartError,
    InvalidState,
    NameInUse,
)
from engine.helper.runtime.capabilities import DEFAULT_CAPABILITIES, mask

pytestmark = pytest.mark.root


async def output(engine: Engine, ref: str, stream: str | None = None) -> str:
    return "".join([line.data.decode() + ("" if line.partial else "\n")
                    async for line in engine.containers.logs(ref)
                    if stream is None or line.stream == stream])


def config(*cmd: str, **options: object) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd) or None,
                           **options)  # type: ignore[arg-type]


async def run(engine: Engine, *cmd: str, name: str = "", **options: object) -> tuple[int, str]:
    container = await engine.containers.create(config(*cmd, **options), name=name)
    await engine.containers.start(container.id)
    code = await engine.containers.wait(container.id)
    return code, await output(engine, container.id)


async def started(engine: Engine, *cmd: str, **options: object) -> str:
    container = await engine.containers.create(config(*cmd, **options))
    await engine.containers.start(container.id)
    return container.id


async def eventually(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.05)


# -- running and exit codes --------------------------------------------------------

async def test_echo(engine: Engine) -> None:
    assert await run(engine, "echo", "hello") == (0, "hello\n")


async def test_exit_code_is_kept(engine: Engine) -> None:
    code, _ = await run(engine, "sh", "-c", "exit 3")
    assert code == 3


async def test_missing_command_is_127(engine: Engine) -> None:
    container = await engine.containers.create(config("nosuchcommand"))
    with pytest.raises(ContainerStartError) as info:
        await engine.containers.start(container.id)
    assert info.value.exit_code == 127
    assert "executable file not found" in str(info.value)
    assert (await engine.containers.get(container.id)).state.exit_code == 127


async def test_not_executable_is_126(engine: Engine) -> None:
    container = await engine.containers.create(config("/etc/passwd"))
    with pytest.raises(ContainerStartError) as info:
        await engine.containers.start(container.id)
    assert info.value.exit_code == 126


async def test_stdout_and_stderr_are_told_apart(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "echo out; echo err >&2")
    await engine.containers.wait(cid)
    assert await output(engine, cid, "stdout") == "out\n"
    assert await output(engine, cid, "stderr") == "err\n"


async def test_image_defaults_and_overrides_combine_like_docker(engine: Engine) -> None:
    code, out = await run(engine, "sh", "-c", 'echo "$PATH|$FOO|$HOME|$(pwd)|$(id -u)"',
                          env=["FOO=bar"], working_dir="/tmp/work", user="app")
    assert code == 0
    assert out == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|bar|" \
                  "/home/app|/tmp/work|1000\n"


async def test_entrypoint_override_drops_image_cmd(engine: Engine) -> None:
    code, out = await run(engine, entrypoint=["echo", "from-entrypoint"])
    assert (code, out) == (0, "from-entrypoint\n")


async def test_unknown_user_is_a_clear_error(engine: Engine) -> None:
    container = await engine.containers.create(config("true", user="nobody-here"))
    with pytest.raises(ContainerStartError, match="unable to find user nobody-here"):
        await engine.containers.start(container.id)


# -- isolation, checked from inside ------------------------------------------------

async def test_init_is_pid_1_and_sees_only_its_processes(engine: Engine) -> None:
    code, out = await run(engine, "sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'")
    pid, count = out.split()
    assert code == 0 and pid == "1"
    assert int(count) <= 3  # sh, ls and grep at most


async def test_hostname_is_the_containers_own(engine: Engine) -> None:
    _, out = await run(engine, "hostname", hostname="box")
    assert out == "box\n"
    container = await engine.containers.create(config("hostname"))
    await engine.containers.start(container.id)
    await engine.containers.wait(container.id)
    assert await output(engine, container.id) == container.id[:12] + "\n"


async def test_capabilities_and_no_new_privs(engine: Engine) -> None:
    _, out = await run(engine, "grep", "-E", "^(CapEff|CapBnd|NoNewPrivs)", "/proc/self/status")
    fields = dict(line.split(":\t") for line in out.splitlines())
    expected = mask(DEFAULT_CAPABILITIES)
    assert int(fields["CapEff"], 16) == expected
    assert int(fields["CapBnd"], 16) == expected
    assert fields["NoNewPrivs"].strip() == "1"


async def test_non_root_user_has_no_effective_capabilities(engine: Engine) -> None:
    _, out = await run(engine, "grep", "^CapEff", "/proc/self/status", user="1000:1000")
    assert int(out.split()[1], 16) == 0


async def test_kernel_paths_are_masked_and_read_only(engine: Engine) -> None:
    masked = [p for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug")
              if os.path.exists(p)]
    assert masked, "the host has none of the masked files to compare with"
    script = ("for p in " + " ".join(masked) + "; do wc -c < $p; done; "
              "ls /sys/firmware | wc -l; "
              "(echo 1 > /proc/sys/kernel/panic) 2>/dev/null && echo writable || echo ro; "
              "(echo b > /proc/sysrq-trigger) 2>/dev/null && echo writable || echo ro; "
              "touch /sys/x 2>/dev/null && echo writable || echo ro")
    _code, out = await run(engine, "sh", "-c", script)
    assert out.split() == ["0"] * len(masked) + ["0", "ro", "ro", "ro"]


async def test_network_none_is_loopback_only(engine: Engine) -> None:
    _, out = await run(engine, "sh", "-c", "ls /sys/class/net", network="none")
    assert out.split() == ["lo"]


async def test_dev_has_the_standard_nodes(engine: Engine) -> None:
    _code, out = await run(engine, "sh", "-c",
                          "ls /dev | sort | tr '\\n' ' '; echo; echo x > /dev/null && echo ok; "
                          "head -c 4 /dev/urandom | wc -c; "
                          "mount | grep -E ' /dev/(pts|shm) ' | wc -l")
    names, ok, random_bytes, special = out.splitlines()
    for node in ("null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "fd"):
        assert node in names.split()
    assert (ok, random_bytes.strip(), special.strip()) == ("ok", "4", "2")


async def test_root_filesystem_is_an_overlay_and_image_stays_untouched(engine: Engine) -> None:
    code, out = await run(engine, "sh", "-c",
                          "rm /bin/cat && mount | grep ' on / ' | cut -d' ' -f1,3")
    assert (code, out) == (0, "overlay /\n")
    assert await run(engine, "cat", "/etc/group") != (127, "")


# -- limits, checked by their effect -----------------------------------------------

async def test_memory_limit_oom_kills(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c",
                        "yes abcdefghijklmnopqrstuvwxyz | head -c 300000000 | sort > /dev/null",
                        resources=Resources(memory=32 << 20))
    await engine.containers.wait(cid)
    state = (await engine.containers.get(cid)).state
    assert state.oom_killed
    assert (await engine.containers.inspect(cid)).docker_json()["State"]["OOMKilled"] is True


async def test_pids_limit_stops_forks(engine: Engine) -> None:
    _code, out = await run(engine, "sh", "-c",
                          "for i in $(seq 30); do sleep 2 & done 2>&1; wait",
                          resources=Resources(pids_limit=8))
    assert "can't fork" in out or "Resource temporarily unavailable" in out


async def test_cpu_limit_is_written(engine: Engine) -> None:
    from engine.cgroups import open_cgroup

    cid = await started(engine, "sleep", "30", resources=Resources(nano_cpus=500_000_000))
    limits = open_cgroup(cid, os.environ["SKIFF_CGROUP_PARENT"]).limits()
    assert limits.nano_cpus == 500_000_000
    await engine.containers.kill(cid)


# -- lifecycle ---------------------------------------------------------------------

async def test_stop_uses_the_stop_signal(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c",
                        "trap 'exit 42' TERM; echo ready; while true; do sleep 0.1; done")
    await eventually(lambda: _has_output(engine, cid, "ready"))
    await engine.containers.stop(cid, timeout=10)
    state = (await engine.containers.get(cid)).state
    assert (state.status, state.exit_code) == (Status.EXITED, 42)


async def test_stop_kills_after_the_timeout(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "trap '' TERM; while true; do sleep 0.1; done")
    await engine.containers.stop(cid, timeout=1)
    assert (await engine.containers.get(cid)).state.exit_code == 137


async def test_stopping_a_stopped_container_does_nothing(engine: Engine) -> None:
    """docker's API answers 304 and its CLI exits 0: not an error."""
    await run(engine, "true", name="already-done")
    before = (await engine.containers.get("already-done")).state
    after = (await engine.containers.stop("already-done")).state
    assert after.status is Status.EXITED
    assert after == before
    created = await engine.containers.create(ContainerConfig(image="busybox", image_id=""),
                                  name="never-started")
    assert (await engine.containers.stop(created.id)).state.status is Status.CREATED


async def test_kill_sends_the_signal(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c",
                        "trap 'echo got-usr1; exit 5' USR1; echo ready; "
                        "while true; do sleep 0.1; done")
    await eventually(lambda: _has_output(engine, cid, "ready"))
    await engine.containers.kill(cid, "SIGUSR1")
    assert await engine.containers.wait(cid) == 5
    assert "got-usr1" in await output(engine, cid)


async def test_pause_freezes_and_unpause_thaws(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "while true; do echo tick; sleep 0.05; done")
    await engine.containers.pause(cid)
    assert (await engine.containers.get(cid)).state.status is Status.PAUSED
    with pytest.raises(InvalidState, match="already paused"):
        await engine.containers.pause(cid)
    await asyncio.sleep(0.3)  # what was in the pipe before the freeze reaches the log
    frozen_lines = (await output(engine, cid)).count("tick")
    await asyncio.sleep(0.5)
    assert (await output(engine, cid)).count("tick") == frozen_lines
    await engine.containers.unpause(cid)
    assert (await engine.containers.get(cid)).state.status is Status.RUNNING
    await eventually(lambda: _more_ticks(engine, cid, frozen_lines))
    await engine.containers.remove(cid, force=True)


async def test_remove_running_needs_force_and_leaves_nothing(engine: Engine) -> None:
    cid = await started(engine, "sleep", "100")
    with pytest.raises(Conflict, match="Stop the container"):
        await engine.containers.remove(cid)
    pid = (await engine.containers.get(cid)).state.pid
    await engine.containers.remove(cid, force=True)
    with pytest.raises(ContainerNotFound):
        await engine.containers.get(cid)
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    containers = engine.system.helper_root / "users" / "0" / "containers"
    assert not (containers / cid).exists()
    parent = os.environ["SKIFF_CGROUP_PARENT"]
    assert list(Path("/sys/fs/cgroup").glob(f"*/{parent}/{cid}")) == []

    async def deleted() -> bool:  # its files go after the removal's answer
        return not (containers / f".{cid}.removing").exists()

    await eventually(deleted)


async def test_name_in_use_is_refused(engine: Engine) -> None:
    await engine.containers.create(config("true"), name="twin")
    with pytest.raises(NameInUse, match='"/twin" is already in use'):
        await engine.containers.create(config("true"), name="twin")


async def test_a_generated_name_taken_meanwhile_is_drawn_again(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parallel creates (50 `run -d` at once) can draw the same name: the one that
    comes second draws another instead of failing."""
    await engine.containers.create(config("true"), name="brave_turing")
    from engine.services import containers

    draws = iter(["brave_turing", "calm_hopper"])  # as a parallel create would see it
    monkeypatch.setattr(containers, "generate_name", lambda taken: next(draws))
    made = await engine.containers.create(config("true"))
    assert made.name == "calm_hopper"


async def test_restart_policy_on_failure_counts(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "echo run; exit 1",
                        restart_policy=RestartPolicy("on-failure", 2))
    await eventually(lambda: _exited_with_restarts(engine, cid, 2))
    assert (await output(engine, cid)).count("run") == 3


async def test_restart_policy_always_until_stopped(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "echo run; sleep 0.2",
                        restart_policy=RestartPolicy("always"))
    await eventually(lambda: _restarted(engine, cid, 2))
    await engine.containers.stop(cid, timeout=1)
    await asyncio.sleep(0.5)
    assert (await engine.containers.get(cid)).state.status is Status.EXITED


async def test_logs_follow_across_restarts(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "echo started; sleep 0.3; exit 1",
                        restart_policy=RestartPolicy("on-failure", 2))
    lines = [line.data.decode() async for line in engine.containers.logs(cid, follow=True)]
    assert lines == ["started"] * 3


async def test_restart_runs_it_again(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "echo started; sleep 30")
    await eventually(lambda: _has_output(engine, cid, "started"))
    first = (await engine.containers.get(cid)).state.started_at
    await engine.containers.restart(cid, timeout=0)
    state = (await engine.containers.get(cid)).state
    assert state.status is Status.RUNNING and state.started_at != first
    await eventually(lambda: _count(output(engine, cid), "started", 2))
    await engine.containers.kill(cid)


async def test_diff_lists_added_changed_deleted(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "mkdir /newdir && touch /newdir/f && rm /bin/ls")
    await engine.containers.wait(cid)
    changes = {(c.kind, c.path) for c in await engine.containers.changes(cid)}
    assert {("A", "/newdir"), ("A", "/newdir/f"), ("C", "/bin"), ("D", "/bin/ls")} <= changes


# -- logs ---------------------------------------------------------------------------

async def test_a_flood_of_lines_loses_none(engine: Engine) -> None:
    cid = await started(engine, "seq", "1", "300000")
    await engine.containers.wait(cid)
    count = 0
    last = b""
    async for line in engine.containers.logs(cid):
        count += 1
        last = line.data
    assert (count, last) == (300000, b"300000")


async def test_logs_tail_and_since(engine: Engine) -> None:
    cid = await started(engine, "seq", "1", "10")
    await engine.containers.wait(cid)
    assert [line.data async for line in engine.containers.logs(cid, tail=3)] == [b"8", b"9", b"10"]
    assert [line.data async for line in engine.containers.logs(cid,
                                                               since="2999-01-01T00:00:00Z")] == []


# -- surviving crashes ------------------------------------------------------------------

async def test_containers_survive_the_helper_being_killed(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "sleep 1; echo still-here; exit 7")
    assert engine._shared.helper.pid is not None
    os.kill(engine._shared.helper.pid, signal.SIGKILL)
    assert await engine.containers.wait(cid) == 7
    assert "still-here" in await output(engine, cid)
    # A new helper is started on the next privileged call.
    await engine.containers.start(cid)
    assert await engine.containers.wait(cid) == 7


async def test_inspect_has_dockers_shape(engine: Engine) -> None:
    await run(engine, "true", name="shaped")
    data = (await engine.containers.inspect("shaped")).docker_json()
    for key in ("Id", "Name", "Created", "State", "Config", "HostConfig", "Mounts",
                "NetworkSettings"):
        assert key in data
    assert data["Name"] == "/shaped"
    assert set(data["State"]) >= {"Status", "Running", "Paused", "Pid", "ExitCode",
                                  "OOMKilled", "StartedAt", "FinishedAt", "Error"}
    assert data["State"]["Status"] == "exited"
    assert data["Config"]["Cmd"] == ["true"]


# -- helpers -------------------------------------------------------------------------

async def _count(text, word: str, count: int) -> bool:  # type: ignore[no-untyped-def]
    return (await text).count(word) >= count


async def _has_output(engine: Engine, cid: str, text: str) -> bool:
    return text in await output(engine, cid)


async def _more_ticks(engine: Engine, cid: str, count: int) -> bool:
    return (await output(engine, cid)).count("tick") > count


async def _exited_with_restarts(engine: Engine, cid: str, count: int) -> bool:
    state = (await engine.containers.get(cid)).state
    return state.status is Status.EXITED and state.restart_count == count


async def _restarted(engine: Engine, cid: str, count: int) -> bool:
    return (await engine.containers.get(cid)).state.restart_count >= count


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


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
    async with Engine() as fresh:
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
