"""A desktop user's look into their own volume, mounted by no container: it works,
what they copy in is their container root's, and a symlink in the volume leads
nowhere outside it (the installed Skiff, the harness's user: tests/fixtures)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.desktopuser import DesktopUser

pytestmark = pytest.mark.root

DRIVER = """
import asyncio, sys
from pathlib import Path
from engine import Engine, NotFound

async def main():
    async with Engine() as engine:
        names = [e.name for e in await engine.volumes.list_files("uservol", "/")]
        print("listed", " ".join(sorted(names)))
        print("read", (await engine.volumes.read_file("uservol", "/made")).decode().strip())
        try:
            await engine.volumes.read_file("uservol", "/shadow")
            print("shadow READ")
        except NotFound:
            print("shadow not found")
        await engine.volumes.copy_to("uservol", Path(sys.argv[1]), "/")

asyncio.run(main())
"""


@pytest.fixture
def user(desktop_user: DesktopUser, user_busybox: str) -> Iterator[DesktopUser]:
    yield desktop_user
    desktop_user.skiff("volume", "rm", "-f", "uservol")
    desktop_user.clean()


def test_a_users_volume_is_browsed_and_copied_into_as_their_own(user: DesktopUser) -> None:
    made = user.skiff("run", "--rm", "-v", "uservol:/v", "busybox", "sh", "-c",
                      "echo by-container-root > /v/made && ln -s /etc/shadow /v/shadow")
    assert made.returncode == 0, made.stderr
    driver = user.home / "volume_driver.py"
    driver.write_text(DRIVER)
    local = user.home / "from-host"
    local.write_text("from the host\n")
    os.chown(local, user.uid, user.gid)
    python = user.installation.prefix / "lib" / "skiff" / "bin" / "python"
    out = user.run([str(python), "-I", str(driver), str(local)])
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["listed made shadow", "read by-container-root",
                                       "shadow not found"], out.stdout
    seen = user.skiff("run", "--rm", "-v", "uservol:/v", "busybox", "sh", "-c",
                      "cat /v/from-host; stat -c %u /v/from-host")
    assert seen.stdout.splitlines() == ["from the host", "0"], seen.stderr
    found = list((user.installation.helper_root / "users" / str(user.uid) / "volumes"
                  / "uservol").rglob("from-host"))
    assert found and all(Path(f).stat().st_uid == user.uid for f in found)
