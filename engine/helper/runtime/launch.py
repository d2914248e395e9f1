"""How the helper starts the runtime's own processes (monitors, exec and file-access
processes, the sysctl probe): a module of ours in a lean interpreter.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["PACKAGE_ROOT", "python_module"]

# The directory holding the engine package: what our own processes import from.
PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])


def python_module(module: str) -> list[str]:
    """Run a module of ours in a lean interpreter: no site (saves ~30 ms a start).

    Monitors and exec processes need the standard library and our package only.
    """
    code = (f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r}); "
            f"from {module} import main; sys.exit(main(sys.argv))")
    return [sys.executable, "-S", "-c", code]
