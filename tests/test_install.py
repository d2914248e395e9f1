"""``make deb`` (and so ``make install`` with DESTDIR): what a desktop installation holds.

One package build, checked the way a distribution would: root-owned files that
nobody else can write, the helper wrapper and launchers pointing at the installed
copy (never at the build directory), the polkit action naming that wrapper, valid
.desktop and AppStream files, the Debian dependencies; and ``make uninstall``
taking it all away again. The install into a real prefix, run through pkexec, is
tests/fixtures/installed.py's (tests/engine/test_pkexec_e2e.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("deb-build")
    out = subprocess.run(["make", "-C", str(REPO), "--no-print-directory", "deb",
                          f"BUILD={build}", "DEB_COMPRESS=none"],
                         capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    [package] = build.glob("skiff_*.deb")
    return package


def _tree(deb: Path) -> Path:
    return deb.parent / "deb"


def test_the_package_says_what_it_needs(deb: Path) -> None:
    fields = subprocess.run(["dpkg-deb", "--field", str(deb), "Package", "Depends"],
                            capture_output=True, text=True, check=True).stdout
    assert "Package: skiff" in fields
    depends = [d.strip() for d in fields.split("Depends:", 1)[1].split(",")]
    for needed in ("pkexec | policykit-1", "polkitd | policykit-1", "iproute2",
                   "nftables | iptables", "libseccomp2", "libxcb-cursor0"):
        assert needed in depends
    assert any(d.startswith("python3 (>= 3.") for d in depends)
    assert any(d.startswith("python3 (<< 3.") for d in depends)


def test_every_file_is_roots_and_only_root_can_write_it(deb: Path) -> None:
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True,
                             text=True, check=True).stdout.splitlines()
    assert len(listing) > 100
    for line in listing:
        mode, owner = line.split()[:2]
        assert owner == "root/root", line
        if not mode.startswith("l"):
            assert mode[5] != "w" and mode[8] != "w", line
    names = {line.split()[5] for line in listing}
    assert {"./usr/libexec/skiff/skiff-helper", "./usr/bin/skiff", "./usr/bin/skiff-desktop",
            "./usr/share/polkit-1/actions/org.skiff.helper.policy",
            "./usr/share/applications/skiff-desktop.desktop",
            "./usr/share/icons/hicolor/scalable/apps/skiff.svg",
            "./usr/share/metainfo/org.skiff.Skiff.metainfo.xml",
            "./usr/share/doc/skiff/50-skiff.rules.example",
            "./usr/lib/systemd/user/skiff-serve.socket",
            "./usr/lib/systemd/user/skiff-serve.service",
            "./usr/lib/skiff/installation.json"} <= names
    assert any(n.endswith("/site-packages/engine/helper/server.py") for n in names)
    assert not any(n.endswith(("/site-packages/pip/__init__.py", ".egg-link")) for n in names)


def test_the_helper_and_launchers_run_the_installed_copy_isolated(deb: Path) -> None:
    tree = _tree(deb)
    helper = (tree / "usr/libexec/skiff/skiff-helper").read_text()
    assert helper.splitlines()[-1] == 'exec /usr/lib/skiff/bin/python -I -m engine.helper "$@"'
    launchers = {"skiff": "#!/usr/lib/skiff/bin/python -IS",  # site: only when needed
                 "skiff-desktop": "#!/usr/lib/skiff/bin/python -I"}
    for launcher, first in launchers.items():
        assert (tree / "usr/bin" / launcher).read_text().splitlines()[0] == first
    skiff = (tree / "usr/bin/skiff").read_text()
    assert 'sys.path.append("/usr/lib/skiff/lib/python%d.%d/site-packages"' in skiff
    assert 'console(helper_root="/var/lib/skiff/helper")' in skiff
    service = (tree / "usr/lib/systemd/user/skiff-serve.service").read_text()
    assert "ExecStart=/usr/bin/skiff serve" in service.splitlines()
    config = json.loads((tree / "usr/lib/skiff/installation.json").read_text())
    assert config == {"prefix": "/usr", "helper": "/usr/libexec/skiff/skiff-helper",
                      "helper_root": "/var/lib/skiff/helper", "cgroup_parent": "skiff",
                      "net_prefix": "skiff", "net_table": "skiff",
                      "polkit_action": "org.skiff.helper"}
    leaks = subprocess.run(["grep", "-rl", str(tree), str(tree)], capture_output=True,
                           text=True).stdout
    assert leaks == "", f"files name the build directory: {leaks}"


def test_the_polkit_action_authorises_the_wrapper_once_per_session(deb: Path) -> None:
    policy = ET.parse(_tree(deb) / "usr/share/polkit-1/actions/org.skiff.helper.policy")
    [action] = policy.getroot().iter("action")
    assert action.get("id") == "org.skiff.helper"
    annotations = {a.get("key"): a.text for a in action.iter("annotate")}
    assert annotations == {"org.freedesktop.policykit.exec.path":
                           "/usr/libexec/skiff/skiff-helper"}
    defaults = action.find("defaults")
    assert defaults is not None
    assert {d.tag: d.text for d in defaults} == {
        "allow_any": "auth_admin_keep", "allow_inactive": "auth_admin_keep",
        "allow_active": "auth_admin_keep"}
    rule = (_tree(deb) / "usr/share/doc/skiff/50-skiff.rules.example").read_text()
    assert 'action.id == "org.skiff.helper" && subject.isInGroup("skiff")' in rule


@pytest.mark.parametrize(("tool", "args", "path"), [
    ("desktop-file-validate", [], "usr/share/applications/skiff-desktop.desktop"),
    ("appstreamcli", ["validate", "--no-net", "--strict"],
     "usr/share/metainfo/org.skiff.Skiff.metainfo.xml"),
])
def test_desktop_files_are_valid(deb: Path, tool: str, args: list[str], path: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (make setup installs it)")
    out = subprocess.run([tool, *args, str(_tree(deb) / path)], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_uninstall_takes_everything_away(deb: Path) -> None:
    tree = _tree(deb)
    subprocess.run(["make", "-C", str(REPO), "--no-print-directory", "uninstall",
                    f"DESTDIR={tree}", "PREFIX=/usr"], capture_output=True, check=True)
    left = [str(p.relative_to(tree)) for p in tree.rglob("*") if not p.is_dir()]
    assert left == ["DEBIAN/control"]


def test_installing_for_real_needs_root(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run make as another user")
    out = subprocess.run(["runuser", "-u", "nobody", "--", "make", "-C", str(REPO),
                          "--no-print-directory", "install", f"PREFIX={tmp_path}/x"],
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert "make install: run it as root (sudo make install)" in out.stderr
