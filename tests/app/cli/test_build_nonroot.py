"""``skiff build`` as a desktop user who is not root, through the real pkexec and installed
helper: RUN runs in the user's user namespace, and what container root wrote belongs to
root in the image (not to the user's uid or subordinate ids)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.fixtures.desktopuser import DesktopUser

pytestmark = pytest.mark.root


def test_build_as_a_user(desktop_user: DesktopUser, user_busybox: str) -> None:
    context = desktop_user.home / "buildctx"
    desktop_user.run(["mkdir", "-p", str(context)], check=True)
    dockerfile = ("FROM busybox\nCOPY note.txt /note.txt\n"
                  "RUN echo made > /made && mkdir /owned && chown 7:8 /owned && id -u\n"
                  "CMD [\"cat\", \"/made\"]\n")
    desktop_user.run(["sh", "-c", f"cat > {context}/Dockerfile"], input=dockerfile, check=True)
    desktop_user.run(["sh", "-c", f"echo note > {context}/note.txt"], check=True)
    try:
        built = desktop_user.skiff("build", "-t", "userbuild:1", str(context), check=True)
        assert "Successfully tagged userbuild:1" in built.stdout
        assert "\n0\n" in built.stdout  # RUN ran as container root
        assert desktop_user.skiff("run", "--rm", "userbuild:1", check=True).stdout == "made\n"
        listing = desktop_user.skiff("run", "--rm", "userbuild:1", "ls", "-ln", "/", "/owned",
                                     check=True).stdout
        made = next(line for line in listing.splitlines() if line.endswith(" made"))
        assert made.split()[2:4] == ["0", "0"]
        owned = next(line for line in listing.splitlines() if line.endswith(" owned"))
        assert owned.split()[2:4] == ["7", "8"]
        saved = desktop_user.home / "userbuild.tar"
        desktop_user.skiff("save", "-o", str(saved), "userbuild:1", check=True)
        inspect = subprocess.run(["skopeo", "inspect", "--config", f"docker-archive:{saved}"],
                                 capture_output=True, text=True, check=True)
        assert json.loads(inspect.stdout)["config"]["Cmd"] == ["cat", "/made"]
    finally:
        desktop_user.skiff("rmi", "-f", "userbuild:1")
        desktop_user.skiff("image", "prune", "-f")
