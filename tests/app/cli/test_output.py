"""docker's output formats: sizes, durations, statuses, tables, --format, progress."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

import pytest

from app.cli.images import image_rows
from app.cli.output import (
    Formatter,
    created_at,
    ellipsis,
    format_ports,
    inspect_template,
    since,
    tabulate,
)
from app.cli.progress import ProgressBoard
from app.cli.ps import container_row, effective_command
from app.cli.registry import pull_header, search_row
from app.cli.stats import stats_row
from app.cli.system import event_line, event_record
from engine.containers.config import ContainerConfig, MountSpec
from engine.containers.model import Container, Event, Stats
from engine.containers.state import ContainerState, Status
from engine.images.model import Image
from engine.registry.model import PullProgress, SearchResult
from engine.registry.progresstext import layer_id, progress_bar
from engine.timestamps import format_rfc3339

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()


def ago(seconds: float) -> str:
    """An RFC 3339 time ``seconds`` before NOW."""
    return format_rfc3339(int((NOW - seconds) * 1e9))


def test_since() -> None:
    stamp = "2024-05-01T11:58:00.123456789Z"
    assert since(stamp, NOW) == "About a minute ago"  # 119.9 s
    assert since("", NOW) == ""


def test_created_at_in_local_time_as_go_prints_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")  # no tz database needed
    time.tzset()
    try:
        assert created_at("2024-01-02T03:04:05.999999999Z") == "2024-01-02 04:04:05 +0100 CET"
        assert created_at("2024-07-02T03:04:05Z") == "2024-07-02 05:04:05 +0200 CEST"
        assert created_at("not a time") == ""
    finally:
        monkeypatch.undo()
        time.tzset()


def test_ellipsis() -> None:
    assert ellipsis("sh -c 'echo started; sleep 1'", 20) == "sh -c 'echo started…"
    assert len(ellipsis("x" * 50, 20)) == 20
    assert ellipsis("short", 20) == "short"


def test_format_ports() -> None:
    ports = {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"},
                        {"HostIp": "::", "HostPort": "8080"}],
             "443/tcp": None, "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}]}
    assert format_ports(ports) == ("127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp, "
                                   "[::]:8080->80/tcp, 443/tcp")
    assert format_ports({}) == ""


def test_tabulate_like_go_tabwriter() -> None:
    lines = tabulate(["CONTAINER ID\tIMAGE\tNAMES", "abc\tbusybox:latest\tweb"])
    assert lines == ["CONTAINER ID   IMAGE            NAMES",
                     "abc            busybox:latest   web"]
    assert tabulate(["A\tB", "x\ty"]) == ["A         B", "x         y"]  # minimum width 10


def test_formatter_table_quiet_and_json() -> None:
    headers = {"ID": "CONTAINER ID", "Names": "NAMES"}
    rows = [{"ID": "0123456789ab", "Names": "web"}, {"ID": "ba9876543210", "Names": "db"}]
    table = Formatter("table {{.ID}}\\t{{.Names}}", headers).render(rows)
    assert table == ["CONTAINER ID   NAMES", "0123456789ab   web", "ba9876543210   db"]
    plain = Formatter("{{.ID}}\\t{{.Names}}", headers).render(rows)
    assert plain == ["0123456789ab\tweb", "ba9876543210\tdb"]  # no table: tabs as given
    assert Formatter("{{json .}}", headers).render(rows[:1]) == \
        ['{"ID":"0123456789ab","Names":"web"}']
    assert Formatter("json", headers).render(rows[:1]) == \
        ['{"ID":"0123456789ab","Names":"web"}']  # docker's `--format json`
    template = inspect_template("json")
    assert template is not None and template.render({"Id": "x"}) == '{"Id":"x"}'
    assert inspect_template(None) is None and inspect_template("") is None
    out = io.StringIO()
    Formatter("{{.Names}}", headers).write(rows, out)
    assert out.getvalue() == "web\ndb\n"


def make_container(**config: object) -> Container:
    options: dict[str, object] = {"image": "busybox", "image_id": "sha256:" + "1" * 64}
    options.update(config)
    return Container(id="ab" * 32, name="web", created=ago(120),
                     config=ContainerConfig(**options),  # type: ignore[arg-type]
                     state=ContainerState(status=Status.RUNNING, started_at=ago(30)))


def test_effective_command_combines_image_and_overrides() -> None:
    image = {"Entrypoint": ["/entry"], "Cmd": ["serve", "--port", "80"]}
    assert effective_command(ContainerConfig("i", "x"), image) == ["/entry", "serve",
                                                                    "--port", "80"]
    assert effective_command(ContainerConfig("i", "x", cmd=["run"]), image) == ["/entry",
                                                                                 "run"]
    assert effective_command(ContainerConfig("i", "x", entrypoint=["sh"]), image) == ["sh"]
    assert effective_command(ContainerConfig("i", "x", entrypoint=[], cmd=["ls"]), image) == \
        ["ls"]


def test_container_row_fields() -> None:
    container = make_container(cmd=["sh", "-c", "echo started; sleep 300"],
                               labels={"b": "2", "a": "1"},
                               mounts=[MountSpec("volume", "/data", "vol1")])
    row = container_row(container, {"Cmd": ["sh"]}, {"80/tcp": [{"HostIp": "0.0.0.0",
                                                                 "HostPort": "8080"}]},
                        now=NOW)
    assert row["ID"] == "abababababab"
    assert row["Command"] == '"sh -c echo started;…"'
    assert row["RunningFor"] == "2 minutes ago"
    assert row["Status"] == "Up 30 seconds"
    assert row["State"] == "running"
    assert row["Ports"] == "0.0.0.0:8080->80/tcp"
    assert row["Labels"] == "a=1,b=2"
    assert row["Mounts"] == "vol1"
    assert row["LocalVolumes"] == "1"
    assert row["Names"] == "web"
    full = container_row(container, {}, None, trunc=False, now=NOW)
    assert full["ID"] == "ab" * 32
    assert full["Command"] == '"sh -c echo started; sleep 300"'


def test_image_rows_one_per_tag_newest_first() -> None:
    old = Image(id="sha256:" + "a" * 64, repo_tags=["docker.io/library/busybox:latest",
                                                    "docker.io/library/busybox:1.36"],
                repo_digests=["docker.io/library/busybox@sha256:" + "d" * 64],
                created=ago(3 * 86400), size=4_261_234)
    new = Image(id="sha256:" + "b" * 64, created=ago(60), size=1200)
    rows = image_rows([old, new], now=NOW)
    assert [(r["Repository"], r["Tag"], r["ID"]) for r in rows] == [
        ("<none>", "<none>", "b" * 12), ("busybox", "latest", "a" * 12),
        ("busybox", "1.36", "a" * 12)]
    assert rows[1]["Size"] == "4.26MB"
    assert rows[1]["CreatedSince"] == "3 days ago"
    assert rows[1]["Digest"] == "sha256:" + "d" * 64
    assert rows[0]["Digest"] == "<none>"
    assert image_rows([old], trunc=False, now=NOW)[0]["ID"] == old.id


def test_stats_row() -> None:
    sample = Stats(id="c" * 64, name="web", time_ns=0, cpu_percent=99.5,
                   memory_usage=1536 * 1024, memory_limit=2 * 1024**3, net_rx=1200,
                   net_tx=0, block_read=4_000_000, block_write=0, pids=3)
    row = stats_row(sample)
    assert row == {"Container": "c" * 12, "ID": "c" * 12, "Name": "web", "CPUPerc": "99.50%",
                   "MemUsage": "1.5MiB / 2GiB", "MemPerc": "0.07%", "NetIO": "1.2kB / 0B",
                   "BlockIO": "4MB / 0B", "PIDs": "3"}


def test_search_row() -> None:
    result = SearchResult("busybox", "Busybox base image.\nSmall " + "x" * 60, 3000, True)
    row = search_row(result)
    assert row["Description"].endswith("…") and len(row["Description"]) == 45
    assert "\n" not in row["Description"]
    assert (row["StarCount"], row["IsOfficial"]) == ("3000", "[OK]")
    assert search_row(SearchResult("u/app"))["IsOfficial"] == ""


def test_events_as_docker_prints_them() -> None:
    event = Event("container", "start", "f" * 64, 1_714_564_800_000_000_001,
                  {"name": "web", "image": "busybox"})
    line = event_line(event)
    assert line.endswith(f" container start {'f' * 64} (image=busybox, name=web)")
    assert ".000000001" in line
    record = event_record(event)
    assert record["Actor"] == {"ID": "f" * 64, "Attributes": {"name": "web",
                                                               "image": "busybox"}}
    assert (record["status"], record["from"], record["timeNano"]) == (
        "start", "busybox", 1_714_564_800_000_000_001)


# -- pull progress ------------------------------------------------------------------------

def test_pull_header() -> None:
    assert pull_header("busybox") == ["Using default tag: latest",
                                      "latest: Pulling from library/busybox"]
    assert pull_header("127.0.0.1:5000/x/y:tag") == ["tag: Pulling from x/y"]
    assert pull_header("user/app:1") == ["1: Pulling from user/app"]


def test_progress_bar() -> None:
    assert layer_id("sha256:" + "0123456789abcdef" * 4) == "0123456789ab"
    bar = progress_bar(1_200_000, 4_300_000)
    assert bar.startswith("[" + "=" * 13 + ">" + " " * 37 + "] ")
    assert bar.endswith("   1.2MB/4.3MB")
    assert progress_bar(5, 5).startswith("[" + "=" * 50 + ">]")
    assert progress_bar(2048, 0) == "2.048kB"


def test_progress_plain_lines_when_not_a_tty() -> None:
    out = io.StringIO()
    board = ProgressBoard(out, tty=False)
    layer = "sha256:" + "ab" * 32
    for event in [PullProgress(layer, "waiting"), PullProgress(layer, "downloading", 1, 10),
                  PullProgress(layer, "downloading", 5, 10), PullProgress(layer, "verifying"),
                  PullProgress(layer, "extracting", 10, 10), PullProgress(layer, "done")]:
        board(event)
    assert out.getvalue().splitlines() == [
        "abababababab: Waiting", "abababababab: Downloading",
        "abababababab: Verifying Checksum", "abababababab: Extracting",
        "abababababab: Pull complete"]


def test_progress_redraws_in_place_on_a_tty() -> None:
    out = io.StringIO()
    board = ProgressBoard(out, tty=True)
    first, second = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    board(PullProgress(first, "waiting"))
    board(PullProgress(second, "exists"))
    board(PullProgress(first, "downloading", 5, 10))
    text = out.getvalue()
    assert text.startswith("111111111111: Waiting\n222222222222: Already exists\n")
    # Two lines up, clear the line, the new text, two lines down again.
    assert text.endswith("\x1b[2A\r\x1b[2K111111111111: Downloading "
                         + progress_bar(5, 10) + "\r\x1b[2B")
