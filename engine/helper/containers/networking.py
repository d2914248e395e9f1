"""The container verbs' side of networking: a container's sandbox at start, and the
repair of what nothing runs behind any more (engine/helper/network/).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any

from engine.errors import HelperError
from engine.helper.containers.base import ContainerBase
from engine.helper.network import etcfiles
from engine.helper.runtime.spec import ContainerDir, RuntimeSpec

__all__ = ["NetworkGlue", "PublishRequest"]


@dataclass(frozen=True)
class PublishRequest:
    """A port to publish, as the networking layer asks for it."""

    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""
    host_port: int = 0


class NetworkGlue(ContainerBase):
    """Network set-up at start, and the warm-up that loads and repairs it."""

    def _start_network(self, cdir: ContainerDir, spec: RuntimeSpec,
                       starting: contextlib.ExitStack,
                       joins: list[dict[str, Any]] | None = None) -> None:
        """Sandbox, addresses, published ports, /etc files; NetworkSettings for inspect.
        ``starting`` keeps repairs away until the caller has the monitor running."""
        from engine.helper.network.plan import plan_network
        from engine.helper.network.verbs import NetworkVerbs

        plan = plan_network(spec.network_mode, spec.ports, spec.aliases)
        ports = [PublishRequest(**p) for p in spec.ports]
        self.network_ready()
        starting.enter_context(self.networking().starting())
        settings = NetworkVerbs(self.root, self.uid, self.networking()).start_container(
            spec.id, plan, hostname=spec.hostname, name=spec.name, aliases=spec.aliases,
            ports=ports, exposed=spec.exposed, joins=joins or [], mac=spec.mac_address)
        cdir.write_json(cdir.path / "network.json", settings)

    @staticmethod
    def _start_alone(cdir: ContainerDir, spec: RuntimeSpec) -> None:
        """``--network none``: no sandbox of ours. The init's own namespace, made as it
        unshares the others, has loopback only, which is all a sandbox had, and goes
        with its processes: ~3-5 ms of a thread, a namespace and a bind mount less at
        the start, the networking's warm-up (~0.2 s of imports) not waited for, and
        nothing to release at the end. Its /etc files as a sandbox's start wrote them."""
        options = etcfiles.read_options(cdir.path)
        etcfiles.write_in_place(cdir.path / etcfiles.HOSTS, etcfiles.render_hosts(
            spec.hostname, [], [], options.hosts_lines("")))
        etcfiles.write_in_place(cdir.path / etcfiles.HOSTNAME, f"{spec.hostname}\n")
        etcfiles.write_in_place(cdir.path / etcfiles.RESOLV_CONF,
                                etcfiles.apply_dns(etcfiles.host_resolv_conf(), options))

    def network_ready(self) -> None:
        """Wait for the warm-up's repair: what the network verbs do must come after it,
        or its look at the host (links, bridges, sandboxes nobody owned when it read the
        records) would undo them."""
        self.warm()
        if not self._network_ready.wait(60) or self._warm_up_error is not None:
            raise HelperError(f"networking is not available: {self._warm_up_error}")

    def warm(self) -> None:
        """Once, at the first verb that may need them: ``warm_up`` in the background,
        and the zygote's imports. A helper that only unpacks layers (a pull, a
        pulled image's second pull) pays for neither: ~0.5 s of CPU beside its
        unpacking on this 2-core machine (benchmarks/pull.py)."""
        with self._networking_lock:
            if self._warmed:
                return
            self._warmed = True
        threading.Thread(target=self.warm_up, daemon=True, name="warm-up").start()
        if self.zygote is not None:
            self.zygote.prepare()

    def warm_up(self) -> None:
        """In the background at helper start: load the networking code (pyroute2 takes
        ~200 ms) and repair network parts (links, rules, addresses, sandboxes) that
        nothing runs behind any more. Network set-up waits for this; nothing else does."""
        try:
            from engine.helper.network.verbs import live_container_ids

            used = (self.root / "network").is_dir()  # before Networking() creates it
            networking = self.networking()
            if used:
                networking.repair(lambda: live_container_ids(self.root), self.root / "users")
        except Exception as exc:  # reported when a container needs the network
            self._warm_up_error = exc
        finally:
            self._network_ready.set()
