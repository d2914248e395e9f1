"""Released endpoints whose veth may still be on the host, and when what they had is free.

Deleting a veth pair costs the caller 25-40 ms of the kernel's RCU waits on this
machine (~3 ms of CPU), and every container's end (`run --rm`, `stop`, `rm`) waited
for it. The container's sandbox holds the pair's container end: once the sandbox
is unmounted and no process is left in it, the kernel frees the namespace and
deletes the pair in a worker of its own, ~15 ms later, with nobody waiting.

Until then the released endpoint is *leaving* (:class:`.ipam.Leaving`): its
addresses and its MAC address stay taken, so no container gets an address or a MAC
address a link on the bridge still has. Whatever hands out addresses settles first:
a leaving veth that is gone frees what it had; one still there after ``LINGER``
seconds (its namespace held by something else: a socket a container passed out,
say) is deleted then, and so is the one of a container that joins the network
again (a restart gets its address back).
"""

from __future__ import annotations

import time

from engine.errors import SkiffError
from engine.helper.network import links
from engine.helper.network.ipam import Leaving, NetworkRecord

__all__ = ["LINGER", "drop", "settle"]

LINGER = 10.0  # seconds a leaving veth is left to the kernel


def settle(record: NetworkRecord, *, joining: str = "") -> None:
    """Forget the record's leaving veths that are gone; delete those that outstayed
    ``LINGER``, and those of container ``joining``."""
    now = time.time()

    def gone(veth: str, leaving: Leaving) -> bool:
        if not links.link_exists(veth):
            return True
        if leaving.container_id != joining and now - leaving.since < LINGER:
            return False
        try:  # only the link that still says it is that container's
            links.detach(veth, owner=leaving.container_id)
        except SkiffError:
            return False  # the next settle tries again; what it had stays taken
        return True

    record.settle(gone)


def drop(record: NetworkRecord) -> None:
    """Delete every leaving veth of the record that is still there (its network or
    its bridge goes)."""
    for veth, leaving in record.leaving.items():
        links.detach(veth, owner=leaving.container_id)
    record.leaving.clear()
