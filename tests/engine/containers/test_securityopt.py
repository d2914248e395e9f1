"""``--security-opt`` as Docker spells and stores it, and what the helper is asked for."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.cli.options import UsageError, parse_security_opts
from engine.containers.cmdline import run_command
from engine.containers.config import ContainerConfig
from engine.containers.securityopt import normalize_security_opts, seccomp_request
from engine.errors import InvalidArgument

PROFILE = {"defaultAction": "SCMP_ACT_ERRNO",
           "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}
COMPACT = json.dumps(PROFILE, separators=(",", ":"))


def test_a_profile_file_is_read_and_stored_compacted(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(PROFILE, indent=4))
    assert normalize_security_opts([f"seccomp={path}"]) == [f"seccomp={COMPACT}"]
    assert normalize_security_opts([f"seccomp:{path}"]) == [f"seccomp={COMPACT}"]
    # what is stored reads back the same: the window and `run_command` recreate it
    assert normalize_security_opts([f"seccomp={COMPACT}"]) == [f"seccomp={COMPACT}"]


def test_special_values_and_other_options() -> None:
    assert normalize_security_opts(
        ["seccomp=unconfined", "seccomp=builtin", "no-new-privileges", "no-new-privileges=true",
         "label=disable", "apparmor=unconfined"]) == [
        "seccomp=unconfined", "seccomp=builtin", "no-new-privileges",
        "no-new-privileges=true", "label=disable", "apparmor=unconfined"]


@pytest.mark.parametrize(("option", "message"), [
    ("seccomp=/no/such/file.json", r"opening seccomp profile \(/no/such/file.json\) failed: "
                                   "No such file or directory"),
    ("seccomp", "Skiff supports seccomp=unconfined"),
    ("seccomp=", "Skiff supports seccomp=unconfined"),
    ("apparmor=docker-default", "Skiff supports"),
    ("label=type:svirt_t", "Skiff supports"),
    ("no-new-privileges=false", "always runs containers with no-new-privileges"),
    ("seccomp={not json", "is not valid JSON"),
    ("seccomp=[1]", "opening seccomp profile"),
])
def test_mistakes_are_one_clear_line(option: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as info:
        normalize_security_opts([option])
    assert "\n" not in str(info.value)


def test_an_unreadable_or_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"defaultAction": ')
    with pytest.raises(InvalidArgument, match=r"\(.*broken.json\) is not valid JSON"):
        normalize_security_opts([f"seccomp={broken}"])
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(InvalidArgument, match="must be a JSON object"):
        normalize_security_opts([f"seccomp={listed}"])
    if os.geteuid() != 0:  # root reads anything
        secret = tmp_path / "secret.json"
        secret.write_text("{}")
        secret.chmod(0)
        with pytest.raises(InvalidArgument, match="Permission denied"):
            normalize_security_opts([f"seccomp={secret}"])


def test_the_cli_reports_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="opening seccomp profile"):
        parse_security_opts([f"seccomp={tmp_path / 'missing.json'}"])


def test_what_the_helper_is_asked_for() -> None:
    assert seccomp_request([]) is None
    assert seccomp_request(["no-new-privileges"]) is None
    assert seccomp_request(["seccomp=unconfined"]) == "unconfined"
    assert seccomp_request([f"seccomp={COMPACT}"]) == COMPACT
    assert seccomp_request(["seccomp=unconfined", "seccomp=builtin"]) is None  # the last wins


def test_the_command_line_shows_them() -> None:
    config = ContainerConfig(image="busybox", image_id="",
                             security_opt=["seccomp=unconfined"])
    assert "--security-opt seccomp=unconfined" in run_command(config)
