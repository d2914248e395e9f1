"""PySide6 reads the source of every module imported after it: it need not.

PySide6 puts its own ``__import__`` in place, and after each import it looks
for ``from __feature__ import ...`` (its opt-in snake_case and true_property
spellings) by reading the module's whole source through ``inspect.getsource``,
which keeps every source in ``linecache``. No module of Skiff's asks for a
feature, and a module found not to mention PySide6 (the stdlib's, say) is
treated so already: told that of every module imported from now on, a launch
with 200 containers keeps ~10 MB less RSS (113 -> 103 MB) and saves 20-80 ms of
CPU (~300 sources read and kept at each start; benchmarks/desktop.py). Where
PySide6 no longer has that check, this does nothing.
"""

from __future__ import annotations

import sys

__all__ = ["skip_feature_scan"]


def skip_feature_scan() -> None:
    """Call once PySide6 is imported, before the window's own modules are."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
        setattr(feature, "_mod_uses_pyside", _uses_no_feature)  # noqa: B010 (not typed)


def _uses_no_feature(_module: object) -> bool:
    return False
