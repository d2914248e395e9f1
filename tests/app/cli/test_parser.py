"""Command-line parsing without an engine: flags → config, usage errors, exit codes."""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from app.cli import logstream
from app.cli.createflags import build_config
from app.cli.linewriter import LineWriter
from app.cli.logstream import LogWriter, follow_until_exit, print_logs
from app.cli.main import build_parser, main
from app.cli.options import UsageError
from app.cli.ps import parse_ps_filters
from engine.containers.config import MountSpec, PortBinding, Resources, RestartPolicy
from engine.containers.model import LogLine

IMAGE_ID = "sha256:" + "0" * 64


def parse(*argv: str) -> object:
    return build_parser().parse_args(list(argv))


def test_run_flags_become_a_container_config(tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("FROM_FILE=1\nA=from file\n")
    args = parse("run", "-d", "-it", "--name", "web", "-e", "A=1", "-e", "HOME",
                 "--env-file", str(env_file), "-w", "/srv", "-u", "app", "-h", "boat",
                 "-m", "256m", "--cpus", "1.5", "--pids-limit", "100",
                 "--restart", "on-failure:3", "-p", "8080:80", "-p", "127.0.0.1::53/udp",
                 "-P", "-v", "/srv/data:/data:ro", "--mount", "type=volume,src=vol,dst=/v",
                 "--network", "appnet", "--network-alias", "api", "--ip", "10.1.2.3",
                 "-l", "team=boats",
                 "--stop-signal", "INT", "--stop-timeout", "3", "--entrypoint", "",
                 "--platform", "linux/amd64", "--pull", "never",
                 "busybox", "sh", "-c", "echo -n hi", "--not-a-flag")
    config = build_config(args, IMAGE_ID, {"HOME": "/root"})  # type: ignore[arg-type]
    assert config.image == "busybox"
    assert config.image_id == IMAGE_ID
    assert config.cmd == ["sh", "-c", "echo -n hi", "--not-a-flag"]  # all after IMAGE
    assert config.entrypoint == []  # --entrypoint "" clears the image's
    assert config.env == ["FROM_FILE=1", "A=from file", "A=1", "HOME=/root"]  # -e wins
    assert (config.working_dir, config.user, config.hostname) == ("/srv", "app", "boat")
    assert config.tty and config.open_stdin
    assert config.resources == Resources(memory=256 << 20, nano_cpus=1_500_000_000,
                                         pids_limit=100)
    assert config.restart_policy == RestartPolicy("on-failure", 3)
    assert config.ports == [PortBinding(80, "tcp", "", 8080),
                            PortBinding(53, "udp", "127.0.0.1", 0)]
    assert config.publish_all
    assert config.mounts == [MountSpec("bind", "/data", "/srv/data", True),
                             MountSpec("volume", "/v", "vol", False)]
    assert config.network == "appnet"
    assert config.network_aliases == ["api"]
    assert config.ipv4_address == "10.1.2.3"
    assert config.labels == {"team": "boats"}
    assert (config.stop_signal, config.stop_timeout) == ("SIGINT", 3)
    assert not config.auto_remove


def test_run_defaults() -> None:
    config = build_config(parse("run", "busybox"), IMAGE_ID, {})  # type: ignore[arg-type]
    assert config.cmd is None and config.entrypoint is None
    assert config.network == "default"
    assert config.resources == Resources()
    assert config.restart_policy == RestartPolicy()
    assert config.stop_signal == ""


def test_rm_and_restart_conflict() -> None:
    with pytest.raises(UsageError, match="--restart and --rm"):
        build_config(parse("run", "--rm", "--restart", "always", "busybox"),  # type: ignore[arg-type]
                     IMAGE_ID, {})
    assert build_config(parse("run", "--rm", "busybox"), IMAGE_ID, {}).auto_remove  # type: ignore[arg-type]


def test_pids_limit_unlimited() -> None:
    for value in ("-1", "0"):
        config = build_config(parse("create", "--pids-limit", value, "busybox"),  # type: ignore[arg-type]
                              IMAGE_ID, {})
        assert config.resources.pids_limit is None


def test_ps_filters() -> None:
    assert parse_ps_filters(["status=exited", "name=web", "status=created"]) == {
        "status": ["exited", "created"], "name": ["web"]}
    for bad in ("status", "colour=red", "status=sleeping", "exited=x"):
        with pytest.raises(UsageError):
            parse_ps_filters([bad])


def test_management_aliases_parse_to_the_same_commands() -> None:
    for argv in (["ps"], ["container", "ls"], ["container", "ps"], ["container", "list"]):
        assert parse(*argv)._command.run.__name__ == "cmd_ps"  # type: ignore[attr-defined]
    for argv in (["rmi", "x"], ["image", "rm", "x"], ["image", "remove", "x"]):
        assert parse(*argv)._command.run.__name__ == "cmd_rmi"  # type: ignore[attr-defined]
    assert parse("image", "pull", "x")._command.name == "pull"  # type: ignore[attr-defined]
    assert parse("image", "tags", "x")._command.name == "tags"  # type: ignore[attr-defined]
    assert parse("container", "rm", "-f", "x").force  # type: ignore[attr-defined]


# -- usage errors through main(): no engine is opened for any of these -----------------

@pytest.mark.parametrize(("argv", "status", "first_line"), [
    (["run", "-m", "lots", "busybox"], 125,
     "skiff: invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots' "
     "(use a number with an optional unit b, k, m or g)"),
    (["run", "--restart", "sometimes", "busybox"], 125,
     "skiff: invalid restart policy 'sometimes': use no, on-failure[:N], always or "
     "unless-stopped"),
    (["run", "-p", "http", "busybox"], 125, "skiff: invalid containerPort: 'http' in 'http'"),
    (["create", "--bogus", "busybox"], 125, "skiff: unknown flag: --bogus"),
    (["run", "--stop-timeout", "soon", "busybox"], 125,
     "skiff: argument --stop-timeout: invalid int value: 'soon'"),
    (["run"], 1, '"skiff run" requires at least 1 argument.'),
    (["stop"], 1, '"skiff stop" requires at least 1 argument.'),
    (["tag", "one"], 1, '"skiff tag" requires exactly 2 arguments.'),
    (["ps", "--bogus"], 125, "skiff: unknown flag: --bogus"),
    (["frobnicate"], 1, "skiff: 'frobnicate' is not a skiff command."),
    (["run", "--rm", "--restart", "always", "busybox"], 125,
     "skiff: conflicting options: cannot specify both --restart and --rm"),
])
def test_usage_errors(argv: list[str], status: int, first_line: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == status
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == first_line
    assert lines[1].startswith("See 'skiff")
    assert "Traceback" not in captured.err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("Skiff version ")
    with pytest.raises(SystemExit) as info:
        main(["run", "--help"])
    assert info.value.code == 0
    assert "--hostname" in capsys.readouterr().out
    assert main(["version", "--format", "{{.Client.Os}}"]) == 0
    assert capsys.readouterr().out == "linux\n"


# -- streaming output -------------------------------------------------------------------

def line(data: str, stream: str = "stdout", second: int = 0, partial: bool = False) -> LogLine:
    return LogLine(stream, f"2024-05-01T12:00:{second:02d}.000000000Z", data.encode(), partial)


async def lines_of(*records: LogLine) -> AsyncIterator[LogLine]:
    for record in records:
        yield record


class Sink(io.BytesIO):
    pass


async def test_log_writer_streams_and_timestamps() -> None:
    out, err = Sink(), Sink()
    async with LogWriter(out, err, timestamps=True) as writer:
        await print_logs(writer, lines_of(line("a"), line("b", "stderr", 1),
                                          line("part", second=2, partial=True),
                                          line("ial", second=2)))
    assert out.getvalue() == (b"2024-05-01T12:00:00.000000000Z a\n"
                              b"2024-05-01T12:00:02.000000000Z part"
                              b"2024-05-01T12:00:02.000000000Z ial\n")
    assert err.getvalue() == b"2024-05-01T12:00:01.000000000Z b\n"


async def test_since_and_until_window() -> None:
    out = Sink()
    base = 1_714_564_800 * 10**9
    async with LogWriter(out, Sink()) as writer:
        await print_logs(writer, lines_of(*(line(str(i), second=i) for i in range(6))),
                         since_ns=base + 2 * 10**9, until_ns=base + 4 * 10**9)
    assert out.getvalue() == b"2\n3\n4\n"


def test_line_writer_buffers_a_raw_stream() -> None:
    """Under PYTHONUNBUFFERED sys.stdout.buffer is the raw file: lines still go out a
    buffer at a time (they went out in two writes each), and its descriptor stays open."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    raw = io.FileIO(write_fd, "wb")  # what sys.stdout.buffer is under python -u
    try:
        writer = LineWriter(raw, raw)
        for i in range(3):
            writer.write(line(str(i)))
        with pytest.raises(BlockingIOError):
            os.read(read_fd, 100)
        writer.flush()
        assert os.read(read_fd, 100) == b"0\n1\n2\n"
        del writer
        gc.collect()
        raw.write(b"still open\n")
        assert os.read(read_fd, 100) == b"still open\n"
    finally:
        raw.close()
        os.close(read_fd)


def fake_log(records: list[LogLine], followed: int, release: asyncio.Event
             ) -> Callable[[bool, int | None], AsyncIterator[LogLine]]:
    """A log whose follower delivers ``followed`` lines and then never ends."""

    def open_logs(follow: bool, tail: int | None) -> AsyncIterator[LogLine]:
        async def gen() -> AsyncIterator[LogLine]:
            if not follow:
                for record in records[-tail:] if tail else records:
                    yield record
                return
            for record in records[:followed]:
                yield record
            release.set()
            await asyncio.Event().wait()
        return gen()

    return open_logs


async def follow_fake(records: list[LogLine], followed: int) -> bytes:
    release = asyncio.Event()

    async def wait() -> int:
        await release.wait()
        return 7

    out = Sink()
    async with LogWriter(out, Sink()) as writer:
        assert await follow_until_exit(writer, fake_log(records, followed, release),
                                       wait) == 7
    return out.getvalue()


async def test_follow_until_exit_catches_up_from_the_log_end() -> None:
    """The follower saw two lines when the container exited: the rest is read."""
    records = [line(str(i), second=i) for i in range(5)]
    assert await follow_fake(records, 2) == b"0\n1\n2\n3\n4\n"
    same_time = [line(str(i)) for i in range(5)]  # one timestamp for all
    assert await follow_fake(same_time, 2) == b"0\n1\n2\n3\n4\n"
    assert await follow_fake(records, 0) == b"0\n1\n2\n3\n4\n"
    assert await follow_fake(records, 5) == b"0\n1\n2\n3\n4\n"
    # One instant spelt two ways is one timestamp (lines are compared as written
    # first, parsed only when the text changes)
    respelt = [line("a", second=1), LogLine("stdout", "2024-05-01T12:00:01Z", b"b", False),
               line("c", second=1), line("d", second=2)]
    assert await follow_fake(respelt, 3) == b"a\nb\nc\nd\n"
    assert await follow_fake(respelt, 2) == b"a\nb\nc\nd\n"


async def test_follow_until_exit_when_the_tail_window_is_too_short(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logstream, "CATCH_UP_TAIL", 3)
    records = [line(str(i), second=i) for i in range(10)]
    expected = b"".join(f"{i}\n".encode() for i in range(10))
    assert await follow_fake(records, 3) == expected  # the window starts after line 2
    # A run of equal timestamps that starts before the window: read it all.
    runs = [line("a", second=0)] + [line(f"b{i}", second=1) for i in range(5)]
    assert await follow_fake(runs, 3) == b"a\nb0\nb1\nb2\nb3\nb4\n"


async def test_follow_until_exit_when_following_ends_with_the_container() -> None:
    def open_logs(follow: bool, tail: int | None) -> AsyncIterator[LogLine]:
        return lines_of(line("only"))

    async def wait() -> int:
        await asyncio.sleep(0.01)  # the follower ends first here
        return 0

    out = Sink()
    async with LogWriter(out, Sink()) as writer:
        assert await follow_until_exit(writer, open_logs, wait) == 0
    assert out.getvalue() == b"only\n"


def test_only_the_named_command_is_built() -> None:
    def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        action = next(a for a in parser._actions
                      if isinstance(a, argparse._SubParsersAction))
        return dict(action.choices)

    def choices(parser: argparse.ArgumentParser) -> set[str]:
        return set(subparsers(parser))

    assert choices(build_parser(["ps", "-a"])) == {"ps"}
    assert choices(build_parser(["container", "rm", "x"])) == {"container"}
    group = subparsers(build_parser(["container", "rm", "x"]))["container"]
    assert choices(group) == {"rm", "remove"}
    everything = choices(build_parser(["frobnicate"]))
    assert {"run", "ps", "container", "image", "volume", "network"} <= everything
    assert build_parser(["ps", "-a"]).parse_args(["ps", "-a"]).all
