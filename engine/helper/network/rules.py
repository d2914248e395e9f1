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

A network with IPv6 gets the same rules for its IPv6 subnet in the ``ip6``
family (its own nft table, or ip6tables), as Docker's ip6tables rules: NAT
out, published ports DNATed to the container's IPv6 address, isolation. The
loopback rules have no IPv6 twin (the kernel never routes ::1 off the host).
When Skiff turned IPv6 forwarding on itself (``guard``), the ip6 forward chain
also drops what goes neither into nor out of one of its bridges, as Docker
sets ip6tables' FORWARD policy to DROP then: the host does not become a
router for its other interfaces.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = [
    "IPTABLES",
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
    address: IPv4Address | IPv6Address
    port: PublishedPort


@dataclass(frozen=True)
class Rule:
    """One rule in one of our chains: input, forward, published, postrouting."""

    chain: str
    action: str  # accept | drop | masquerade | dnat
    family: str = "ip"  # ip | ip6
    iif: str = ""
    iif_not: bool = False
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


def plan_rules(networks: Sequence[tuple[str, IPv4Network | IPv6Network]],
               dnats: Sequence[Dnat], bridge_prefix: str, internal: Collection[str] = (),
               guard: bool = False) -> list[Rule]:
    """Every rule for these (bridge, subnet) pairs (a bridge with IPv6 comes twice)
    and published ports; ``internal`` names the bridges of internal networks;
    ``guard``: Skiff turned IPv6 forwarding on (see the module's docstring).

    Forward rules go in phases across all bridges (accepts before the
    isolation drops), so a DNATed connection from one network to a container
    published on another is not dropped by the first network's isolation.
    """
    rules: list[Rule] = []
    for family, version in (("ip", 4), ("ip6", 6)):
        nets = sorted((bridge, subnet) for bridge, subnet in networks
                      if subnet.version == version)
        mine = [d for d in dnats if d.address.version == version]
        rules += _family_rules(family, nets, mine, bridge_prefix, internal,
                               guard and version == 6)
    return rules


def _family_rules(family: str, nets: Sequence[tuple[str, IPv4Network | IPv6Network]],
                  dnats: Sequence[Dnat], bridge_prefix: str, internal: Collection[str],
                  guard: bool) -> list[Rule]:
    ours = f"{bridge_prefix}*"
    rules: list[Rule] = []
    v4 = family == "ip"
    for bridge, _ in nets if v4 else ():
        rules.append(Rule("input", "drop", iif=bridge, daddr=LOOPBACK,
                          ct_state="new,invalid,untracked", comment=f"net:{bridge}"))
    for bridge, _ in nets:
        tag = f"net:{bridge}"
        if bridge not in internal:
            rules.append(Rule("forward", "accept", family, oif=bridge,
                              ct_state="established,related", comment=tag))
            rules.append(Rule("forward", "accept", family, oif=bridge, ct_dnat=True,
                              comment=tag))
        rules.append(Rule("forward", "accept", family, iif=bridge, oif=bridge, comment=tag))
    for bridge, _ in nets:
        rules.append(Rule("forward", "drop", family, iif=bridge, oif=ours,
                          comment=f"net:{bridge}"))
    for bridge, _ in nets:
        tag = f"net:{bridge}"
        rules.append(Rule("forward", "drop" if bridge in internal else "accept", family,
                          iif=bridge, comment=tag))
        rules.append(Rule("forward", "drop", family, oif=bridge, comment=tag))
    if guard and nets:
        rules.append(Rule("forward", "drop", family, iif=ours, iif_not=True, oif=ours,
                          oif_not=True, comment="not-skiff"))
    for bridge, subnet in nets:
        if bridge in internal:
            continue
        tag = f"net:{bridge}"
        rules.append(Rule("postrouting", "masquerade", family, saddr=str(subnet), oif=bridge,
                          oif_not=True, comment=tag))
        if v4:
            rules.append(Rule("postrouting", "masquerade", saddr=LOOPBACK, oif=bridge,
                              comment=tag))
        rules.append(Rule("postrouting", "masquerade", family, saddr=str(subnet), oif=bridge,
                          ct_dnat=True, comment=tag))
    for dnat in sorted(dnats, key=lambda d: (d.container_id, d.port.protocol, d.port.host_port,
                                            d.port.host_ip)):
        port = dnat.port
        target = f"{dnat.address}:" if v4 else f"[{dnat.address}]:"
        rules.append(Rule("published", "dnat", family, daddr=port.host_ip,
                          protocol=port.protocol, dport=port.host_port,
                          to=f"{target}{port.container_port}",
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
        parts.append(f'iifname {"!= " if rule.iif_not else ""}"{rule.iif}"')
    if rule.oif:
        parts.append(f'oifname {"!= " if rule.oif_not else ""}"{rule.oif}"')
    if rule.saddr:
        parts.append(f"{rule.family} saddr {rule.saddr}")
    if rule.daddr:
        parts.append(f"{rule.family} daddr {rule.daddr}")
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
    """An ``nft -f`` script that replaces tables ``ip <table>`` and ``ip6 <table>``
    with these rules in one transaction (a family without rules has no table)."""
    script = [f"{verb} table {family} {table}" for family in ("ip", "ip6")
              for verb in ("add", "delete")]
    for family in ("ip", "ip6"):
        mine = [rule for rule in rules if rule.family == family]
        if not mine:
            continue
        script.append(f"table {family} {table} {{")
        for chain, spec, fixed in _NFT_CHAINS:
            script.append(f"\tchain {chain} {{")
            if spec:
                script.append(f"\t\t{spec}")
            script.extend(f"\t\t{line}" for line in fixed)
            script.extend(f"\t\t{_nft_rule(rule)}" for rule in mine if rule.chain == chain)
            script.append("\t}")
        script.append("}")
    return "\n".join(script) + "\n"


# -- iptables ---------------------------------------------------------------------------------

_IPT_TABLE = {"published": "nat", "postrouting": "nat", "input": "filter", "forward": "filter"}
#: The iptables command of each family (ip6tables has the same chains and syntax).
IPTABLES = {"ip": "iptables", "ip6": "ip6tables"}


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
        parts += (["!"] if rule.iif_not else []) + ["-i", rule.iif.replace("*", "+")]
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


def render_iptables(prefix: str, rules: Sequence[Rule], family: str = "ip") -> str:
    """``iptables-restore --noflush`` input (``ip6tables-restore`` for family "ip6")
    that empties our chains and refills them with the family's rules (declaring a
    chain flushes it), one atomic commit per table."""
    rules = [rule for rule in rules if rule.family == family]
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
