"""Skiff's host networking as the helper uses it: one object, a verb per step.

:class:`Networking` ties the pieces together around the network records
(:mod:`.ipam`): every change is one locked transaction that updates the
records, re-applies the whole netfilter rule set rendered from them, and only
then commits, so the rules on the host never describe more than the records.
Its parts: :mod:`.base` (records, bridges set up, rules, /etc files),
:mod:`.bridges` (networks made and removed) and :mod:`.attachments` (containers'
sandboxes, interfaces and ports, at start and after); :meth:`Networking.repair`
runs when the helper starts and after a crash.

A network created with IPv6 has a second subnet (its own, or a /64 of the IPv6
pool) and its containers an IPv6 address and route beside the IPv4 ones
(forwarding and rules: :mod:`.ruleset`).

An instance acts for one caller (``uid``, from the helper's peer): it finds,
joins and removes only that user's networks and the shared default one
(another user's network is "not found", as one that does not exist), and
applies :mod:`.policy` to the subnets and host ports it asks for. Container
cleanup and repair work on every user's records.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from engine.helper.network.attachments import Attachments, Join, StartedNetwork
from engine.helper.network.base import SANDBOX
from engine.helper.network.endpoints import PortRequest
from engine.helper.network.repair import RepairReport, repair

__all__ = ["SANDBOX", "Join", "Networking", "PortRequest", "RepairReport", "StartedNetwork"]


class Networking(Attachments):
    """Networks, container endpoints and published ports on this host (see
    :class:`.base.NetworkingBase` for what it is made from)."""

    @contextlib.contextmanager
    def starting(self) -> Iterator[None]:
        """Held (shared) from a container's sandbox to its running monitor. Every
        user's helper shares this host's networking, so repair waits for starts in
        flight rather than take a starting container for a dead one."""
        with self.ipam.locked(".starts.lock", exclusive=False):
            if self.spares is None:
                yield
                return
            with self.spares.starting():
                yield

    def repair(self, live_container_ids: Callable[[], Iterable[str]],
               sandbox_root: Path | None = None) -> RepairReport:
        """Make the host match the records for the live containers (asked once no
        start is in flight): forget the others, recreate missing bridges, re-apply
        the rules, and delete links, bridges and sandboxes (below ``sandbox_root``)
        nobody owns. Idempotent."""
        with self.ipam.locked(".starts.lock", exclusive=True):
            return repair(self, set(live_container_ids()), sandbox_root)
