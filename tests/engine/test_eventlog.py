"""The event journal: every transition reaches every follower, and --since/--until
replay a bounded history that survives restarts (issue 12, item 8)."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path

import pytest

from engine import eventlog
from engine.eventlog import JournalTail, append_event, read_events
from tests.fixtures.cli import COMMAND
from tests.fixtures.cli import skiff as _cli

REPO = Path(__file__).resolve().parents[2]


def test_append_read_and_rotate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = tmp_path / "events.log"
    tail = JournalTail(journal)  # made before the file exists
    monkeypatch.setattr(eventlog, "MAX_BYTES", 2000)
    seen: list[str] = []
    for n in range(60):
        append_event(journal, "container", "start", f"c{n}", {"name": f"web-{n}"},
                     time_ns=1000 + n)
        if n % 7 == 0:  # a follower reads when woken, a few events at a time
            seen += [r["id"] for r in tail.read()]
    seen += [r["id"] for r in tail.read()]
    rotated = journal.with_name("events.log.1")
    assert rotated.exists() and journal.stat().st_size <= 2200
    assert seen == [f"c{n}" for n in range(60)]  # across rotations, in order
    kept = list(read_events(journal))
    assert kept and kept[-1]["id"] == "c59" and len(kept) < 60  # bounded
    assert [r["id"] for r in read_events(journal, since_ns=1055, until_ns=1057)] == [
        "c55", "c56", "c57"]
    with open(journal, "ab") as f:
        f.write(b'{"torn": \n')  # a damaged line: skipped, the others count
    append_event(journal, "image", "pull", "busybox")
    assert [r["action"] for r in tail.read()] == ["pull"]
    tail.close()


def _events(since: float, until: float, *filters: str) -> list[tuple[str, str, str]]:
    done = _cli("events", "--since", f"{since:.3f}", "--until", f"{until:.3f}",
                "--format", "{{json .}}", *filters)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    return [(r["Type"], r["Action"], r["Actor"]["Attributes"].get("name", r["Actor"]["ID"]))
            for r in rows]


def _named(kind: str, action: str, ident: str, name: str = "<no value>") -> str:
    """docker names volumes by their ID only: no name attribute."""
    return f"{kind} {action} {ident if name == '<no value>' else name}"


@pytest.mark.root
def test_run_rm_and_rm_f_are_told_in_full_and_replayed(busybox_image: str,
                                                       skiff_root: Path) -> None:
    since = time.time()
    follower = subprocess.Popen([*COMMAND, "events", "--format",
                                 "{{.Type}} {{.Action}} {{.Actor.ID}} "
                                 "{{.Actor.Attributes.name}}"],
                                cwd=REPO, stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout or ()],
                              daemon=True)
    reader.start()
    seen: list[str] = []

    def told(timeout: float, *words: str) -> bool:
        """Whether the follower prints a line with all ``words`` within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not any(all(word in line for word in words) for line in seen):
            try:
                seen.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                return False
        return True

    try:
        # The follower is listening once it tells a marker's events (made again until
        # it does: one made before it opened the journals is not news to it).
        for _attempt in range(60):
            _cli("volume", "create", "eventlog-ready")
            _cli("volume", "rm", "eventlog-ready")
            if told(1.0, "eventlog-ready"):
                break
        else:
            raise AssertionError("the follower never told an event")
        assert _cli("run", "--rm", "--name", "journal-rm", busybox_image, "sh", "-c",
                    "exit 3").returncode == 3
        assert _cli("run", "-d", "--name", "journal-d", busybox_image, "sleep",
                    "60").returncode == 0
        assert _cli("rm", "-f", "journal-d").returncode == 0
        assert _cli("network", "create", "journal-net").returncode == 0
        assert _cli("network", "rm", "journal-net").returncode == 0
        assert _cli("volume", "create", "journal-vol").returncode == 0
        assert _cli("volume", "rm", "journal-vol").returncode == 0
        assert _cli("tag", busybox_image, "journal/tagged:1").returncode == 0
        assert _cli("rmi", "journal/tagged:1").returncode == 0
        told(30, "image untag", "journal/tagged:1")  # the last: then all were told
    finally:
        follower.terminate()
        follower.wait(timeout=30)
        reader.join(timeout=30)
    while not lines.empty():
        seen.append(lines.get())
    out = "".join(seen)
    until = time.time()
    lived = [_named(*line.rstrip("\n").split(" ", 3)) for line in seen if "journal" in line]
    wanted = ["container create journal-rm", "container start journal-rm",
              "container die journal-rm", "container destroy journal-rm",
              "container create journal-d", "container start journal-d",
              "container kill journal-d", "container die journal-d",
              "container destroy journal-d", "network create journal-net",
              "network destroy journal-net", "volume create journal-vol",
              "volume destroy journal-vol", "image tag journal/tagged:1",
              "image untag journal/tagged:1"]
    assert [line for line in lived if line in wanted] == wanted, out
    # The same history, replayed later by --since and ended by --until.
    replayed = [" ".join(e) for e in _events(since, until) if "journal" in e[2]]
    assert [line for line in replayed if line in wanted] == wanted
    assert _events(since, until, "--filter", "event=die", "--filter",
                   "container=journal-rm") == [("container", "die", "journal-rm")]
    died = json.loads(_cli("events", "--since", f"{since:.3f}", "--until", f"{until:.3f}",
                           "--filter", "event=die", "--format", "{{json .}}").stdout
                      .splitlines()[0])
    assert died["Actor"]["Attributes"]["exitCode"] == "3"
    assert died["Actor"]["Attributes"]["image"] == busybox_image


@pytest.mark.root
def test_since_a_duration_ago_replays_and_until_ends(busybox_image: str) -> None:
    assert _cli("create", "--name", "journal-since", busybox_image, "true").returncode == 0
    try:
        started = time.monotonic()
        done = _cli("events", "--since", "2m", "--until", "0s")
        assert done.returncode == 0 and time.monotonic() - started < 20
        assert any("create" in line and "journal-since" in line
                   for line in done.stdout.splitlines()), done.stdout
    finally:
        _cli("rm", "-f", "journal-since")
