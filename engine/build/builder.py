"""Build an image from a Dockerfile: the stages in order, each instruction one step.

Each step ends in an image of the store, found in the build cache by its key
(engine/build/cache.py) or made: metadata instructions change the config
(engine/build/metadata.py), COPY and ADD write a layer from a plan
(engine/build/copying.py), RUN runs in a real container and takes its changes
(engine/build/runstep.py). The final image of the target stage gets the tags.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.build.cache import BuildCache, step_key
from engine.build.classic import nop, nop_copy
from engine.build.context import BuildContext
from engine.build.dockerfile import Instruction, Stage, parse, parse_trigger
from engine.build.events import BuildEvent
from engine.build.fsindex import FileIndex
from engine.build.imagedoc import DEFAULT_PATH, encode, scratch_config, step_config
from engine.build.metadata import METADATA, apply_metadata
from engine.build.plan import PROXY_ARGS, BuildPlan, arg_pairs, find_stage, plan_build
from engine.build.seam import EngineSeam
from engine.build.words import expand
from engine.errors import InvalidArgument
from engine.images.model import Image, Layer

__all__ = ["BuildOptions", "BuildResult", "Builder", "StageState"]

Progress = Callable[[BuildEvent], None]


@dataclass(frozen=True)
class BuildOptions:
    dockerfile: str = "Dockerfile"
    tags: tuple[str, ...] = ()
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str = ""
    no_cache: bool = False
    pull: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    network: str = "default"
    platform: str = ""
    extra_hosts: tuple[str, ...] = ()  # "host:ip" for the RUN steps' /etc/hosts
    cache_from: tuple[str, ...] = ()  # given: only steps these images were built from hit


@dataclass(frozen=True)
class BuildResult:
    image_id: str
    tags: tuple[str, ...]
    cached_steps: int
    steps: int


@dataclass
class StageState:
    """A stage being built: its current image and what is in scope."""

    doc: dict[str, Any]  # the OCI config, whole
    layers: list[Layer]
    image_id: str  # "" until the stage has an image of its own (FROM scratch)
    args: dict[str, str] = field(default_factory=dict)
    cmd_set: bool = False
    platform: str = ""

    @property
    def run(self) -> dict[str, Any]:
        value = self.doc.get("config") or {}
        return value if isinstance(value, dict) else {}

    @property
    def parent_key(self) -> str:
        return self.image_id or f"scratch:{self.platform}"

    def env(self) -> dict[str, str]:
        """What words expand with: the stage's ARGs, under its ENV."""
        values = dict(self.args)
        for item in self.run.get("Env") or []:
            key, _, value = str(item).partition("=")
            values[key] = value
        return values


class Builder:
    def __init__(self, seam: EngineSeam, context: BuildContext, options: BuildOptions,
                 progress: Progress | None = None) -> None:
        self.seam = seam
        self.context = context
        self.options = options
        self.progress = progress or (lambda _e: None)
        self.cache = BuildCache(seam.db)
        self.step = 0
        self.cached = 0
        self.results: dict[int, Image] = {}
        self.indexes: dict[str, FileIndex] = {}
        self.plan: BuildPlan | None = None
        self.escape = "\\"

    def emit(self, kind: str, **fields: Any) -> None:
        total = self.plan.total if self.plan else 0
        self.progress(BuildEvent(kind, step=self.step, total=total, **fields))

    async def build(self) -> BuildResult:
        try:
            return await self._build()
        finally:  # RUN containers go while the next steps run: all gone before we end
            await self.seam.settle()

    async def _build(self) -> BuildResult:
        text, name = self.context.dockerfile(self.options.dockerfile)
        parsed = parse(text, name)
        self.escape = parsed.escape
        self.plan = plan = plan_build(parsed, self.options.build_args, self.options.target)
        final: Image | None = None
        for stage in plan.stages:
            final = await self._stage(stage)
            self.results[stage.index] = final
        assert final is not None
        if self.options.labels:
            final = await self._labelled(final)
        unused = sorted(set(self.options.build_args) - plan.used_args - set(PROXY_ARGS))
        if unused:
            self.emit("warning", text=f"One or more build-args [{' '.join(unused)}] were "
                                      "not consumed")
        self.emit("built", image_id=final.id)
        for tag in self.options.tags:
            self.seam.tag(final.id, tag)
            self.emit("tagged", text=tag)
        self.seam.emit("build", final.id)
        return BuildResult(final.id, tuple(self.options.tags), self.cached, self.step)

    # -- stages ---------------------------------------------------------------------
    async def _stage(self, stage: Stage) -> Image:
        from engine.build import runstep, steps

        assert self.plan is not None
        self.step += 1
        from_text = f"FROM {stage.base}" + (f" AS {stage.name}" if stage.name else "")
        self.emit("step", text=from_text)
        state = await self._base(stage)
        if state.image_id:
            self.emit("step_done", image_id=state.image_id)
        triggers = list(state.run.get("OnBuild") or [])
        if triggers:
            state.run.pop("OnBuild", None)
            self.emit("output", text=f"# Executing {len(triggers)} build trigger"
                                     f"{'s' if len(triggers) > 1 else ''}\n")
            for text in triggers:
                trigger = parse_trigger(text, stage_file(self), stage.line)
                await self._instruction(state, trigger, steps, runstep, count=False)
        for ins in stage.instructions:
            self.step += 1
            self.emit("step", text=_shown(ins))
            await self._instruction(state, ins, steps, runstep)
        if not state.image_id:  # FROM scratch and nothing else: an empty image
            await self._commit(state, state.run, "", None, {}, key="", history=False)
        image = self.seam.find_image(state.image_id)
        assert image is not None
        return image

    async def _base(self, stage: Stage) -> StageState:
        assert self.plan is not None
        from engine.registry.platforms import host

        platform = expand(stage.platform, self.plan.meta, self.escape) if stage.platform \
            else self.options.platform
        base = expand(stage.base, self.plan.meta, self.escape)
        if not base:
            raise InvalidArgument(f"{stage_file(self)}:{stage.line}: FROM: base name "
                                  f"({stage.base}) should not be blank")
        previous = find_stage(self.plan.parsed.stages[: stage.index], base)
        if previous is not None and not base.isdigit():
            image = self.results[previous.index]
            return _state(image, platform)
        if base.lower() == "scratch":
            wanted = host()
            if platform:
                from engine.registry.platforms import Platform

                wanted = Platform.parse(platform)
            doc = scratch_config(wanted.os, wanted.architecture, wanted.variant)
            return StageState(doc, [], "", platform=platform)
        image = await self.image(base, platform)
        return _state(image, platform)

    async def image(self, ref: str, platform: str) -> Image:
        """A base or --from image: the local one, else (or with --pull) pulled."""
        image = None if self.options.pull else self.seam.find_image(ref)
        if image is None:
            self.emit("output", text=f"Pulling {ref}\n")
            image = await self.seam.pull(ref, platform or None)
        return image

    def index(self, image_id: str, layers: list[Layer]) -> FileIndex:
        key = image_id or "scratch"
        if key not in self.indexes:
            self.indexes[key] = FileIndex(self.seam.blobs, layers,
                                          self.seam.root / "build-index")
        return self.indexes[key]

    # -- steps ----------------------------------------------------------------------
    async def _instruction(self, state: StageState, ins: Instruction, steps: Any,
                           runstep: Any, count: bool = True) -> None:
        assert self.plan is not None
        if ins.keyword == "ARG":
            await self._arg(state, ins)
        elif ins.keyword in METADATA:
            run = copy.deepcopy(state.run)
            text, top = apply_metadata(ins, state.env(), run, self.escape,
                                       cmd_set=state.cmd_set)
            created_by = (nop_copy if ins.keyword == "WORKDIR" else nop)(run.get("Shell"), text)
            if ins.keyword == "CMD":
                state.cmd_set = True
            key = step_key(state.parent_key, ins.original, self.scope_args(state))
            if not await self._reuse(state, key):
                layer = None
                if ins.keyword == "WORKDIR":
                    layer = await steps.workdir_layer(self, state, str(run["WorkingDir"]))
                await self._commit(state, run, created_by, layer, top, key=key)
        elif ins.keyword in ("COPY", "ADD"):
            await steps.copy_step(self, state, ins)
        elif ins.keyword == "RUN":
            await runstep.run_step(self, state, ins)
        else:
            raise ins.error("not supported")

    async def _arg(self, state: StageState, ins: Instruction) -> None:
        assert self.plan is not None
        from engine.build.platformargs import platform_args

        automatic = platform_args(state.platform)
        shown = []
        for name, default in arg_pairs(ins):
            if default is not None:
                default = expand(default, state.env(), self.escape)
            if name in self.options.build_args:
                value: str | None = self.options.build_args[name]
                self.plan.used_args.add(name)
            elif default is not None:
                value = default
            elif name in self.plan.meta:
                value = self.plan.meta[name]
            else:
                value = automatic.get(name)
            if value is not None:
                state.args[name] = value
            shown.append(name if default is None else f"{name}={default}")
        key = step_key(state.parent_key, ins.original, self.scope_args(state))
        if not await self._reuse(state, key):
            await self._commit(state, state.run, nop(state.run.get("Shell"),
                                                     "ARG " + " ".join(shown)),
                               None, {}, key=key)

    def scope_args(self, state: StageState) -> list[tuple[str, str]]:
        return sorted(state.args.items())

    def run_env(self, state: StageState) -> list[str]:
        """A RUN's extra environment: the ARGs in scope the ENV does not set, and the
        proxy variables passed as build args."""
        env_keys = {str(e).partition("=")[0] for e in state.run.get("Env") or []}
        values = {k: v for k, v in state.args.items() if k not in env_keys}
        for name in PROXY_ARGS:
            if name in self.options.build_args and name not in values:
                values[name] = self.options.build_args[name]
        return [f"{k}={v}" for k, v in values.items()]

    async def _reuse(self, state: StageState, key: str) -> bool:
        """Take the cached result of the step with ``key``, if there is one."""
        if self.options.no_cache:
            return False
        image_id = self.cache.lookup(key)
        image = self.seam.find_image(image_id) if image_id else None
        if image is None or not self._in_cache_sources(image):
            return False
        self.cached += 1
        self.emit("cached")
        grew = len(image.layers) > len(state.layers)
        state.doc = copy.deepcopy(image.config)
        state.layers = list(image.layers)
        state.image_id = image.id
        size = self.seam.images.layer_sizes().get(image.layers[-1].diff_id, 0) if grew else 0
        self.emit("step_done", image_id=image.id, cached=True, size=size)
        return True

    def _in_cache_sources(self, image: Image) -> bool:
        """Without ``cache_from``, every cached step counts; with it (the classic
        builder's rule), only one some named image was built on: its layers and
        history begin that image's. A name that is no image brings no cache."""
        if not self.options.cache_from:
            return True
        history = image.config.get("history") or []
        layers = [layer.diff_id for layer in image.layers]
        for ref in self.options.cache_from:
            source = self.seam.find_image(ref)
            if source is None:
                continue
            theirs = source.config.get("history") or []
            if ([layer.diff_id for layer in source.layers[:len(layers)]] == layers
                    and theirs[:len(history)] == history):
                return True
        return False

    async def _commit(self, state: StageState, run: dict[str, Any], created_by: str,
                      layer: Layer | None, top: dict[str, Any], *, key: str,
                      history: bool = True) -> Image:
        doc = copy.deepcopy(state.doc)
        doc.update(top)
        if history:
            doc = step_config(doc, run, created_by, layer)
        layers = [*state.layers, *([layer] if layer is not None else [])]
        manifest, config = encode(doc, layers)
        image = await self.seam.add_image(manifest, config, layers, parent=state.image_id)
        if key:
            self.cache.record(key, state.parent_key, image.id)
        state.doc, state.layers, state.image_id = doc, layers, image.id
        size = self.seam.images.layer_sizes().get(layer.diff_id, 0) if layer else 0
        self.emit("step_done", image_id=image.id, cached=False, size=size)
        return image

    async def _labelled(self, image: Image) -> Image:
        doc = copy.deepcopy(image.config)
        run = doc.setdefault("config", {})
        run["Labels"] = {**(run.get("Labels") or {}), **self.options.labels}
        manifest, config = encode(doc, list(image.layers))
        labelled = await self.seam.add_image(manifest, config, list(image.layers),
                                             parent=image.id)
        # Recorded like a step: rmi and prune take the steps below it along.
        key = step_key(image.id, "--label", sorted(self.options.labels.items()))
        self.cache.record(key, image.id, labelled.id)
        return labelled


def stage_file(builder: Builder) -> str:
    return os.path.basename(builder.options.dockerfile or "Dockerfile")


def _shown(ins: Instruction) -> str:
    return ins.original.split("\n", 1)[0] if not ins.heredocs else ins.original.rstrip("\n")


def _state(image: Image, platform: str) -> StageState:
    """A stage on ``image``: its config, with the default PATH when it sets none (as
    the classic builder begins every stage)."""
    state = StageState(copy.deepcopy(image.config), list(image.layers), image.id,
                       platform=platform)
    env = list(state.run.get("Env") or [])
    if not any(str(e).startswith("PATH=") for e in env):
        state.doc.setdefault("config", {})
        state.doc["config"] = {**state.run, "Env": [*env, DEFAULT_PATH]}
    return state
