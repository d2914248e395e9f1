"""``python -m engine.helper``: the privileged helper's entry point.

Before anything else of Skiff is imported, the helper checks that the code it
is about to run as root for a user is root's alone (engine/helper/trust.py).
"""

import sys

from engine.helper.trust import refuse_untrusted_code

if refuse_untrusted_code():
    sys.exit(1)

from engine.helper.server import main  # only once the code is trusted

sys.exit(main())
