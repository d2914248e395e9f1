"""Authentication against real registries: Bearer tokens (anonymous and with
credentials, reuse), htpasswd Basic auth, login and logout."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import AuthenticationError
from engine.images.reference import Reference
from engine.registry.auth import parse_challenges
from engine.registry.credentials import Credentials
from tests.fixtures.registry import PASSWORD, USER, LocalRegistry, ServiceKit

Kit = Callable[..., ServiceKit]


def test_parse_challenges() -> None:
    found = parse_challenges('Bearer realm="https://auth.example/token",'
                             'service="registry.example",scope="repository:a/b:pull,push",'
                             'error="insufficient_scope", Basic realm="x y"')
    assert [c.scheme for c in found] == ["bearer", "basic"]
    assert found[0].realm == "https://auth.example/token"
    assert found[0].service == "registry.example"
    assert found[0].scopes == ["repository:a/b:pull,push"]
    assert found[1].realm == "x y"
    assert parse_challenges('Basic realm="a \\"quoted\\" realm"')[0].realm == 'a "quoted" realm'
    assert parse_challenges("") == []


def test_anonymous_bearer_token_and_reuse(token_registry: LocalRegistry,
                                          registry_service: Kit) -> None:
    kit = registry_service()
    issuer = token_registry.issuer
    assert issuer is not None
    ref = Reference.parse(f"{token_registry.host}/public/busybox")
    issuer.requests.clear()

    async def pull_twice() -> None:
        await kit.service.pull(ref, unpack=kit.unpack)
        await kit.service.pull(ref, unpack=kit.unpack)

    asyncio.run(pull_twice())
    # One anonymous token for the scope, reused by every request of both pulls.
    assert issuer.requests == [("", ["repository:public/busybox:pull"])]


def test_private_repository_needs_login(token_registry: LocalRegistry,
                                        registry_service: Kit) -> None:
    kit = registry_service()
    ref = Reference.parse(f"{token_registry.host}/private/busybox")
    with pytest.raises(AuthenticationError) as caught:
        asyncio.run(kit.service.pull(ref, unpack=kit.unpack))
    assert str(caught.value) == (
        f"pull access to manifest for {ref.familiar} denied: the repository does not exist "
        f"or requires you to log in (run `skiff login {token_registry.host}`)")
    assert kit.images.list() == []


def test_token_login_then_pull_private(token_registry: LocalRegistry,
                                       registry_service: Kit) -> None:
    kit = registry_service()
    issuer = token_registry.issuer
    assert issuer is not None
    ref = Reference.parse(f"{token_registry.host}/private/busybox")

    async def run() -> None:
        await kit.service.login(token_registry.host, USER, PASSWORD)
        issuer.requests.clear()
        await kit.service.pull(ref, unpack=kit.unpack)
        await kit.service.pull(ref, unpack=kit.unpack)

    asyncio.run(run())
    assert kit.credentials.get(token_registry.host) == Credentials(USER, PASSWORD)
    # Token requests carry the user; the second pull reused the first one's token.
    assert issuer.requests == [(USER, ["repository:private/busybox:pull"])]
    assert kit.images.get(ref.canonical).repo_tags == [ref.canonical]


def test_token_login_with_wrong_password_is_refused(token_registry: LocalRegistry,
                                                    registry_service: Kit) -> None:
    kit = registry_service()
    with pytest.raises(AuthenticationError) as caught:
        asyncio.run(kit.service.login(token_registry.host, USER, "wrong"))
    assert str(caught.value) == (
        f"{token_registry.host} did not accept the username and password of 'alice' "
        f"(wrong username or password?); run `skiff login {token_registry.host}` again")
    assert not kit.credentials.path.exists()


def test_stale_stored_password_gives_a_clear_pull_error(token_registry: LocalRegistry,
                                                        registry_service: Kit) -> None:
    kit = registry_service()
    kit.credentials.store(token_registry.host, Credentials(USER, "changed-since"))
    ref = Reference.parse(f"{token_registry.host}/public/busybox")
    with pytest.raises(AuthenticationError, match="did not accept the username and password"):
        asyncio.run(kit.service.pull(ref, unpack=kit.unpack))


def test_basic_auth_pull_needs_login(basic_registry: LocalRegistry,
                                     registry_service: Kit) -> None:
    kit = registry_service()
    ref = Reference.parse(f"{basic_registry.host}/private/busybox")
    with pytest.raises(AuthenticationError, match=f"requires you to log in \\(run `skiff "
                                                  f"login {basic_registry.host}`\\)"):
        asyncio.run(kit.service.pull(ref, unpack=kit.unpack))


def test_basic_login_wrong_password_then_right_then_logout(basic_registry: LocalRegistry,
                                                           registry_service: Kit) -> None:
    kit = registry_service()
    ref = Reference.parse(f"{basic_registry.host}/private/busybox")
    path: Path = kit.credentials.path

    with pytest.raises(AuthenticationError, match="wrong username or password"):
        asyncio.run(kit.service.login(basic_registry.host, USER, "nope"))
    assert not path.exists()

    asyncio.run(kit.service.login(basic_registry.host, USER, PASSWORD))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(json.loads(path.read_text())["auths"]) == [basic_registry.host]
    image = asyncio.run(kit.service.pull(ref, unpack=kit.unpack))
    assert image.repo_tags == [ref.canonical]

    assert asyncio.run(kit.service.logout(basic_registry.host)) is True
    assert json.loads(path.read_text()) == {"auths": {}}
    assert asyncio.run(kit.service.logout(basic_registry.host)) is False
    with pytest.raises(AuthenticationError):
        asyncio.run(kit.service.pull(ref, unpack=kit.unpack))


def test_login_to_unreachable_registry_is_a_plain_sentence(registry_service: Kit) -> None:
    from tests.fixtures.registryservers import free_port

    kit = registry_service()
    host = f"127.0.0.1:{free_port()}"
    with pytest.raises(Exception) as caught:
        asyncio.run(kit.service.login(host, USER, PASSWORD))
    assert str(caught.value) == (f"cannot reach {host} while checking its API (/v2/): "
                                 "connection refused (is the registry running?)")


def test_token_cache_forgets_expired_tokens() -> None:
    import time

    from engine.registry.auth import TokenCache

    cache = TokenCache()
    key = TokenCache.key("https://auth/token", "svc", ["repository:a:pull"], "")
    assert key == TokenCache.key("https://auth/token", "svc", ["repository:a:pull"] * 2, "")
    assert key != TokenCache.key("https://auth/token", "svc", ["repository:b:pull"], "")
    assert key != TokenCache.key("https://auth/token", "svc", ["repository:a:pull"], "alice")
    cache.put(key, "long", 300)
    assert cache.get(key) == "long"
    cache.put(key, "short", 0.04)  # kept for three quarters of its life
    assert cache.get(key) == "short"
    time.sleep(0.05)
    assert cache.get(key) is None
