"""The prune dialog: the preview the engine answers, or why there is none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.desktop.widgets.prunedialog import Preview, PruneDialog


def test_a_preview_shows_what_would_go_and_enables_prune(qtbot: Any) -> None:
    pruned: list[str] = []

    def preview(key: str, answer: Callable[[Preview], None],
                _failed: Callable[[str], None]) -> None:
        answer(([f"{key}-1", f"{key}-2"], 2048))

    dialog = PruneDialog("Prune", (("a", "A"), ("b", "B")), preview, pruned.append)
    qtbot.addWidget(dialog)
    assert dialog.previewed() == ["a-1", "a-2"] and dialog.prune_button.isEnabled()
    assert dialog.summary.text() == "2 will be removed, returning 2.05kB:"
    dialog.choose("b")
    assert dialog.previewed() == ["b-1", "b-2"]
    dialog.prune_button.click()
    assert pruned == ["b"]


def test_a_failed_preview_says_why_instead_of_counting_for_ever(qtbot: Any) -> None:
    def preview(_key: str, _answer: Callable[[Preview], None],
                failed: Callable[[str], None]) -> None:
        failed("Could not count: the helper is not running.")

    dialog = PruneDialog("Prune", (("a", "A"),), preview, lambda _key: None)
    qtbot.addWidget(dialog)
    assert dialog.summary.text() == ("Could not count what would be removed. "
                                     "Could not count: the helper is not running.")
    assert not dialog.prune_button.isEnabled() and dialog.previewed() == []
