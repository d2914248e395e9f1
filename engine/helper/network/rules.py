"""The netfilter rules Skiff needs, as data, and their nft / iptables text.

Pure functions: :func:`plan_rules` turns networks and published ports into a
list of :class:`Rule`; :func:`render_nft` and :func:`render_iptables` write
that list for one backend. The whole rule set is always rendered from the
recorded state and replaced in one transaction, so applying is idempotent and
repair is "render again".

What the rules do, per bridge B with subnet S:
- masquerade S leaving through any other interface (outbound NAT);
- DNAT published ports for traffic to the host's own addresses, arriving
  (prerouting) or made on the host itself (output, which covers 127.0.0.1);
- masquerade connections from 127/8 into B (route_localnet is on for B, and
  the container could not answer 127.0.0.1) and hairpin connections from S
  back into B, so replies return through the NAT;
- forward: replies and DNATed traffic into B, anything out of B, nothing from
  another Skiff network (isolation) and nothing else into B;
- input: drop new connections to 127/8 arriving on B (route_localnet's hole;
  replies to masqueraded loopback clients arrive that way and must pass).

An internal network (``docker network create --internal``) keeps only the
traffic between its own containers: no NAT, no published ports, and forward
drops everything into or out of B that does not stay on B.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

__all__ = [
    "Dnat",
    "PublishedPort",
    "Rule",
    "iptables_chains",
    "iptables_jumps",
    "plan_rules",
    "render_iptables",
    "render_nft",
]

LOOPBACK = "127.0.0.0/8"


@dataclass(frozen=True)
class PublishedPort:
    """One published port: host_ip "" means every host address, 127.0.0.1 included."""

    protocol: str  # tcp | udp
    host_ip: str
    host_port: int
    container_port: int

    def __str__(self) -> str:
        host = f"{self.host_ip}:" if self.host_ip else ""
        return f"{host}{self.host_port}->{self.container_port}/{self.protocol}"


@dataclass(frozen=True)
class Dnat:
    container_id: str
    address: IPv4Address
    port: PublishedPort


@dataclass(frozen=True)
class Rule:
    """One rule in one of our chains: input, forward, published, postrouting."""

    chain: str
    action: str  # accept | drop | masquerade | dnat
    iif: str = ""
    oif: str = ""  # a name, or a prefix ending in "*"
    oif_not: bool = False
    saddr: str = ""
    daddr: str = ""
    protocol: str = ""
    dport: int = 0
    ct_state: str = ""  # conntrack states, "established,related"
    ct_dnat: bool = False
    to: str = ""  # dnat target, "address:port"
    comment: str = ""


def plan_rules(networks: Sequence[tuple[str, IPv4Network]], dnats: Sequence[Dnat],
               bridge_prefix: str, internal: Collection[str] = ()) -> list[Rule]:
    """Every rule for these (bridge, subnet) pairs and published ports; ``internal``
    names the bridges of internal networks.

    Forward rules go in phases across all bridges (accepts before the
    isolation drops), so a DNATed connection from one network to a container
    published on another is not dropped by the first network's isolation.
    """
    ours = f"{bridge_prefix}*"
    nets = sorted(networks)
    rules: list[Rule] = []
    for bridge, _ in nets:
        rules.append(Rule("input", "drop", iif=bridge, daddr=LOOPBACK,
                          ct_state="new,invalid,untracked", comment=f"net:{bridge}"))
    for bridge, _ in nets:
        tag = f"net:{bridge}"
        if bridge not in internal:
            rules.append(Rule("forward", "accept", oif=bridge,
                              ct_state="established,related", comment=tag))
            rules.append(Rule("forward", "accept", oif=bridge, ct_dnat=True, comment=tag))
        rules.append(Rule("forward", "accept", iif=bridge, oif=bridge, comment=tag))
    for bridge, _ in nets:
        rules.append(Rule("forward", "drop", iif=bridge, oif=ours, comment=f"net:{bridge}"))
    for bridge, _ in nets:
        tag = f"net:{bridge}"
        rules.append(Rule("forward", "drop" if bridge in internal else "accept", iif=bridge,
                          comment=tag))
        rules.append(Rule("forward", "drop", oif=bridge, comment=tag))
    for bridge, subnet in nets:
        if bridge in internal:
            continue
        tag = f"net:{bridge}"
        rules.append(Rule("postrouting", "masquerade", saddr=str(subnet), oif=bridge,
                          oif_not=True, comment=tag))
        rules.append(Rule("postrouting", "masquerade", saddr=LOOPBACK, oif=bridge, comment=tag))
        rules.append(Rule("postrouting", "masquerade", saddr=str(subnet), oif=bridge,
                          ct_dnat=True, comment=tag))
    for dnat in sorted(dnats, key=lambda d: (d.container_id, d.port.protocol, d.port.host_port,
                                            d.port.host_ip)):
        port = dnat.port
        rules.append(Rule("published", "dnat", daddr=port.host_ip, protocol=port.protocol,
                          dport=port.host_port, to=f"{dnat.address}:{port.container_port}",
                          comment=f"ctr:{dnat.container_id[:12]}"))
    return rules


# -- nftables ---------------------------------------------------------------------------------

_NFT_CHAINS: tuple[tuple[str, str, list[str]], ...] = (
    ("prerouting", "type nat hook prerouting priority -100; policy accept;",
     ["fib daddr type local jump published"]),
    ("output", "type nat hook output priority -100; policy accept;",
     ["fib daddr type local jump published"]),
    ("published", "", []),
    ("postrouting", "type nat hook postrouting priority 100; policy accept;", []),
    ("input", "type filter hook input priority 0; policy accept;", []),
    ("forward", "type filter hook forward priority 0; policy accept;", []),
)


def _nft_rule(rule: Rule) -> str:
    parts: list[str] = []
    if rule.iif:
        parts.append(f'iifname "{rule.iif}"')
    if rule.oif:
        parts.append(f'oifname {"!= " if rule.oif_not else ""}"{rule.oif}"')
    if rule.saddr:
        parts.append(f"ip saddr {rule.saddr}")
    if rule.daddr:
        parts.append(f"ip daddr {rule.daddr}")
    if rule.protocol:
        parts.append(f"{rule.protocol} dport {rule.dport}")
    if rule.ct_state:
        parts.append(f"ct state {rule.ct_state}")
    if rule.ct_dnat:
        parts.append("ct status dnat")
    parts.append(f"dnat to {rule.to}" if rule.action == "dnat" else rule.action)
    if rule.comment:
        parts.append(f'comment "{rule.comment}"')
    return " ".join(parts)


def render_nft(table: str, rules: Sequence[Rule]) -> str:
    """An ``nft -f`` script that replaces table ``ip <table>`` with these rules
    in one transaction (or only deletes it when there are none)."""
    script = [f"add table ip {table}", f"delete table ip {table}"]
    if not rules:
        return "\n".join(script) + "\n"
    script.append(f"table ip {table} {{")
    for chain, spec, fixed in _NFT_CHAINS:
        script.append(f"\tchain {chain} {{")
        if spec:
            script.append(f"\t\t{spec}")
        script.extend(f"\t\t{line}" for line in fixed)
        script.extend(f"\t\t{_nft_rule(rule)}" for rule in rules if rule.chain == chain)
        script.append("\t}")
    script.append("}")
    return "\n".join(script) + "\n"


# -- iptables ---------------------------------------------------------------------------------

_IPT_TABLE = {"published": "nat", "postrouting": "nat", "input": "filter", "forward": "filter"}


def iptables_chains(prefix: str) -> dict[str, tuple[str, str]]:
    """Our chain names: {logical chain: (iptables table, chain name)}."""
    return {chain: (table, f"{prefix.upper()}-{chain.upper()}")
            for chain, table in _IPT_TABLE.items()}


def iptables_jumps(prefix: str) -> list[tuple[str, str, list[str]]]:
    """The rules in built-in chains that lead to ours: (table, chain, match + jump)."""
    chains = iptables_chains(prefix)
    local = ["-m", "addrtype", "--dst-type", "LOCAL"]
    return [
        ("nat", "PREROUTING", [*local, "-j", chains["published"][1]]),
        ("nat", "OUTPUT", [*local, "-j", chains["published"][1]]),
        ("nat", "POSTROUTING", ["-j", chains["postrouting"][1]]),
        ("filter", "INPUT", ["-j", chains["input"][1]]),
        ("filter", "FORWARD", ["-j", chains["forward"][1]]),
    ]


def _ipt_rule(rule: Rule, chain: str) -> str:
    parts = ["-A", chain]
    if rule.iif:
        parts += ["-i", rule.iif]
    if rule.oif:
        parts += (["!"] if rule.oif_not else []) + ["-o", rule.oif.replace("*", "+")]
    if rule.saddr:
        parts += ["-s", rule.saddr]
    if rule.daddr:
        parts += ["-d", rule.daddr]
    if rule.protocol:
        parts += ["-p", rule.protocol, "--dport", str(rule.dport)]
    if rule.ct_state:
        parts += ["-m", "conntrack", "--ctstate", rule.ct_state.upper()]
    if rule.ct_dnat:
        parts += ["-m", "conntrack", "--ctstate", "DNAT"]
    if rule.comment:
        parts += ["-m", "comment", "--comment", f'"{rule.comment}"']
    if rule.action == "dnat":
        parts += ["-j", "DNAT", "--to-destination", rule.to]
    else:
        parts += ["-j", rule.action.upper()]
    return " ".join(parts)


def render_iptables(prefix: str, rules: Sequence[Rule]) -> str:
    """``iptables-restore --noflush`` input that empties our chains and refills
    them (declaring a chain flushes it), one atomic commit per table."""
    chains = iptables_chains(prefix)
    out: list[str] = []
    for table in ("nat", "filter"):
        out.append(f"*{table}")
        mine = [(logical, name) for logical, (tbl, name) in chains.items() if tbl == table]
        out.extend(f":{name} - [0:0]" for _, name in mine)
        for logical, name in mine:
            out.extend(_ipt_rule(rule, name) for rule in rules if rule.chain == logical)
        out.append("COMMIT")
    return "\n".join(out) + "\n"
