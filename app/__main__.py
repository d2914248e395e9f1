"""``python -m app`` starts Skiff's desktop window."""

from __future__ import annotations

import sys

from app.launch import main

if __name__ == "__main__":
    sys.exit(main())
