"""Which stages a build runs, and the build arguments each sees.

``--target`` picks the stage (the last by default); only the stages it needs
are built: its base when that is a stage, and every stage a ``COPY --from``
names, transitively. ARGs before the first FROM (the meta args) take their
``--build-arg`` values and are what FROM lines expand with; a stage sees an
ARG only once it declares it. The proxy variables are predefined: passed with
``--build-arg`` they reach RUN without a declaration, but stay out of the
history and the cache key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.build.dockerfile import Instruction, Parsed, Stage
from engine.build.words import expand
from engine.errors import InvalidArgument

__all__ = ["PROXY_ARGS", "BuildPlan", "arg_pairs", "plan_build"]

PROXY_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
              "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


@dataclass
class BuildPlan:
    parsed: Parsed
    meta: dict[str, str]  # the meta args' values
    stages: list[Stage]  # the stages to build, in order
    target: Stage
    total: int  # steps: each FROM and each instruction of the stages built
    used_args: set[str] = field(default_factory=set)


def arg_pairs(ins: Instruction) -> list[tuple[str, str | None]]:
    """ARG A=1 B → [("A", "1"), ("B", None)]."""
    pairs: list[tuple[str, str | None]] = []
    for text in ins.args:
        name, sep, default = text.partition("=")
        if not name:
            raise ins.error("ARG names can not be blank")
        pairs.append((name, default if sep else None))
    return pairs


def plan_build(parsed: Parsed, build_args: Mapping[str, str], target: str) -> BuildPlan:
    meta: dict[str, str] = {}
    used: set[str] = set()
    for ins in parsed.meta_args:
        for name, default in arg_pairs(ins):
            if name in build_args:
                meta[name] = build_args[name]
                used.add(name)
            elif default is not None:
                meta[name] = expand(default, meta, parsed.escape)
            elif name in meta:
                continue
    stages = parsed.stages
    if target:
        chosen = [s for s in stages if s.name == target.lower()]
        if not chosen:
            raise InvalidArgument(f"failed to reach build target {target} in Dockerfile: "
                                  "target stage not found")
        goal = chosen[0]
    else:
        goal = stages[-1]
    needed: set[int] = set()
    pending = [goal]
    while pending:
        stage = pending.pop()
        if stage.index in needed:
            continue
        needed.add(stage.index)
        for ref in _stage_refs(stage, parsed, meta):
            other = _find_stage(stages[: stage.index], ref)
            if other is not None:
                pending.append(other)
    chosen_stages = [s for s in stages if s.index in needed]
    total = sum(1 + len(s.instructions) for s in chosen_stages)
    return BuildPlan(parsed, meta, chosen_stages, goal, total, used)


def _stage_refs(stage: Stage, parsed: Parsed, meta: Mapping[str, str]) -> list[str]:
    refs = [expand(stage.base, meta, parsed.escape)]
    for ins in stage.instructions:
        if ins.keyword == "COPY" and "from" in ins.flags:
            refs.append(expand(ins.flag("from"), meta, parsed.escape))
    return refs


def _find_stage(earlier: list[Stage], ref: str) -> Stage | None:
    if ref.isdigit():
        index = int(ref)
        return earlier[index] if index < len(earlier) else None
    for stage in earlier:
        if stage.name and stage.name == ref.lower():
            return stage
    return None


def find_stage(earlier: list[Stage], ref: str) -> Stage | None:
    """The stage ``ref`` (a name or an index) names among ``earlier`` ones."""
    return _find_stage(earlier, ref)
