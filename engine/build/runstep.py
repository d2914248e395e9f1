"""RUN: the command in a real container on the step's image; its changes are the layer.

The container is an ordinary Skiff container (same isolation, the user's user
namespace for a non-root user) with the image's user, working directory and
environment plus the ARGs in scope; the shell form goes through SHELL; a heredoc
is the script itself. Its output is streamed as it comes; a non-zero exit stops
the build with Docker's message; the container is removed in every case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.build.cache import step_key
from engine.build.classic import run_text
from engine.build.dockerfile import Instruction
from engine.build.metadata import DEFAULT_SHELL, shell_form
from engine.build.runmounts import CACHE_LABEL, run_mounts
from engine.containers.config import ContainerConfig
from engine.errors import SkiffError

if TYPE_CHECKING:
    from engine.build.builder import Builder, StageState

__all__ = ["BuildStepFailed", "command_of", "run_step"]

_NETWORKS = {"default": "default", "none": "none", "host": "host"}


class BuildStepFailed(SkiffError):
    """A RUN exited non-zero: the build stops with its code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def command_of(ins: Instruction, shell: list[str] | None) -> list[str]:
    if ins.heredocs and not ins.json:
        text = " ".join(ins.args).strip()
        first = ins.heredocs[0]
        marks = {f"<<{dash}{quote}{first.name}{quote}" for dash in ("", "-")
                 for quote in ("", '"', "'")}
        if text in marks and len(ins.heredocs) == 1:
            content = first.content
            if text.startswith("<<-"):
                content = "".join(line.lstrip("\t") for line in content.splitlines(True))
            return [*(shell or DEFAULT_SHELL), content]
        # The shell reads the heredocs itself: hand it the whole script.
        body = "".join(f"{h.content}{h.name}\n" for h in ins.heredocs)
        return [*(shell or DEFAULT_SHELL), f"{text}\n{body}"]
    return shell_form(ins, shell)


def _created_by(builder: Builder, state: StageState, command: list[str]) -> str:
    """The classic builder's: the build args in scope that ENV does not set, then the
    command."""
    env_keys = {str(e).partition("=")[0] for e in state.run.get("Env") or []}
    return run_text(command, [(k, v) for k, v in builder.scope_args(state)
                              if k not in env_keys])


async def run_step(builder: Builder, state: StageState, ins: Instruction) -> None:
    if "security" in ins.flags:
        raise ins.error("--security is not supported by skiff build")
    network = ins.flag("network", builder.options.network or "default")
    if network not in _NETWORKS and ins.flags.get("network") is not None:
        raise ins.error(f"invalid --network {network!r}: use default, none or host")
    command = command_of(ins, state.run.get("Shell"))
    key = step_key(state.parent_key, ins.original, builder.scope_args(state),
                   f"network={network}")
    if await builder._reuse(state, key):
        return
    if not state.image_id:  # FROM scratch: the container needs an image of its own
        await builder._commit(state, state.run, "", None, {}, key="", history=False)
    run = state.run
    mounts = run_mounts(ins, builder.context, str(run.get("WorkingDir") or "/"))
    for mount in mounts:
        if mount.cache_volume:
            await builder.seam.ensure_volume(mount.cache_volume, {CACHE_LABEL: "1"})
    config = ContainerConfig(
        image=state.image_id, image_id=state.image_id, cmd=command, entrypoint=[],
        env=builder.run_env(state), working_dir=str(run.get("WorkingDir") or ""),
        user=str(run.get("User") or ""), network=_NETWORKS.get(network, network),
        labels={"org.skiff.build": "1"}, mounts=[m.spec for m in mounts],
        extra_hosts=list(builder.options.extra_hosts))

    ran: list[str] = []

    def started(container_id: str) -> None:
        ran.append(container_id)
        builder.emit("running", container_id=container_id)

    def output(stream: str, data: bytes) -> None:
        builder.emit("output", text=data.decode(errors="replace"), stream=stream)

    code, layer = await builder.seam.run(config, output, started)
    builder.emit("removed", container_id=ran[0] if ran else "")
    if code != 0:
        raise BuildStepFailed(f"The command '{' '.join(command)}' returned a non-zero code: "
                              f"{code}", code)
    await builder._commit(state, run, _created_by(builder, state, command), layer, {},
                          key=key)
