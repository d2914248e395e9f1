"""Legacy links' environment variables, as docker's daemon/links makes them."""

from __future__ import annotations

from engine.containers.links import link_environment


def test_ports_ranges_name_and_environment_as_docker_names_them() -> None:
    found = link_environment("web", "db-1", "172.17.0.2",
                             ["53/udp", "82/tcp", "80/tcp", "6379/tcp", "81/tcp", "54/udp"],
                             ["PATH=/bin", "HOME=/root", "PASSWORD=a=b", "BARE"])
    assert found[0] == "DB_1_PORT=tcp://172.17.0.2:80"  # the lowest, tcp first
    variables = dict(item.split("=", 1) for item in found)
    assert len(variables) == len(found)
    for number, protocol in ((80, "tcp"), (81, "tcp"), (82, "tcp"), (6379, "tcp"),
                             (53, "udp"), (54, "udp")):
        name = f"DB_1_PORT_{number}_{protocol.upper()}"
        assert variables[name] == f"{protocol}://172.17.0.2:{number}"
        assert variables[f"{name}_ADDR"] == "172.17.0.2"
        assert variables[f"{name}_PORT"] == str(number)
        assert variables[f"{name}_PROTO"] == protocol
    # consecutive ports of one protocol are a range too; 6379 is alone
    assert {k: v for k, v in variables.items() if k.endswith(("_START", "_END"))} == {
        "DB_1_PORT_80_TCP_START": "tcp://172.17.0.2:80", "DB_1_PORT_80_TCP_PORT_START": "80",
        "DB_1_PORT_80_TCP_END": "tcp://172.17.0.2:82", "DB_1_PORT_80_TCP_PORT_END": "82",
        "DB_1_PORT_53_UDP_START": "udp://172.17.0.2:53", "DB_1_PORT_53_UDP_PORT_START": "53",
        "DB_1_PORT_53_UDP_END": "udp://172.17.0.2:54", "DB_1_PORT_53_UDP_PORT_END": "54"}
    assert variables["DB_1_NAME"] == "/web/db-1"
    # the linked container's variables, but HOME and PATH (and none without a value)
    assert {k: v for k, v in variables.items() if "_ENV_" in k} == {
        "DB_1_ENV_PASSWORD": "a=b"}


def test_a_container_exposing_nothing_gets_its_name_alone() -> None:
    assert link_environment("web", "cache", "10.0.0.5", [], []) == ["CACHE_NAME=/web/cache"]
