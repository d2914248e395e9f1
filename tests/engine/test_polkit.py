"""pkexec's exit statuses and words (polkit 122, as captured from the real thing) become
one sentence each; the helper's own refusal is passed on; anything else still says
what failed."""

from __future__ import annotations

import pytest

from engine import polkit
from engine.errors import HelperError, HelperUnavailable


@pytest.mark.parametrize(("status", "output", "sentence"), [
    (127, "Error getting authority: Error initializing authority: Could not connect: "
          "No such file or directory\n", polkit.NO_POLKIT),
    (127, "Error getting authority: Error initializing authority: Timeout was reached\n",
     polkit.NO_POLKIT),
    (127, "Error creating textual authentication agent: Error opening current controlling "
          "terminal for the process (`/dev/tty'): No such device or address\n", polkit.NO_AGENT),
    (127, "Error executing command as another user: No authentication agent found.\n",
     polkit.NO_AGENT),
    (127, "Error executing command as another user: Not authorized\n\n"
          "This incident has been reported.\n",
     polkit.REFUSED.format(action="org.example.helper")),
    (126, "Error executing command as another user: Request dismissed\n", polkit.DISMISSED),
    (126, "", polkit.DISMISSED),
    (127, "Error accessing /usr/libexec/skiff/skiff-helper: No such file or directory\n",
     polkit.NOT_INSTALLED),
])
def test_each_failure_has_its_sentence(status: int, output: str, sentence: str) -> None:
    error = polkit.explain(status, output, "org.example.helper")
    assert isinstance(error, HelperUnavailable)
    assert str(error) == sentence


def test_the_helpers_own_refusal_is_passed_on() -> None:
    error = polkit.explain(1, "skiff-helper: refusing to run as root for uid 1000: "
                              "/home/u/engine is writable by others; install Skiff\n")
    assert isinstance(error, HelperUnavailable)
    assert str(error) == ("refusing to run as root for uid 1000: /home/u/engine is writable "
                          "by others; install Skiff")


def test_an_unknown_failure_names_status_and_last_words() -> None:
    error = polkit.explain(3, "something odd\nfinal words\n")
    assert type(error) is HelperError
    assert "pkexec exited with status 3: final words" in str(error)
    killed = polkit.explain(-9, "")
    assert "pkexec was killed" in str(killed)


def test_every_sentence_says_what_to_do() -> None:
    for sentence in (polkit.NO_PKEXEC, polkit.NOT_INSTALLED, polkit.NO_POLKIT, polkit.NO_AGENT,
                     polkit.REFUSED, polkit.DISMISSED):
        what, _, todo = sentence.partition(": ")
        assert what and todo and "\n" not in sentence
