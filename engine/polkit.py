"""Asking polkit for the helper, and what each way of failing means for the user.

A user who is not root starts the helper through ``pkexec`` and the installed
wrapper, which polkit's ``org.skiff.helper`` action authorises. When the helper
never answers, pkexec's exit status and its error output say why: 126 when the
user dismissed the authentication dialog; 127 when pkexec could not ask (no
polkit service, no authentication agent) or polkit said no; the helper's own
status (and one ``skiff-helper:`` line) when the helper itself refused. Each
becomes one sentence saying what happened and what to do, the same in the CLI
and in the window's dialog.
"""

from __future__ import annotations

import os
import shutil
import threading
from typing import IO

from engine import installation
from engine.errors import HelperError, HelperUnavailable

__all__ = [
    "DISMISSED",
    "NOT_INSTALLED",
    "NO_AGENT",
    "NO_PKEXEC",
    "NO_POLKIT",
    "REFUSED",
    "ErrorOutput",
    "explain",
    "pkexec_command",
]

NO_PKEXEC = ("Skiff needs root for containers and pkexec, which asks for it, is not installed: "
             "install it (`sudo apt install pkexec`, policykit-1 on older systems), "
             "or run Skiff as root.")
NOT_INSTALLED = ("Skiff's privileged helper is not installed: install Skiff with "
                 "`sudo make install` or its .deb package (see the README), or run Skiff as root.")
NO_POLKIT = ("Skiff could not ask for permission to run containers because the polkit service "
             "is not running: start it (`sudo systemctl start polkit`; its package is polkitd), "
             "or run Skiff as root.")
NO_AGENT = ("Skiff could not ask for your password because no polkit authentication agent "
            "is running: start Skiff in a desktop session (it runs one), or run it as root, "
            "or have an administrator allow your user with a polkit rule (see the README).")
REFUSED = ("polkit did not allow you to run containers with Skiff ({action}; a wrong password "
           "ends here too): try again, or ask an administrator to allow your user with a "
           "polkit rule (see the README).")
DISMISSED = ("The request for permission to run containers was dismissed: run the command "
             "again and allow it when asked.")

#: pkexec's words (polkit 0.105 to 124) for each case, as it prints them.
_NO_POLKIT_SIGNS = ("Error getting authority",)
_NO_AGENT_SIGNS = ("No authentication agent found", "Error creating textual authentication agent",
                   "Error registering local authentication agent")
_REFUSED_SIGNS = ("Not authorized",)
_DISMISSED_SIGNS = ("Request dismissed",)
_MISSING_SIGNS = ("Cannot run program", "Error accessing")
_HELPER_PREFIX = "skiff-helper: "


def pkexec_command() -> tuple[str, installation.Installation]:
    """pkexec and the installation whose helper it runs; HelperUnavailable if either lacks."""
    pkexec = shutil.which("pkexec") or next(
        (p for p in ("/usr/bin/pkexec", "/bin/pkexec") if os.access(p, os.X_OK)), None)
    if pkexec is None:
        raise HelperUnavailable(NO_PKEXEC)
    found = installation.find()
    if found is None or not os.access(found.helper, os.X_OK):
        raise HelperUnavailable(NOT_INSTALLED)
    return pkexec, found


def explain(status: int | None, output: str, action: str = "org.skiff.helper") -> HelperError:
    """The error for a helper that pkexec started (or not) and that never answered."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    own = [line for line in lines if line.startswith(_HELPER_PREFIX)]
    if own:  # the helper ran and refused, saying why
        return HelperUnavailable(own[-1].removeprefix(_HELPER_PREFIX))

    def says(signs: tuple[str, ...]) -> bool:
        return any(sign in line for line in lines for sign in signs)

    if says(_DISMISSED_SIGNS) or (status == 126 and not lines):
        return HelperUnavailable(DISMISSED)
    if says(_NO_POLKIT_SIGNS):
        return HelperUnavailable(NO_POLKIT)
    if says(_NO_AGENT_SIGNS):
        return HelperUnavailable(NO_AGENT)
    if says(_REFUSED_SIGNS):
        return HelperUnavailable(REFUSED.format(action=action))
    if says(_MISSING_SIGNS):
        return HelperUnavailable(NOT_INSTALLED)
    how = "was killed" if status is not None and status < 0 else f"exited with status {status}"
    detail = f": {lines[-1]}" if lines else ""
    return HelperError(f"the privileged helper did not start (pkexec {how}{detail}); "
                       "run the command again, or as root")


class ErrorOutput:
    """pkexec's standard error: kept while the helper starts, then passed on to ours.

    Before the helper answers, its output is pkexec's (or the helper's refusal):
    we keep it to explain a failure. Once it answers, whatever the helper writes
    goes to our standard error as it did before (an uncaught traceback, a warning).
    """

    LIMIT = 64 * 1024

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._kept = bytearray()
        self._lock = threading.Lock()
        self._started = False
        self._ended = threading.Event()
        threading.Thread(target=self._pump, daemon=True, name="skiff-helper-stderr").start()

    def _pump(self) -> None:
        try:
            while True:
                chunk = os.read(self._stream.fileno(), 4096)
                if not chunk:
                    break
                with self._lock:
                    if not self._started:
                        self._kept += chunk[: max(0, self.LIMIT - len(self._kept))]
                        continue
                try:
                    os.write(2, chunk)
                except OSError:
                    pass
        except OSError:
            pass
        finally:
            self._ended.set()
            self._stream.close()

    def started(self) -> None:
        """The helper answered: pass on what it said so far and all it says later."""
        with self._lock:
            self._started = True
            kept, self._kept = bytes(self._kept), bytearray()
        if kept:
            try:
                os.write(2, kept)
            except OSError:
                pass

    def text(self, timeout: float = 5.0) -> str:
        """Everything written before the helper answered (waits for pkexec to end)."""
        self._ended.wait(timeout)
        with self._lock:
            return self._kept.decode(errors="replace")
