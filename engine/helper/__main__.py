"""``python -m engine.helper``: the privileged helper's entry point.

Before anything else of Skiff is imported, the helper checks that the code it
is about to run as root for a user is root's alone (engine/helper/trust.py).

Its imports make tens of thousands of objects, none of them garbage: the cyclic
garbage collector, scanning them again and again on the way, was ~7-10 ms of the
helper's ~110 ms start (a cold pull waits for it). It is off until they are done;
what they made is then frozen (never scanned again, nor copied into the zygote's
pages by a scan), and it is on while the helper serves.
"""

import gc
import sys

gc.disable()

from engine.helper.trust import refuse_untrusted_code  # noqa: E402

if refuse_untrusted_code():
    sys.exit(1)

from engine.helper.server import main  # noqa: E402  # only once the code is trusted

gc.freeze()
gc.enable()
sys.exit(main())
