"""The credentials file (docker's format, 0600) and the read-only fallbacks."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from engine.errors import RegistryError
from engine.images.reference import api_host
from engine.registry.credentials import DOCKER_HUB_KEY, Credentials, CredentialStore
from engine.registry.endpoints import EndpointPolicy, insecure_from_settings


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_store_writes_docker_format_with_mode_0600(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "skiff" / "auth.json", fallbacks=[])
    store.store("127.0.0.1:5000", Credentials("alice", "s3:cret"))
    store.store("docker.io", Credentials("bob", "pw"))
    path = tmp_path / "skiff" / "auth.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"auths": {
        "127.0.0.1:5000": {"auth": _auth("alice", "s3:cret")},
        DOCKER_HUB_KEY: {"auth": _auth("bob", "pw")},
    }}
    assert store.get("127.0.0.1:5000") == Credentials("alice", "s3:cret")
    assert store.get("index.docker.io") == Credentials("bob", "pw")
    assert store.get("registry-1.docker.io") == Credentials("bob", "pw")
    assert store.get("127.0.0.1:5001") is None


def test_store_replaces_and_remove_forgets(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "auth.json", fallbacks=[])
    store.store("https://ghcr.io/v2/", Credentials("a", "1"))
    store.store("ghcr.io", Credentials("b", "2"))
    assert json.loads((tmp_path / "auth.json").read_text())["auths"] == {
        "ghcr.io": {"auth": _auth("b", "2")}}
    assert store.remove("ghcr.io") is True
    assert store.get("ghcr.io") is None
    assert store.remove("ghcr.io") is False


def test_docker_and_podman_files_are_read_never_written(tmp_path: Path) -> None:
    docker = tmp_path / "docker.json"
    docker.write_text(json.dumps({"auths": {
        "https://index.docker.io/v1/": {"auth": _auth("hubuser", "hubpw")},
        "http://myreg:5000": {"auth": _auth("reguser", "regpw")},
    }, "credsStore": "desktop"}))
    podman = tmp_path / "podman.json"
    podman.write_text(json.dumps({"auths": {"quay.io": {"auth": _auth("q", "qpw")}}}))
    before = docker.read_text(), podman.read_text()
    store = CredentialStore(tmp_path / "auth.json", fallbacks=[docker, podman])
    assert store.get("docker.io") == Credentials("hubuser", "hubpw")
    assert store.get("myreg:5000") == Credentials("reguser", "regpw")
    assert store.get("quay.io") == Credentials("q", "qpw")
    store.store("docker.io", Credentials("mine", "minepw"))
    assert store.get("docker.io") == Credentials("mine", "minepw")  # Skiff's file first
    store.remove("quay.io")
    assert store.get("quay.io") == Credentials("q", "qpw")
    assert (docker.read_text(), podman.read_text()) == before


def test_broken_fallback_is_ignored_broken_own_file_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    store = CredentialStore(tmp_path / "auth.json", fallbacks=[broken])
    assert store.get("quay.io") is None
    (tmp_path / "auth.json").write_text("{not json")
    with pytest.raises(RegistryError, match="is not valid JSON; fix or remove it"):
        store.store("quay.io", Credentials("a", "b"))


def test_password_never_in_repr() -> None:
    assert "hunter2" not in repr(Credentials("a", "hunter2"))


def test_endpoints_https_unless_local_or_insecure() -> None:
    policy = EndpointPolicy(["myreg.lan:5000", "http://other.lan/"])
    assert api_host("docker.io") == "registry-1.docker.io"
    assert [e.base_url for e in policy.candidates("docker.io")] == ["https://registry-1.docker.io"]
    assert all(e.verify for e in policy.candidates("ghcr.io"))
    for host in ("127.0.0.1:5000", "localhost:5000", "[::1]:5000", "myreg.lan:5000",
                 "other.lan"):
        assert [e.scheme for e in policy.candidates(host)] == ["https", "http"], host
    assert [e.scheme for e in policy.candidates("myreg.lan:5001")] == ["https"]


def test_insecure_registries_from_env_and_settings(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("SKIFF_INSECURE_REGISTRIES", "a.lan:5000, b.lan")
    (tmp_path / "skiff").mkdir()
    (tmp_path / "skiff" / "registries.json").write_text('{"insecure": ["c.lan"]}')
    assert insecure_from_settings() == ["a.lan:5000", "b.lan", "c.lan"]
