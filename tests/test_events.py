"""Events found by comparing snapshots (pure: no engine needed)."""

from __future__ import annotations

from engine.events import diff_snapshots

CID = "c" * 64


def actions(before: dict[str, tuple[str, ...]], after: dict[str, tuple[str, ...]]) -> list[str]:
    return [f"{e.type}:{e.action}" for e in diff_snapshots(before, after)]


def state(status: str, started: str = "t1", restarts: str = "0", code: str = "0"
          ) -> dict[str, tuple[str, ...]]:
    return {f"container:{CID}": ("web", status, started, restarts, code)}


def test_lifecycle() -> None:
    assert actions({}, state("created", "")) == ["container:create"]
    assert actions(state("created", ""), state("running")) == ["container:start"]
    assert actions(state("running"), state("paused")) == ["container:pause"]
    assert actions(state("paused"), state("running")) == ["container:unpause"]
    assert actions(state("running"), state("exited", code="3")) == ["container:die"]
    assert actions(state("exited"), {}) == ["container:destroy"]


def test_a_restart_between_two_looks_is_not_missed() -> None:
    # Exited and started again (by its policy) between two snapshots.
    assert actions(state("running", "t1"), state("running", "t2", "1")) == [
        "container:die", "container:start"]
    assert actions(state("running", "t1"), state("restarting", "t1", "0", "1")) == [
        "container:die"]


def test_created_and_finished_between_two_looks() -> None:
    assert actions({}, state("exited", code="1")) == [
        "container:create", "container:start", "container:die"]


def test_images_and_renames() -> None:
    image = "image:sha256:" + "a" * 64
    assert actions({}, {image: ("docker.io/library/busybox:latest",)}) == ["image:tag"]
    assert actions({image: ()}, {}) == ["image:delete"]
    renamed = {f"container:{CID}": ("new", "running", "t1", "0", "0")}
    assert actions(state("running"), renamed) == ["container:rename"]
