"""Real containers from the busybox image, checked from inside and outside.

Isolation is checked by probes run in the container; limits by their effect.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, MountSpec, Resources, RestartPolicy
from engine.containers.state import Status
from engine.errors import (
    Conflict,
    ContainerNotFound,
    ContainerStartError,
    InvalidState,
    NameInUse,
)
from engine.helper.runtime.capabilities import DEFAULT_CAPABILITIES, mask
from tests.engine.services.containerprobes import config, eventually, output, run, started

pytestmark = pytest.mark.root


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
    _, out = await run(engine, "sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/flags; "
                       "cat /etc/hostname; grep -c localhost /etc/hosts", network="none",
                       hostname="alone")
    names, flags, hostname, hosts = out.splitlines()
    assert names.split() == ["lo"]
    assert int(flags, 16) & 1  # IFF_UP
    assert hostname == "alone" and int(hosts) >= 1


async def test_network_none_is_a_namespace_of_its_own_every_run(engine: Engine) -> None:
    cid = await started(engine, "sleep", "300", network="none")
    host = os.stat("/proc/self/ns/net").st_ino
    try:
        for run_number in (1, 2):
            pid = (await engine.containers.get(cid)).state.pid
            assert os.stat(f"/proc/{pid}/ns/net").st_ino != host
            assert os.listdir(f"/proc/{pid}/root/sys/class/net") == ["lo"]
            details = await engine.containers.inspect(cid)
            assert list(details.network.networks) == ["none"]
            if run_number == 1:
                await engine.containers.stop(cid, timeout=0)
                await engine.containers.start(cid)
    finally:
        await engine.containers.remove(cid, force=True)



async def test_an_auto_removed_container_s_root_is_volatile_run_after_run(
        engine: Engine) -> None:
    """--rm (AutoRemove), as podman mounts it: syncs of its root filesystem are skipped,
    its teardown syncs nothing; the mark a volatile mount leaves does not stop the
    next start (an exited --rm container waits a few seconds for its client)."""
    script = "grep -c ' / .*volatile' /proc/self/mountinfo"
    container = await engine.containers.create(config("sh", "-c", script, auto_remove=True))
    for run_number in (1, 2):
        await engine.containers.start(container.id)
        assert await engine.containers.wait(container.id) == 0
        assert await output(engine, container.id) == "1\n" * run_number
    code, out = await run(engine, "sh", "-c", script)
    assert (code, out) == (1, "0\n")  # kept: its root survives a crash as before

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


async def test_a_restart_policy_set_while_it_runs_counts_at_its_end(engine: Engine,
                                                                     tmp_path: Path) -> None:
    """Started without a policy (its monitor then ends it in place, without a child),
    updated to on-failure while it runs: it restarts all the same."""
    gate = tmp_path / "gate"
    gate.mkdir()
    cid = await started(engine, "sh", "-c", "echo run; while [ ! -e /gate/go ]; do sleep 0.05; "
                        "done; exit 1", mounts=[MountSpec("bind", "/gate", str(gate))])
    await eventually(lambda: _has_output(engine, cid, "run"))
    await engine.containers.update(cid, restart_policy=RestartPolicy("on-failure", 1))
    (gate / "go").touch()
    await eventually(lambda: _exited_with_restarts(engine, cid, 1))
    assert (await output(engine, cid)).count("run") == 2


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
