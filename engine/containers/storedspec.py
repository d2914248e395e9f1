"""A container's stored spec, read whichever version of Skiff wrote it.

The engine keeps what it asked of the helper at create (the ContainerSpec of
engine/wire/containerspec.py, as JSON in the containers table) to ask it again:
a start after the helper lost the container, ``docker update``'s new limits.
Versions before the typed spec wrote that JSON by hand and its shape moved: the
first ones (November 2026) named the network ``network`` and had no published
ports, exposed ports, aliases or name, and their binds no type. ``read_spec``
brings any of these to today's ContainerSpec and checks it against the
protocol's schema once, here: a record the helper would refuse is a
DamagedState in one sentence, not a protocol error at the next start.
tests/engine/containers/records/ holds records as older versions wrote them.
"""

from __future__ import annotations

import json

from engine.errors import DamagedState, ProtocolError
from engine.wire.containerspec import SCHEMA, ContainerSpec
from engine.wire.schema import check_dict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["read_spec", "spec_text"]


def spec_text(spec: ContainerSpec) -> str:
    """The spec as the containers table keeps it."""
    return json.dumps(spec.to_json())


def read_spec(text: str, name: str) -> ContainerSpec:
    """The spec of container ``name``'s record, of any version."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise _damaged(name, "its spec is not a JSON object")
    try:
        checked = check_dict(_upgraded(data, name), SCHEMA, "spec")
    except ProtocolError as exc:
        raise _damaged(name, str(exc)) from None
    return ContainerSpec.from_checked(checked)


def _upgraded(data: dict[str, Any], name: str) -> dict[str, Any]:
    """An older version's spec in today's shape: what those versions did is what the
    container keeps doing (they ran without a network unless it was the host's)."""
    values = dict(data)
    if "network" in values:  # before user networks: "host" or "none"
        values.setdefault("network_mode", values.pop("network") or "none")
    for key in ("ports", "exposed", "aliases"):
        values.setdefault(key, [])
    values.setdefault("name", name)
    # what a later version added and this one does not know (the record of a newer
    # Skiff, run again by an older one) is left out: the helper would refuse it all
    return {key: value for key, value in values.items() if key in SCHEMA}


def _damaged(name: str, why: str) -> DamagedState:
    return DamagedState(f"the record of container {name} cannot be read ({why}): remove it "
                        f"(skiff rm -f {name}) and create it again")
