"""seccomp in real containers: Docker's default profile, unconfined, a user's own.

Checked from inside: /proc/self/status, and a probe (tests/seccomp_probe.py)
that tries the syscalls the profile decides on, in the container's init and
in exec'd processes, as root and as a non-root user.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, MountSpec
from engine.errors import InvalidArgument
from tests.seccomp_probe import build_probe

pytestmark = pytest.mark.root

REFUSED = "errno 1"  # EPERM: the default profile's answer


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("probe")
    if build_probe(directory) is None:
        pytest.skip("no C compiler (gcc) to build the syscall probe")
    return directory


def config(*cmd: str, probe: Path | None = None, **options: object) -> ContainerConfig:
    if probe is not None:
        options["mounts"] = [MountSpec("bind", "/probe", str(probe), read_only=True)]
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd),
                           **options)  # type: ignore[arg-type]


async def run(engine: Engine, *cmd: str, **options: object) -> tuple[int, str]:
    container = await engine.containers.create(config(*cmd, **options))  # type: ignore[arg-type]
    await engine.containers.start(container.id)
    code = await engine.containers.wait(container.id)
    out = "".join([line.data.decode() + ("" if line.partial else "\n")
                   async for line in engine.containers.logs(container.id)])
    return code, out


def probes(*calls: str) -> str:
    return "; ".join(f"echo {call}: $(/probe/probe {call})" for call in calls)


def answers(out: str) -> dict[str, str]:
    """"Seccomp:\t2" and "keyctl: errno 1" lines as {"Seccomp": "2", "keyctl": "errno 1"}."""
    return {key: value.strip() for key, sep, value in
            (line.partition(":") for line in out.splitlines()) if sep}


async def exec_output(engine: Engine, cid: str, *cmd: str, user: str = "") -> str:
    session = await engine.containers.exec(cid, list(cmd), user=user)
    out = b""
    while True:
        stream, data = await asyncio.wait_for(session.read(), 30)
        if not data:
            break
        if stream == "stdout":
            out += data
    await session.wait()
    session.close()
    return out.decode()


DEFAULT_ANSWERS = {"keyctl": REFUSED, "io_uring_setup": REFUSED, "personality": REFUSED,
                   "personality-query": "ok", "clone3": "errno 38", "userns": REFUSED,
                   "getpid": "ok"}


async def test_default_profile_in_the_container(engine: Engine, probe_dir: Path) -> None:
    script = ("grep '^Seccomp:' /proc/self/status; "
              "unshare -U -r true 2>/dev/null && echo unshare: allowed || echo unshare: refused; "
              + probes(*DEFAULT_ANSWERS))
    code, out = await run(engine, "sh", "-c", script, probe=probe_dir)
    assert code == 0, out
    found = answers(out)
    assert found.pop("Seccomp") == "2"
    assert found.pop("unshare") == "refused"
    assert found == DEFAULT_ANSWERS


async def test_default_profile_for_a_non_root_user(engine: Engine, probe_dir: Path) -> None:
    script = "grep '^Seccomp:' /proc/self/status; " + probes("userns", "keyctl", "getpid")
    _, out = await run(engine, "sh", "-c", script, probe=probe_dir, user="1000:1000")
    assert answers(out) == {"Seccomp": "2", "userns": REFUSED, "keyctl": REFUSED,
                            "getpid": "ok"}


async def test_exec_gets_the_filter_too(engine: Engine, probe_dir: Path) -> None:
    container = await engine.containers.create(config("sleep", "60", probe=probe_dir))
    await engine.containers.start(container.id)
    for user in ("", "app"):
        out = await exec_output(engine, container.id, "sh", "-c",
                                "grep '^Seccomp:' /proc/self/status; " + probes("userns"),
                                user=user)
        assert answers(out) == {"Seccomp": "2", "userns": REFUSED}, user


async def test_ordinary_workloads_still_work(engine: Engine) -> None:
    script = ("mkdir -p /www && echo served > /www/index.html && "
              "httpd -p 127.0.0.1:8080 -h /www && "
              "wget -q -O - http://127.0.0.1:8080/index.html && "
              "ping -c 1 -W 5 127.0.0.1 >/dev/null && echo pinged && "
              "(sleep 0.1 &) && wait && echo forked")
    code, out = await run(engine, "sh", "-c", script, network="none")
    assert (code, out) == (0, "served\npinged\nforked\n")


async def test_unconfined(engine: Engine, probe_dir: Path) -> None:
    script = "grep '^Seccomp:' /proc/self/status; " + probes("personality", "clone3")
    _, out = await run(engine, "sh", "-c", script, probe=probe_dir,
                       security_opt=["seccomp=unconfined"])
    assert answers(out) == {"Seccomp": "0", "personality": "ok", "clone3": "errno 22"}
    container = await engine.containers.create(config("sleep", "60",
                                                      security_opt=["seccomp=unconfined"]))
    await engine.containers.start(container.id)
    out = await exec_output(engine, container.id, "grep", "^Seccomp:", "/proc/self/status")
    assert out == "Seccomp:\t0\n"
    inspected = (await engine.containers.inspect(container.id)).docker_json()
    assert inspected["HostConfig"]["SecurityOpt"] == ["seccomp=unconfined"]


async def test_a_profile_from_a_file(engine: Engine, tmp_path: Path, probe_dir: Path) -> None:
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                             "errnoRet": 13}]}
    path = tmp_path / "no-mkdir.json"
    path.write_text(json.dumps(profile, indent=2))
    script = ("grep '^Seccomp:' /proc/self/status; mkdir /made 2>&1; " + probes("userns"))
    _code, out = await run(engine, "sh", "-c", script, probe=probe_dir,
                          security_opt=[f"seccomp={path}"])
    lines = out.splitlines()
    assert lines[0] == "Seccomp:\t2"
    assert "Permission denied" in lines[1]  # errno 13 from the profile
    assert answers(out)["userns"] == "ok"  # everything not listed is allowed
    containers = await engine.containers.list(all=True)
    stored = next(c for c in containers if c.config.security_opt)
    assert stored.config.security_opt == ["seccomp=" + json.dumps(profile,
                                                                  separators=(",", ":"))]


async def test_default_profile_shows_no_security_opt(engine: Engine) -> None:
    container = await engine.containers.create(config("true"))
    details = await engine.containers.inspect(container.id)
    assert details.docker_json()["HostConfig"]["SecurityOpt"] is None


async def test_a_bad_profile_is_refused_at_create(engine: Engine) -> None:
    before = {c.id for c in await engine.containers.list(all=True)}
    bad = '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], ' \
          '"action": "SCMP_ACT_ALOW"}]}'
    with pytest.raises(InvalidArgument) as info:
        await engine.containers.create(config("true", security_opt=[f"seccomp={bad}"]))
    message = str(info.value)
    assert "\n" not in message
    assert "syscalls[0].action" in message and "SCMP_ACT_ALOW" in message
    assert {c.id for c in await engine.containers.list(all=True)} == before
    with pytest.raises(InvalidArgument, match="opening seccomp profile"):
        await engine.containers.create(config("true",
                                              security_opt=["seccomp=/no/such/profile.json"]))
