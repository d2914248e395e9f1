"""Records older versions wrote (records/*.sql, made by records/write.py with that
version's own code) are read by today's engine as typed specs the helper accepts,
and a container of the oldest one still starts."""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from engine import ContainerConfig, Engine
from engine.containers.store import ContainerStore
from engine.containers.storedspec import read_spec
from engine.db import Database
from engine.errors import DamagedState
from engine.wire.containerspec import ContainerSpec, MountSpec
from engine.wire.protocol import validate
from engine.wire.requests import ContainerCreate

RECORDS = Path(__file__).with_name("records")
OLDEST = RECORDS / "62fba72.sql"
# the network each version asked for: the first ones had none (or the host's)
NETWORK = {"62fba72": "none", "f3b31e5": "none", "4847d74": "default", "351556c": "default"}


def _row(script: Path) -> sqlite3.Row:
    """The container row the old version wrote."""
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.executescript(script.read_text())
    row = conn.execute("SELECT * FROM containers").fetchone()
    conn.close()
    return row


def _database(script: Path, where: Path) -> Database:
    """A database as the old version left it, opened by today's engine."""
    with sqlite3.connect(where / "skiff.db") as conn:
        conn.executescript(script.read_text())
    conn.close()
    return Database(where / "skiff.db")


@pytest.mark.parametrize("script", sorted(RECORDS.glob("*.sql")), ids=lambda p: p.stem)
def test_an_old_record_reads_as_today_s_spec(script: Path, tmp_path: Path) -> None:
    store = ContainerStore(_database(script, tmp_path))
    record = store.find("oldrecord")
    spec = record.spec
    assert isinstance(spec, ContainerSpec)
    assert (spec.args, spec.env[-1], spec.cwd, spec.name) == (
        ["sh", "-c", "echo old record"], "GREETING=hello", "/", "oldrecord")
    assert (spec.memory, spec.restart_policy, spec.restart_max, spec.stop_signal) == (
        64 << 20, "on-failure", 3, 15)
    assert spec.network_mode == NETWORK[script.stem]
    assert spec.binds[0] == MountSpec(type=spec.binds[0].type, source="/srv/site",
                                      target="/site", read_only=True)
    assert spec.binds[0].kind == "bind"
    assert record.config.mounts[0].source == "/srv/site"
    # as the helper will check it when the engine sends it again
    request = ContainerCreate(id=record.id, spec=spec)
    assert validate("container_create", request.to_args())["spec"]["name"] == "oldrecord"


def test_an_old_record_is_saved_again_in_today_s_shape(tmp_path: Path) -> None:
    store = ContainerStore(_database(OLDEST, tmp_path))
    record = store.find("oldrecord")
    store.update(record.id, record.config, record.spec)
    saved = json.loads(store.db.conn.execute("SELECT spec FROM containers").fetchone()[0])
    assert "network" not in saved and saved["network_mode"] == "none"
    assert saved == record.spec.to_json() == store.find(record.id).spec.to_json()


def test_a_renamed_container_s_spec_has_its_new_name(tmp_path: Path) -> None:
    store = ContainerStore(_database(OLDEST, tmp_path))
    record = store.find("oldrecord")
    store.rename(record.id, "newname")
    assert store.find("newname").spec == replace(record.spec, name="newname")
    with store.db.transaction() as conn:  # damaged: the name changes all the same
        conn.execute("UPDATE containers SET spec = '[]'")
    store.rename(record.id, "third")
    assert store.find("third").name == "third"


@pytest.mark.parametrize(("text", "why"), [
    ("{not json", "its spec is not a JSON object"),
    ("[]", "its spec is not a JSON object"),
    ('{"args": ["true"]}', "spec: missing field 'env'"),
    (json.dumps({**json.loads(_row(OLDEST)["spec"]), "stop_signal": 99}),
     "spec.stop_signal: must be at most 64"),
])
def test_a_spec_it_cannot_read_is_damaged_state_in_one_sentence(text: str, why: str) -> None:
    with pytest.raises(DamagedState) as caught:
        read_spec(text, "web")
    assert str(caught.value) == (f"the record of container web cannot be read ({why}): "
                                 "remove it (skiff rm -f web) and create it again")


@pytest.mark.root
async def test_a_container_of_the_oldest_record_still_starts(engine: Engine,
                                                             tmp_path: Path) -> None:
    """The record as 62fba72 wrote it; only the image it names (its ID and layer), its
    bind's host directory and its command (to show both) are this run's."""
    image = await engine.images.get("busybox:latest")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("old site\n")
    row = _row(OLDEST)
    cid = secrets.token_hex(32)
    spec_json = json.loads(row["spec"])
    spec_json["layers"] = [layer.diff_id for layer in image.layers]
    spec_json["binds"][0]["source"] = str(tmp_path / "site")
    spec_json["args"] = ["sh", "-c", "echo old record; cat /site/index.html; hostname"]
    config_json = json.loads(row["config"])
    config_json["image_id"] = image.id
    db = Database(engine.system.root / "skiff.db")
    with db.transaction() as conn:
        conn.execute("INSERT INTO containers (id, name, created, config, image_id, spec) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (cid, f"oldrecord-{cid[:8]}", row["created"], json.dumps(config_json),
                      image.id, json.dumps(spec_json)))
    db.close()
    await engine.containers.start(cid)
    assert await engine.containers.wait(cid) == 0
    lines = [line.data async for line in engine.containers.logs(cid)]
    assert lines == [b"old record", b"old site", b"5c0f00000000"]


@pytest.mark.root
async def test_a_damaged_record_is_listed_said_so_stopped_and_removed(engine: Engine) -> None:
    """What DamagedState's sentence advises works: ps still lists the container,
    inspect says what is wrong in one sentence, stop and rm -f need no spec."""
    container = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["sleep", "600"], network="none"))
    await engine.containers.start(container.id)
    db = Database(engine.system.root / "skiff.db")
    with db.transaction() as conn:
        conn.execute("UPDATE containers SET spec = '{\"args\": 7}' WHERE id = ?",
                     (container.id,))
    db.close()
    assert container.id in {c.id for c in await engine.containers.list()}
    with pytest.raises(DamagedState) as caught:
        await engine.containers.inspect(container.id)
    name = container.name
    assert str(caught.value) == (
        f"the record of container {name} cannot be read (spec.args: expected a list of at "
        f"most 4096 items): remove it (skiff rm -f {name}) and create it again")
    stopped = await engine.containers.stop(container.id, timeout=1)
    assert not stopped.state.running
    await engine.containers.remove(container.id, force=True)
    assert container.id not in {c.id for c in await engine.containers.list(all=True)}
