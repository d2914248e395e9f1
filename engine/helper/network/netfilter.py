"""Applying Skiff's rule set with nft, or iptables where nft is unusable.

With nftables Skiff owns one table, ``ip <table>``: applying replaces it
whole in one transaction and removing everything is deleting it. With
iptables Skiff owns four chains (``<TABLE>-PUBLISHED``, ``-POSTROUTING``,
``-INPUT``, ``-FORWARD``) reached by one jump each from the built-in chains;
``iptables-restore --noflush`` refills them atomically per table. IPv6 rules
go to the ``ip6`` twins: the nft table ``ip6 <table>``, or the same chains in
ip6tables.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from engine.errors import HelperError, KernelFeatureMissing
from engine.helper.network.rules import (
    IPTABLES,
    Rule,
    iptables_chains,
    iptables_jumps,
    render_iptables,
    render_nft,
)

__all__ = ["Netfilter", "detect_backend"]

BACKENDS = ("nft", "iptables")


def _run(argv: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)


def detect_backend() -> str:
    """"nft" when the nft command works with this kernel, else "iptables"."""
    if shutil.which("nft") and _run(["nft", "list", "tables"]).returncode == 0:
        return "nft"
    if shutil.which("iptables") and shutil.which("iptables-restore"):
        return "iptables"
    raise KernelFeatureMissing("neither nft nor iptables is usable: install nftables (or "
                               "iptables) so Skiff can add NAT and published-port rules")


@dataclass(frozen=True)
class Netfilter:
    """Skiff's rules in one backend; ``table`` names the nft table and the
    iptables chain prefix (tests use their own)."""

    table: str = "skiff"
    backend: str = "nft"

    def apply(self, rules: Sequence[Rule]) -> None:
        """Make the kernel's rules for Skiff exactly ``rules``."""
        if not rules:
            self.destroy()
        elif self.backend == "nft":
            self._nft(render_nft(self.table, rules))
        else:
            self._iptables_apply(rules)

    def destroy(self) -> None:
        """Remove everything Skiff added. Idempotent."""
        if self.backend == "nft":
            self._nft(render_nft(self.table, []))
            return
        for command in IPTABLES.values():
            if shutil.which(command):
                self._iptables_destroy(command)

    def _iptables_destroy(self, command: str) -> None:
        chains = iptables_chains(self.table)
        for table, chain, spec in iptables_jumps(self.table):
            while _run([command, "-w", "-t", table, "-D", chain, *spec]).returncode == 0:
                pass
        for table, name in chains.values():
            if _run([command, "-w", "-t", table, "-F", name]).returncode == 0:
                self._check([command, "-w", "-t", table, "-X", name])

    def _nft(self, script: str) -> None:
        result = _run(["nft", "-f", "-"], script)
        if result.returncode != 0:
            raise HelperError(f"could not apply the nftables rules of table {self.table}: "
                              f"{result.stderr.strip()}")

    def _check(self, argv: list[str], stdin: str = "") -> None:
        result = _run(argv, stdin)
        if result.returncode != 0:
            raise HelperError(f"could not apply the iptables rules of {self.table}: "
                              f"{' '.join(argv[:4])}: {result.stderr.strip()}")

    def _iptables_apply(self, rules: Sequence[Rule]) -> None:
        for family, command in IPTABLES.items():
            if family == "ip6" and not any(rule.family == family for rule in rules):
                if shutil.which(command):
                    self._iptables_destroy(command)  # the last IPv6 network went
                continue
            if not shutil.which(f"{command}-restore"):
                raise KernelFeatureMissing(f"{command}-restore is missing: install iptables "
                                           "(or nftables) for Skiff's IPv6 networks")
            self._check([f"{command}-restore", "-w", "--noflush"],
                        render_iptables(self.table, rules, family))
            for table, chain, spec in iptables_jumps(self.table):
                if _run([command, "-w", "-t", table, "-C", chain, *spec]).returncode != 0:
                    self._check([command, "-w", "-t", table, "-I", chain, "1", *spec])
