"""``python -m engine.helper``: the privileged helper's entry point."""

import sys

from engine.helper.server import main

sys.exit(main())
