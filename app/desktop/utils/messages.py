"""Exceptions turned into sentences the window can show: what failed and what to do."""

from __future__ import annotations

import errno
import logging

from engine import (
    AuthenticationError,
    HelperError,
    HelperUnavailable,
    KernelFeatureMissing,
    RegistryError,
    SkiffError,
)

__all__ = ["describe", "log_failure"]

log = logging.getLogger(__name__)


def describe(action: str, exc: BaseException) -> str:
    """One plain sentence (or two) for the user; ``action`` reads "start web-1"."""
    if isinstance(exc, AuthenticationError):
        return (f"Could not {action}: {_sentence(exc)} Check the user name and password "
                "(+ New → Add Registry…).")
    if isinstance(exc, RegistryError):
        return f"Could not {action}: {_sentence(exc)} Check the network and the image name."
    if isinstance(exc, KernelFeatureMissing):
        return f"Could not {action}: {_sentence(exc)}"
    if isinstance(exc, HelperUnavailable):  # the sentence says what to do (engine/polkit.py)
        return f"Could not {action}: {_sentence(exc)}"
    if isinstance(exc, HelperError):
        return (f"Could not {action}: {_sentence(exc)} The engine's helper may have stopped; "
                "restart Skiff and try again.")
    if isinstance(exc, SkiffError):
        return f"Could not {action}: {_sentence(exc)}"
    if isinstance(exc, NotImplementedError):
        return (f"Could not {action}: this version of the Skiff engine cannot do that yet. "
                "Update Skiff and try again.")
    if isinstance(exc, PermissionError):
        return (f"Could not {action}: permission denied"
                f"{' on ' + str(exc.filename) if exc.filename else ''}. "
                "Check that you may use that file or folder.")
    if isinstance(exc, FileNotFoundError):
        return (f"Could not {action}: {exc.filename or 'a file'} does not exist. "
                "Check the path and try again.")
    if isinstance(exc, OSError):
        reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "system error")
        return f"Could not {action}: {reason.rstrip('.')}."
    if isinstance(exc, TimeoutError):
        return f"Could not {action}: it took too long. Try again."
    return (f"Could not {action}: something unexpected went wrong ({type(exc).__name__}: "
            f"{exc}). Please report this as a bug.")


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def log_failure(what: str, exc: BaseException) -> None:
    """One line for failures the user was told about and can expect (Docker Hub
    offline, a refused start); a traceback only for the unexpected (a bug)."""
    if isinstance(exc, SkiffError | OSError):
        log.warning("%s failed: %s", what, exc)
    else:
        log.warning("%s failed", what, exc_info=exc)
