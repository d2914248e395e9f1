"""Image references as docker reads and prints them (distribution/reference's normalisation)."""

from __future__ import annotations

import pytest

from engine.errors import InvalidArgument
from engine.images.reference import Reference, api_host, familiar, registry_host, split_familiar

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "canonical", "familiar_form"), [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("registry-1.docker.io/user/app:1", "docker.io/user/app:1", "user/app:1"),
    ("user/app", "docker.io/user/app:latest", "user/app:latest"),
    ("ghcr.io/org/app:v2", "ghcr.io/org/app:v2", "ghcr.io/org/app:v2"),
    ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
    ("127.0.0.1:5000/team/web", "127.0.0.1:5000/team/web:latest",
     "127.0.0.1:5000/team/web:latest"),
    ("[::1]:5000/web:1", "[::1]:5000/web:1", "[::1]:5000/web:1"),
    (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}", f"busybox@{DIGEST}"),
    (f"busybox:1@{DIGEST}", f"docker.io/library/busybox:1@{DIGEST}", f"busybox:1@{DIGEST}"),
    ("a_b__c-d.e/f", "docker.io/a_b__c-d.e/f:latest", "a_b__c-d.e/f:latest"),
])
def test_docker_normalisation(text: str, canonical: str, familiar_form: str) -> None:
    ref = Reference.parse(text)
    assert ref.canonical == canonical
    assert ref.familiar == familiar_form
    assert Reference.parse(ref.canonical) == ref  # stored forms read back the same


def test_hub_api_host_and_paths() -> None:
    ref = Reference.parse("busybox")
    assert (ref.registry, ref.repository, ref.api_host) == (
        "docker.io", "library/busybox", "registry-1.docker.io")
    assert Reference.parse("127.0.0.1:5000/x").api_host == "127.0.0.1:5000"


@pytest.mark.parametrize("text", [
    "", " busybox", "Busybox", "busybox:", "busybox:-x", "busybox@sha256:12",
    "busybox@md5:" + "a" * 32, "a//b", "-a", "a/", "busybox:" + "t" * 129,
])
def test_bad_references_are_one_line_errors(text: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^invalid reference format") as caught:
        Reference.parse(text)
    assert "\n" not in str(caught.value)


def test_uppercase_says_why() -> None:
    with pytest.raises(InvalidArgument, match="repository names must be lowercase"):
        Reference.parse("User/App")


@pytest.mark.parametrize(("text", "short", "parts"), [
    ("docker.io/library/busybox:1", "busybox:1", ("busybox", "1", "")),
    ("docker.io/library/busybox", "busybox", ("busybox", "", "")),  # no :latest added
    ("docker.io/user/app:1", "user/app:1", ("user/app", "1", "")),
    ("127.0.0.1:5000/x/y", "127.0.0.1:5000/x/y", ("127.0.0.1:5000/x/y", "", "")),
    (f"docker.io/library/busybox:1.36@{DIGEST}", f"busybox:1.36@{DIGEST}",
     ("busybox", "1.36", DIGEST)),
    ("<none>", "<none>", ("<none>", "", "")),  # not a reference: as it is
])
def test_familiar_forms_for_display(text: str, short: str, parts: tuple[str, str, str]) -> None:
    assert familiar(text) == short
    assert split_familiar(text) == parts


@pytest.mark.parametrize(("text", "host", "api"), [
    ("docker.io", "docker.io", "registry-1.docker.io"),
    ("https://index.docker.io/v1/", "docker.io", "registry-1.docker.io"),
    ("registry.hub.docker.com", "docker.io", "registry-1.docker.io"),
    ("Registry-1.Docker.IO", "docker.io", "registry-1.docker.io"),
    ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000", "127.0.0.1:5000"),
    ("ghcr.io", "ghcr.io", "ghcr.io"),
    ("", "", ""),
])
def test_registry_names_as_logins_and_configs_write_them(text: str, host: str, api: str) -> None:
    assert registry_host(text) == host
    assert api_host(text) == api


@pytest.mark.parametrize("text", ["not a host", "a b:5000", "host:port", "-"])
def test_no_host_is_no_registry(text: str) -> None:
    assert registry_host(text) == ""
