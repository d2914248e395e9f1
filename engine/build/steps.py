"""The steps that write files without a container: COPY, ADD, and WORKDIR's directory.

Each plans what the layer holds (engine/build/copying.py), keys the cache with
the plan's digest, and only on a miss writes the layer tar and stores it.
"""

from __future__ import annotations

import email.utils
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from engine.build.cache import step_key
from engine.build.classic import copy_text, nop_copy
from engine.build.copying import CopyItem, CopyPlan, CopyRequest, plan_copy, write_plan
from engine.build.dockerfile import Instruction
from engine.build.fsindex import FileIndex
from engine.build.ignore import parse_ignore
from engine.build.layertar import Meta
from engine.build.owners import resolve_owner
from engine.build.words import expand, expand_variables
from engine.errors import InvalidArgument
from engine.images.model import Layer

if TYPE_CHECKING:
    from engine.build.builder import Builder, StageState

__all__ = ["copy_step", "workdir_layer"]


async def copy_step(builder: Builder, state: StageState, ins: Instruction) -> None:
    env = state.env()
    escape = builder.escape
    index = builder.index(state.image_id, state.layers)
    args = [expand(a, env, escape) if not a.startswith("<<") else a for a in ins.args]
    exclude = None
    if ins.flags.get("exclude"):
        patterns = [expand(p, env, escape) for p in ins.flag("exclude").splitlines()]
        exclude = parse_ignore("\n".join(p for p in patterns if p))
    parents = "parents" in ins.flags and ins.flags["parents"] not in ("false", "0")
    if parents and "from" in ins.flags:
        raise ins.error("--parents with --from is not supported by skiff build")
    if ins.keyword == "ADD" and "keep-git-dir" in ins.flags:
        raise ins.error("--keep-git-dir is for git sources, which skiff build does not take")
    checksum = expand(ins.flag("checksum"), env, escape) if ins.flags.get("checksum") else ""
    if checksum and not checksum.startswith("sha256:"):
        raise ins.error(f"invalid --checksum {checksum!r}: use sha256:<hex>")
    owner = None
    if ins.flags.get("chown"):
        owner = resolve_owner(expand(ins.flag("chown"), env, escape), index)
    chmod = None
    if ins.flags.get("chmod"):
        text = expand(ins.flag("chmod"), env, escape)
        try:
            chmod = int(text, 8)
        except ValueError:
            raise ins.error(f"invalid --chmod value {text!r}: use an octal mode") from None
        if not 0 <= chmod <= 0o7777:
            raise ins.error(f"invalid --chmod value {text!r}")
    heredocs = _heredoc_sources(ins, env, escape)
    source_index = None
    source_id = ""
    if "from" in ins.flags:
        source_id, source_index = await _from(builder, ins, env)
    request = CopyRequest(args[:-1], args[-1], str(state.run.get("WorkingDir") or "/"),
                          owner, chmod, ins.keyword == "ADD", exclude, parents)
    with tempfile.TemporaryDirectory(prefix="skiff-add-", dir=builder.seam.root) as scratch:
        plan = plan_copy(request, index, context=builder.context,
                         source_image=source_index, heredocs=heredocs,
                         download=lambda url: _download(url, Path(scratch)))
        key = step_key(state.parent_key, ins.original, builder.scope_args(state),
                       f"{source_id}{plan.key()}")
        if checksum:
            _check_sums(ins, plan, checksum)
        if await builder._reuse(state, key):
            return
        created_by = nop_copy(state.run.get("Shell"), copy_text(
            ins.keyword, plan, builder.context, heredocs, args[-1],
            expand(ins.flag("chown"), env, escape) if ins.flags.get("chown") else "",
            expand(ins.flag("chmod"), env, escape) if ins.flags.get("chmod") else ""))
        await _commit_plan(builder, state, plan, key, created_by)


def _check_sums(ins: Instruction, plan: CopyPlan, checksum: str) -> None:
    """ADD --checksum: every file it takes (a download, a local file) has that digest."""
    for item in plan.items:
        if item.kind in ("file", "archive") and item.host is not None and \
                f"sha256:{item.digest}" != checksum:
            raise ins.error(f"digest mismatch for {item.dest}: sha256:{item.digest} != "
                            f"{checksum}")


def _heredoc_sources(ins: Instruction, env: dict[str, str], escape: str) -> dict[str, bytes]:
    """``<<EOF``-style sources and their content: ``<<-`` strips leading tabs, and an
    unquoted delimiter has its variables expanded, as BuildKit does."""
    found: dict[str, bytes] = {}
    by_name = {h.name: h.content for h in ins.heredocs}
    for arg in ins.args:
        if not arg.startswith("<<"):
            continue
        spec = arg[2:]
        strip = spec.startswith("-")
        name = spec.removeprefix("-")
        quoted = len(name) > 1 and name[0] == name[-1] and name[0] in "\"'"
        name = name[1:-1] if quoted else name
        if name not in by_name:
            continue
        content = by_name[name]
        if strip:
            content = "".join(line.lstrip("\t") for line in content.splitlines(keepends=True))
        if not quoted:
            content = expand_variables(content, env, escape)
        found[arg] = content.encode()
    return found


async def _commit_plan(builder: Builder, state: StageState, plan: CopyPlan, key: str,
                       created_by: str) -> None:
    layer = None
    with builder.seam.temporary() as tar:
        if write_plan(plan, tar):
            layer = await builder.seam.store_layer(tar)
    await builder._commit(state, state.run, created_by, layer, {}, key=key)


async def _from(builder: Builder, ins: Instruction, env: dict[str, str]
                ) -> tuple[str, FileIndex]:
    from engine.build.plan import find_stage

    assert builder.plan is not None
    ref = expand(ins.flag("from"), env, builder.escape)
    current = max(builder.results, default=-1) + 1
    stage = find_stage(builder.plan.parsed.stages[:current + 1], ref)
    if stage is not None and stage.index in builder.results:
        image = builder.results[stage.index]
    elif ref.isdigit():
        raise ins.error(f"invalid --from: stage {ref} is not an earlier stage")
    else:
        image = await builder.image(ref, "")
    return image.id, builder.index(image.id, list(image.layers))


def _download(url: str, into: Path) -> tuple[Path, float]:
    import httpx

    target = into / f"download-{len(list(into.iterdir()))}"
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            if response.status_code >= 400:
                raise InvalidArgument(f"failed to download {url}: HTTP {response.status_code}")
            with open(target, "wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            modified = response.headers.get("last-modified")
    except httpx.HTTPError as exc:
        raise InvalidArgument(f"failed to download {url}: {exc}") from None
    mtime = time.time()
    if modified:
        parsed = email.utils.parsedate_to_datetime(modified)
        if parsed is not None:
            mtime = parsed.timestamp()
    return target, mtime


async def workdir_layer(builder: Builder, state: StageState, workdir: str) -> Layer | None:
    """WORKDIR makes its directory when the image lacks it (root's, 0755, whatever the
    USER, as the classic builder does): the layer holding it, or None when it is there
    already."""
    index = builder.index(state.image_id, state.layers)
    if index.is_dir(workdir):
        return None
    uid, gid = 0, 0
    plan = CopyPlan()
    parts = [p for p in workdir.split("/") if p]
    now = time.time()
    for i in range(1, len(parts) + 1):
        path = "/" + "/".join(parts[:i])
        if not index.is_dir(path):
            plan.items.append(CopyItem(path, "dir", Meta(0o755, uid, gid, now)))
    with builder.seam.temporary() as tar:
        write_plan(plan, tar)
        return await builder.seam.store_layer(tar)
