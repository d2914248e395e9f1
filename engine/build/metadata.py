"""The instructions that change only the image's config, and the history text of each.

Pure functions: an instruction, the variables in scope and the run config in,
the changed run config and the instruction's text for ``created_by`` out, in the
classic builder's words (``ENV A=1``, ``CMD ["sh" "-c" "x"]``, ``EXPOSE 80 53/udp``,
``WORKDIR /abs/path``); engine/build/classic.py puts the shell's ``#(nop)`` before it.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from engine.build.dockerfile import Instruction
from engine.build.words import expand, expand_words
from engine.errors import InvalidArgument
from engine.signals import parse_signal
from engine.timestamps import parse_duration

__all__ = ["METADATA", "apply_metadata", "go_list", "go_quoted", "shell_form"]

METADATA = ("ENV", "LABEL", "MAINTAINER", "WORKDIR", "USER", "CMD", "ENTRYPOINT", "EXPOSE",
            "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "ONBUILD")
DEFAULT_SHELL = ["/bin/sh", "-c"]
_PORT = re.compile(r"^(\d+)(?:-(\d+))?(?:/(tcp|udp|sctp))?$", re.IGNORECASE)


def go_quoted(items: list[str]) -> str:
    """Go's ``%q`` of a []string: ``["a" "b c"]``."""
    return "[" + " ".join(json.dumps(i, ensure_ascii=False) for i in items) + "]"


def go_list(items: list[str]) -> str:
    """Go's ``%v`` of a []string: ``[a b]``."""
    return "[" + " ".join(items) + "]"


def shell_form(ins: Instruction, shell: list[str] | None) -> list[str]:
    """The command of a CMD/ENTRYPOINT/RUN/HEALTHCHECK: exec form as is, shell form
    run by the stage's SHELL."""
    if ins.json:
        return list(ins.args)
    text = " ".join(ins.args)
    return [*(shell or DEFAULT_SHELL), text]


def _pairs(ins: Instruction, env: Mapping[str, str], escape: str) -> list[tuple[str, str]]:
    args = list(ins.args)
    if len(args) % 2:
        raise ins.error(f"{ins.keyword} requires key=value pairs")
    pairs = []
    for i in range(0, len(args), 2):
        key = expand(args[i], env, escape)
        if not key:
            raise ins.error(f"{ins.keyword} names must not be empty")
        pairs.append((key, expand(args[i + 1], env, escape)))
    return pairs


def apply_metadata(ins: Instruction, env: Mapping[str, str], run: dict[str, Any],
                   escape: str = "\\", *, cmd_set: bool = False) -> tuple[str, dict[str, Any]]:
    """(created_by, extra top-level config fields) after changing ``run`` in place."""
    keyword = ins.keyword
    top: dict[str, Any] = {}
    if keyword == "ENV":
        pairs = _pairs(ins, env, escape)
        current = {e.partition("=")[0]: e for e in run.get("Env") or []}
        for key, value in pairs:
            current[key] = f"{key}={value}"
        run["Env"] = list(current.values())
        return "ENV " + " ".join(f"{k}={v}" for k, v in pairs), top
    if keyword == "LABEL":
        pairs = _pairs(ins, env, escape)
        run["Labels"] = {**(run.get("Labels") or {}), **dict(pairs)}
        return "LABEL " + " ".join(f"{k}={v}" for k, v in pairs), top
    if keyword == "MAINTAINER":
        top["author"] = " ".join(ins.args)
        return f"MAINTAINER {top['author']}", top
    if keyword == "WORKDIR":
        value = expand(" ".join(ins.args), env, escape)
        base = run.get("WorkingDir") or "/"
        run["WorkingDir"] = posixpath.normpath(posixpath.join(base, value))
        return f"WORKDIR {run['WorkingDir']}", top
    if keyword == "USER":
        value = expand(ins.args[0], env, escape)
        if not value:
            raise ins.error("USER requires one argument")
        run["User"] = value
        return f"USER {value}", top
    if keyword in ("CMD", "ENTRYPOINT"):
        command = shell_form(ins, run.get("Shell"))
        if keyword == "CMD":
            run["Cmd"] = command
        else:
            run["Entrypoint"] = command
            if not cmd_set:
                run.pop("Cmd", None)  # an ENTRYPOINT drops the base image's CMD
        return f"{keyword} {go_quoted(command)}", top
    if keyword == "EXPOSE":
        ports = dict(run.get("ExposedPorts") or {})
        words = [w for a in ins.args for w in expand_words(a, env, escape)]
        for word in words:
            match = _PORT.match(word)
            if not match:
                raise ins.error(f"invalid containerPort: {word}")
            first, last = int(match.group(1)), int(match.group(2) or match.group(1))
            protocol = (match.group(3) or "tcp").lower()
            if not 0 < first <= last < 65536:
                raise ins.error(f"invalid containerPort: {word}")
            for number in range(first, last + 1):
                ports[f"{number}/{protocol}"] = {}
        run["ExposedPorts"] = ports
        return "EXPOSE " + " ".join(words), top
    if keyword == "VOLUME":
        paths = [expand(a, env, escape) for a in ins.args] if ins.json else \
            [w for a in ins.args for w in expand_words(a, env, escape)]
        if not paths or any(not p.strip() for p in paths):
            raise ins.error("VOLUME specified can not be an empty string")
        run["Volumes"] = {**(run.get("Volumes") or {}), **{p: {} for p in paths}}
        return f"VOLUME {go_list(paths)}", top
    if keyword == "STOPSIGNAL":
        value = expand(ins.args[0], env, escape)
        try:
            parse_signal(value)
        except InvalidArgument:
            raise ins.error(f"Invalid signal: {value}") from None
        run["StopSignal"] = value
        return f"STOPSIGNAL {value}", top
    if keyword == "HEALTHCHECK":
        from engine.build.classic import go_healthcheck

        run["Healthcheck"] = _healthcheck(ins, run.get("Shell"))
        return go_healthcheck(run["Healthcheck"]), top
    if keyword == "SHELL":
        run["Shell"] = list(ins.args)
        return f"SHELL {go_list(list(ins.args))}", top
    if keyword == "ONBUILD":
        run["OnBuild"] = [*(run.get("OnBuild") or []), ins.trigger]
        return f"ONBUILD {ins.trigger}", top
    raise ins.error("is not a metadata instruction")


def _healthcheck(ins: Instruction, shell: list[str] | None) -> dict[str, Any]:
    args = list(ins.args)
    kind = args[0].upper() if args else ""
    if kind == "NONE":
        if len(args) > 1 or ins.flags:
            raise ins.error("HEALTHCHECK NONE takes no arguments")
        return {"Test": ["NONE"]}
    if kind != "CMD":
        raise ins.error(f"Unknown type {args[0] if args else ''!r} in HEALTHCHECK "
                        "(try CMD)")
    rest = args[1:]
    if ins.json:
        test = ["CMD", *rest]
    else:
        text = " ".join(rest)
        # The parser keeps "CMD <command>" as one value for the shell form.
        if not rest and " " in args[0]:
            text = args[0].split(" ", 1)[1]
        test = ["CMD-SHELL", text]
    check: dict[str, Any] = {"Test": test}
    for flag, key in (("interval", "Interval"), ("timeout", "Timeout"),
                      ("start-period", "StartPeriod"), ("start-interval", "StartInterval")):
        if flag in ins.flags:
            value = ins.flag(flag)
            ns = parse_duration(value)
            if ns is None or ns < 0:
                raise ins.error(f"invalid duration for --{flag}: {value!r}")
            if ns and ns < 1_000_000:
                raise ins.error(f"Interval {flag} cannot be less than 1ms")
            check[key] = ns
    if "retries" in ins.flags:
        value = ins.flag("retries")
        if not value.isdigit():
            raise ins.error(f"invalid --retries value: {value!r}")
        check["Retries"] = int(value)
    return check
