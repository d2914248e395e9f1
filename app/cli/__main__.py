"""``python -m app.cli``: the same as the ``skiff`` console script."""

from __future__ import annotations

import sys

from app.cli.launcher import main

sys.exit(main())
