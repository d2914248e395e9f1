"""Loading compose files as Docker Compose does: discovery, .env, interpolation, schema,
merging, profiles, the normalised model (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.compose.files import normalize_project_name
from engine.compose.interpolate import InterpolationError, substitute
from engine.compose.loader import LoadOptions, Project, load_project
from engine.compose.render import render_yaml
from engine.errors import InvalidArgument


def _load(tmp_path: Path, text: str, *, name: str = "compose.yaml", environ: dict[str, str]
          | None = None, **options: object) -> Project:
    (tmp_path / name).write_text(text)
    return load_project(LoadOptions(workdir=tmp_path, environ=environ or {},
                                    **options))  # type: ignore[arg-type]


ENV = {"SET": "value", "EMPTY": ""}


@pytest.mark.parametrize(("text", "expected"), [
    ("$SET ${SET}", "value value"),
    ("${UNSET}|$UNSET", "|"),
    ("${UNSET:-default} ${EMPTY:-default} ${EMPTY-default} ${UNSET-d2}",
     "default default  d2"),
    ("${SET:+yes}|${EMPTY:+yes}|${EMPTY+yes}|${UNSET+yes}", "yes||yes|"),
    ("$$SET $${SET} cost: $$5", "$SET ${SET} cost: $5"),
    ("${UNSET:-${SET}}", "value"),
    ("${EMPTY?unused}", ""),
])
def test_interpolation_follows_compose(text: str, expected: str) -> None:
    assert substitute(text, ENV) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("${UNSET:?tell me}", "required variable UNSET is missing a value: tell me"),
    ("${EMPTY:?}", "required variable EMPTY is missing a value"),
    ("${UNSET?}", "required variable UNSET is missing a value"),
    ("${", "invalid interpolation format"),
    ("${SET:x}", "invalid interpolation format"),
    ("$-", "invalid interpolation format"),
])
def test_bad_interpolation_is_an_error(text: str, message: str) -> None:
    with pytest.raises(InterpolationError, match=message.replace("?", r"\?")):
        substitute(text, ENV)


def test_files_found_in_a_parent_with_their_override_and_the_dotenv(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  web:\n    image: busybox:${TAG}\n    environment: [A=1, B=2]\n")
    (tmp_path / "docker-compose.override.yml").write_text(
        "services:\n  web:\n    environment: {B: '3'}\n    command: echo hi\n")
    (tmp_path / ".env").write_text("# comment\nTAG=1.36 # trailing\nexport OTHER='x y'\n")
    below = tmp_path / "Sub Dir"
    below.mkdir()
    project = load_project(LoadOptions(workdir=below, environ={}))
    assert [f.name for f in project.files] == ["docker-compose.yml", "docker-compose.override.yml"]
    assert project.name == normalize_project_name(tmp_path.name)
    web = project.services["web"]
    assert web["image"] == "busybox:1.36"
    assert web["environment"] == {"A": "1", "B": "3"}
    assert web["command"] == ["echo", "hi"]
    assert project.environment["OTHER"] == "x y"


def test_the_environment_beats_dotenv_and_names_come_from_flags_env_file_or_dir(
        tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TAG=from-dotenv\nCOMPOSE_PROJECT_NAME=fromenv\n")
    text = "name: fromfile\nservices:\n  web:\n    image: busybox:${TAG}\n"
    project = _load(tmp_path, text, environ={"TAG": "from-env"})
    assert project.services["web"]["image"] == "busybox:from-env"
    assert project.name == "fromenv"
    assert _load(tmp_path, text, project_name="flag").name == "flag"
    (tmp_path / ".env").unlink()
    assert _load(tmp_path, text).name == "fromfile"
    assert normalize_project_name("My_App.v2") == "my_appv2"
    with pytest.raises(InvalidArgument, match="invalid project name"):
        _load(tmp_path, text, project_name="Bad Name")


def test_f_files_merge_in_order(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "services:\n  web:\n    image: busybox\n    ports: ['80:80']\n"
        "    volumes: ['data:/data', './a:/a']\n    labels: {x: '1'}\n"
        "    command: [sleep, '1']\nvolumes:\n  data: {}\n")
    (tmp_path / "prod.yaml").write_text(
        "services:\n  web:\n    ports: ['443:443']\n    volumes: ['./b:/a:ro']\n"
        "    labels: [y=2]\n    command: [sleep, '2']\n")
    project = load_project(LoadOptions(files=[Path("base.yaml"), Path("prod.yaml")],
                                       workdir=tmp_path, environ={}))
    web = project.services["web"]
    assert [p["target"] for p in web["ports"]] == [80, 443]
    assert [(v["target"], v.get("source")) for v in web["volumes"]] == [
        ("/data", "data"), ("/a", str(tmp_path / "b"))]
    assert web["volumes"][1]["read_only"] is True
    assert web["labels"] == {"x": "1", "y": "2"}
    assert web["command"] == ["sleep", "2"]
    assert project.volumes == {"data": {"name": f"{project.name}_data"}}


def test_profiles_enable_services(tmp_path: Path) -> None:
    text = ("services:\n  web:\n    image: busybox\n  debug:\n    image: busybox\n"
            "    profiles: [dev]\n")
    assert sorted(_load(tmp_path, text).services) == ["web"]
    assert sorted(_load(tmp_path, text, profiles=["dev"]).services) == ["debug", "web"]
    assert sorted(_load(tmp_path, text, environ={"COMPOSE_PROFILES": "dev"}).services) == [
        "debug", "web"]


@pytest.mark.parametrize(("text", "message"), [
    ("services:\n  web:\n    image: busybox\n    bogus: 1\n",
     "compose.yaml:4: services.web: additional properties 'bogus' not allowed"),
    ("services:\n  web:\n    image: [busybox]\n",
     "compose.yaml:3: services.web.image: must be a string"),
    ("services:\n  web:\n    image: busybox\n    ports:\n      - 'eighty'\n",
     "services.web.ports[0]: invalid port 'eighty'"),
    ("services:\n  web:\n    image: busybox\n    ports:\n      - '70000:80'\n",
     "services.web.ports[0]: invalid port '70000:80'"),
    ("services:\n  web:\n    image: busybox\n    volumes: [data:/data]\n",
     'service "web" refers to undefined volume data'),
    ("services:\n  web:\n    image: busybox\n    depends_on: [db]\n",
     'service "web" depends on undefined service "db"'),
    ("services:\n  web:\n    command: 'true'\n",
     'service "web" has neither an image nor a build context'),
    ("services:\n  web:\n    image: busybox\n    command: true\n",
     "compose.yaml:4: services.web.command: must be a null or string or array"),
    ("services:\n  web: [\n", "compose.yaml:3: not valid YAML"),
    ("[]\n", "top-level object must be a mapping"),
])
def test_bad_files_say_where_and_why(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)


def test_a_dependency_cycle_is_refused(tmp_path: Path) -> None:
    project = _load(tmp_path, "services:\n  a:\n    image: busybox\n    depends_on: [b]\n"
                    "  b:\n    image: busybox\n    depends_on: [a]\n")
    with pytest.raises(InvalidArgument, match="dependency cycle"):
        project.order()


def test_plain_scalars_are_read_as_compose_reads_them(tmp_path: Path) -> None:
    project = _load(tmp_path, "services:\n  a:\n    image: busybox\n    environment:\n"
                    "      YES: on\n      NO: false\n      OCT: 017\n      HEX: 0x1f\n"
                    "      TIME: 12:30\n      DAY: 2024-01-01\n    ports: [80:80]\n")
    a = project.services["a"]
    assert a["environment"] == {"YES": "on", "NO": "false", "OCT": "15", "HEX": "31",
                                "TIME": "12:30", "DAY": "2024-01-01"}
    assert [(p["target"], p["published"]) for p in a["ports"]] == [(80, "80")]


def test_a_command_string_splits_as_compose_splits_it(tmp_path: Path) -> None:
    project = _load(tmp_path, "services:\n  a:\n    image: busybox\n"
                    "    command: echo 'a && b' c\\;d && sleep 1\n"
                    "    environment: {F: 1.0, G: 1.5}\n")
    # go-shellwords stops at the first unquoted ; & | < or > (use sh -c for more)
    assert project.services["a"]["command"] == ["echo", "a && b", "c;d"]
    assert project.services["a"]["environment"] == {"F": "1", "G": "1.5"}


def test_the_default_network_needs_no_declaration_when_named(tmp_path: Path) -> None:
    project = _load(tmp_path, "name: p\nservices:\n  a:\n    image: busybox\n"
                    "    networks: {default: {aliases: [x]}, back: {}}\nnetworks:\n  back: {}\n")
    assert project.networks == {"default": {"name": "p_default"}, "back": {"name": "p_back"}}


def test_the_normalised_model(tmp_path: Path) -> None:
    text = """
services:
  web:
    image: busybox
    command: sh -c 'echo "a b"'
    environment: [FROM_HOST, NOT_SET]
    env_file: web.env
    ports: ["127.0.0.1:8000-8001:80-81/udp", {target: 90, published: 9090}]
    volumes: ["/srv:/srv:ro", "logs:/logs", "/anon"]
    depends_on:
      db: {condition: service_healthy}
  db:
    image: busybox
    networks: {back: {aliases: [database]}}
networks:
  back: {}
volumes:
  logs: {external: true}
"""
    (tmp_path / "web.env").write_text("FILE_VAR=1\nFROM_HOST=file\n")
    project = _load(tmp_path, text, environ={"FROM_HOST": "host"})
    web = project.services["web"]
    assert web["command"] == ["sh", "-c", 'echo "a b"']
    # as `docker compose config`: a variable the environment lacks stays, null (unset)
    assert web["environment"] == {"FILE_VAR": "1", "FROM_HOST": "host", "NOT_SET": None}
    assert web["ports"] == [
        {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "published": "8000",
         "protocol": "udp"},
        {"mode": "ingress", "host_ip": "127.0.0.1", "target": 81, "published": "8001",
         "protocol": "udp"},
        {"mode": "ingress", "target": 90, "published": "9090", "protocol": "tcp"}]
    assert web["volumes"] == [
        {"type": "bind", "source": "/srv", "target": "/srv", "bind": {"create_host_path": True},
         "read_only": True},
        {"type": "volume", "source": "logs", "target": "/logs", "volume": {}},
        {"type": "volume", "target": "/anon", "volume": {}}]
    assert web["depends_on"] == {"db": {"condition": "service_healthy", "required": True}}
    assert web["networks"] == {"default": None}
    assert project.networks == {"back": {"name": f"{project.name}_back"},
                                "default": {"name": f"{project.name}_default"}}
    assert project.volumes == {"logs": {"external": True, "name": "logs"}}
    assert project.order() == ["db", "web"]
    rendered = render_yaml(project.to_dict())
    assert rendered.startswith(f"name: {project.name}\nservices:\n  db:\n")


def test_extends_takes_a_base_service_from_this_file_or_another(tmp_path: Path) -> None:
    (tmp_path / "common.yaml").write_text(
        "services:\n  base:\n    image: busybox\n    environment: {A: '1', B: '1'}\n"
        "    labels: [kind=common]\n")
    project = _load(tmp_path, """
services:
  local:
    image: busybox:1
    command: [sleep, '1']
  web:
    extends: {file: common.yaml, service: base}
    environment: {B: '2'}
  worker:
    extends: local
    command: [sleep, '2']
""")
    web, worker = project.services["web"], project.services["worker"]
    assert (web["image"], web["environment"], web["labels"]) == (
        "busybox", {"A": "1", "B": "2"}, {"kind": "common"})
    assert (worker["image"], worker["command"]) == ("busybox:1", ["sleep", "2"])
    with pytest.raises(InvalidArgument, match='cannot extend service "nope"'):
        _load(tmp_path, "services:\n  web:\n    extends: nope\n")
    with pytest.raises(InvalidArgument, match="circular reference"):
        _load(tmp_path, "services:\n  a:\n    extends: b\n  b:\n    extends: a\n")


def test_include_brings_in_another_files_resources(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "compose.yaml").write_text(
        "services:\n  db:\n    image: busybox\n    volumes: [./init:/init, data:/data]\n"
        "volumes:\n  data: {}\n")
    project = _load(tmp_path, "include: [db/compose.yaml]\nservices:\n  web:\n"
                    "    image: busybox\n    depends_on: [db]\n")
    assert sorted(project.services) == ["db", "web"]
    assert project.services["db"]["volumes"][0]["source"] == str(tmp_path / "db" / "init")
    assert "data" in project.volumes
    with pytest.raises(InvalidArgument, match=r"services\.db conflicts with imported resource"):
        _load(tmp_path, "include: [db/compose.yaml]\nservices:\n  db:\n    image: busybox\n")
