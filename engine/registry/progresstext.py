"""Pull and push progress in docker's words: the layer's short ID, its status word, the bar.

docker's CLI draws these lines and dockerd sends the same words in its JSON
progress messages, so the CLI (app/cli/progress.py) and the REST API
(app/api/progress.py) both take them from here.
"""

from __future__ import annotations

from engine.units import human_size

__all__ = ["PULL_WORDS", "PUSH_WORDS", "WITH_BAR", "layer_id", "progress_bar"]

BAR_WIDTH = 50

PULL_WORDS = {
    "waiting": "Waiting",
    "downloading": "Downloading",
    "verifying": "Verifying Checksum",
    "extracting": "Extracting",
    "done": "Pull complete",
    "exists": "Already exists",
}
PUSH_WORDS = {
    "waiting": "Waiting",
    "pushing": "Pushing",
    "mounted": "Mounted from another repository",
    "exists": "Layer already exists",
    "done": "Pushed",
}
#: The statuses that come with a byte count and a bar.
WITH_BAR = ("downloading", "extracting", "pushing")


def layer_id(digest: str) -> str:
    """docker's short layer name: the first 12 hex digits of the digest."""
    return digest.split(":", 1)[-1][:12]


def progress_bar(current: int, total: int) -> str:
    """docker's bar: "[=====>      ]  1.2MB/4.3MB" (just the size when total is unknown)."""
    if total <= 0:
        return human_size(current, 4) if current else ""
    filled = max(0, min(BAR_WIDTH, current * BAR_WIDTH // total))
    bar = "=" * filled + ">" + " " * (BAR_WIDTH - filled)
    return f"[{bar}] {human_size(current, 4):>8}/{human_size(total, 4)}"
