"""Bringing a project's containers, networks and volumes up and down, as Compose does.

``up`` converges: per service, in dependency order (waiting for each
``depends_on`` condition), the containers whose config hash and image are
unchanged are left as they are (started if stopped), the others recreated;
replicas beyond the wanted number go. Every step is told to ``progress`` as
Compose prints it (``Container web-1  Started``). The project's objects are
found by their labels, so any client that labels as Compose does shares them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.compose.building import build_service, image_ref
from engine.compose.loader import Project
from engine.compose.planner import (
    HASH,
    NUMBER,
    ONEOFF,
    PROJECT,
    SERVICE,
    config_hash,
    container_config,
    container_name,
    ignored_fields,
)
from engine.compose.resources import ProjectResources
from engine.containers.model import Container
from engine.errors import InvalidArgument, NotFound, SkiffError

if TYPE_CHECKING:
    from engine.engine import Engine

__all__ = ["DependencyError", "Runner", "UpOptions"]

Progress = Callable[[str, str, str], None]  # kind (Container, Network...), name, what happened


class DependencyError(SkiffError):
    """A service's dependency did not reach its condition."""


@dataclass(frozen=True)
class UpOptions:
    services: Sequence[str] = ()
    no_deps: bool = False
    force_recreate: bool = False
    no_recreate: bool = False
    remove_orphans: bool = False
    start: bool = True
    build: bool = False  # --build: every service with a build section built first
    no_build: bool = False  # --no-build: a missing image is an error, not built
    wait: bool = False
    wait_timeout: float | None = None
    scale: dict[str, int] = field(default_factory=dict)
    recreate_volumes: bool = False  # -y: a volume the file changed is made again, empty


def _quiet(kind: str, name: str, what: str) -> None:
    return None


class Runner:
    def __init__(self, engine: Engine, project: Project,
                 progress: Progress = _quiet) -> None:
        self.engine = engine
        self.project = project
        self.progress = progress
        self._may_build = True

    # -- looking ---------------------------------------------------------------------
    async def containers(self, all: bool = True, oneoff: bool = False,
                         services: Sequence[str] = ()) -> list[Container]:
        """The project's containers (by label), by service and number."""
        found = [c for c in await self.engine.containers.list(all=all)
                 if c.config.labels.get(PROJECT) == self.project.name
                 and (oneoff or c.config.labels.get(ONEOFF) != "True")
                 and (not services or c.config.labels.get(SERVICE) in services)]
        return sorted(found, key=lambda c: (c.config.labels.get(SERVICE, ""),
                                            int(c.config.labels.get(NUMBER, "0") or 0),
                                            c.name))

    async def orphans(self) -> list[Container]:
        known = {*self.project.services, *self.project.disabled}
        return [c for c in await self.containers()
                if c.config.labels.get(SERVICE) not in known]

    # -- up --------------------------------------------------------------------------
    async def up(self, options: UpOptions = UpOptions()) -> list[Container]:
        project = self.project
        names = list(options.services) if options.no_deps else project.order(options.services)
        for name in names:
            if name not in project.services:
                raise InvalidArgument(f"no such service: {name}")
        orphans = await self.orphans()
        if orphans and options.remove_orphans:
            for container in orphans:
                await self._remove(container, timeout=None)
        elif orphans:
            self.progress("Warning", "", "Found orphan containers (["
                          + " ".join(c.name for c in orphans) + "]) for this project. If you "
                          "removed or renamed this service in your compose file, you can run "
                          "this command with the --remove-orphans flag to clean it up.")
        for name in names:
            for ignored in ignored_fields(project.services[name]):
                self.progress("Warning", "", f"services.{name}.{ignored} is not supported by "
                              "Skiff yet and is ignored")
        if options.build:
            await self.build([n for n in names if project.services[n].get("build")])
        self._may_build = not options.no_build
        await self.prepare(names, options.recreate_volumes)
        result: list[Container] = []
        for name in names:
            if options.start:
                await self._dependencies(name)
            result += await self._converge(name, options)
        if options.wait:
            await self.wait_ready(names, options.wait_timeout)
        return result

    async def prepare(self, services: Sequence[str], recreate_volumes: bool = False) -> None:
        """The networks and volumes these services use, created where missing and
        recreated where the file changed them (engine/compose/resources.py)."""
        async def mine(services: Sequence[str]) -> list[Container]:
            return await self.containers(services=services) if services else []

        async def stop(container: Container) -> None:
            await self._stop(container, timeout=None)

        async def remove(container: Container) -> None:
            await self._remove(container, timeout=None)

        resources = ProjectResources(self.engine, self.project, self.progress, mine, stop,
                                     remove)
        await resources.networks(services)
        await resources.volumes(services, recreate_volumes)

    async def build(self, services: Sequence[str] = (), no_cache: bool = False,
                    pull: bool = False) -> None:
        """compose build: the images of these services (or all) that have a build."""
        for name in services or sorted(self.project.services):
            if self.project.services[name].get("build"):
                await build_service(self.engine, self.project, name, self.progress,
                                    no_cache=no_cache, pull=pull)

    async def image_id(self, service: str) -> str:
        """The service's image: built or pulled when missing (as its pull_policy says)."""
        return await self._image(service)

    async def _image(self, service: str) -> str:
        spec = self.project.services[service]
        ref = image_ref(self.project, service)
        policy = str(spec.get("pull_policy") or "missing")
        if policy == "build" and self._may_build:
            return await build_service(self.engine, self.project, service, self.progress)
        try:
            if policy != "always":
                return (await self.engine.images.get(ref)).id
        except NotFound:
            if spec.get("build") and self._may_build:  # as Compose: built, not pulled
                return await build_service(self.engine, self.project, service, self.progress)
            if policy == "never" or spec.get("build"):
                raise NotFound(f"image {ref} not found; build it with `skiff compose build`"
                               if spec.get("build") else f"image {ref} not found") from None
        self.progress("Image", ref, "Pulling")
        image = await self.engine.images.pull(ref)
        self.progress("Image", ref, "Pulled")
        return image.id

    async def _converge(self, service: str, options: UpOptions) -> list[Container]:
        spec = self.project.services[service]
        wanted = options.scale.get(service, int(spec.get("scale") or (spec.get("deploy") or {})
                                                .get("replicas") or 1))
        image_id = await self._image(service)
        digest = config_hash(spec)
        have = {int(c.config.labels.get(NUMBER, "0") or 0): c
                for c in await self.containers(services=[service])}
        result = []
        for number in range(1, wanted + 1):
            container = have.pop(number, None)
            same = container is not None and container.config.labels.get(HASH) == digest \
                and container.config.image_id == image_id
            if container is not None and (options.no_recreate or
                                          (same and not options.force_recreate)):
                if options.start and not container.state.running:
                    container = await self._start(container)
                elif options.start:
                    self.progress("Container", container.name, "Running")
                result.append(container)
                continue
            name = container_name(self.project, service, number)
            if container is not None:
                await self._stop_dependents(service, options)
                self.progress("Container", container.name, "Recreate")
                await self._remove(container, timeout=None, quiet=True)
            self.progress("Container", name, "Creating")
            created = await self.engine.containers.create(
                container_config(self.project, service, image_id, number=number), name)
            await self._connect(service, created)
            self.progress("Container", name, "Created" if container is None else "Recreated")
            result.append(await self._start(created) if options.start else created)
        for extra in have.values():
            await self._remove(extra, timeout=None)
        return result

    def dependents(self, service: str, *, restart_only: bool = False) -> list[str]:
        """The services that depend on ``service`` (with ``restart: true``, if asked)."""
        return sorted(name for name, spec in self.project.services.items()
                      if service in (spec.get("depends_on") or {}) and
                      (not restart_only or spec["depends_on"][service].get("restart")))

    async def _stop_dependents(self, service: str, options: UpOptions) -> None:
        """depends_on.restart: the dependents that ``up`` also brings stop while ``service``
        is recreated, and start again after it (they come later in the order)."""
        if not options.start:
            return
        wanted = set(options.services) if options.no_deps else \
            set(self.project.order(options.services))
        names = [n for n in self.dependents(service, restart_only=True) if n in wanted]
        if names:
            await self.stop(names)

    async def _connect(self, service: str, container: Container) -> None:
        """The service's networks beyond its first, joined by the new container at each
        start (before its process runs) from now on."""
        networks = self.project.services.get(service, {}).get("networks") or {}
        for key in list(networks)[1:]:
            asked = networks[key] or {}
            aliases = [container.name, service, *(asked.get("aliases") or [])]
            await self.engine.networks.connect(str(self.project.networks[key]["name"]),
                                              container.id, aliases,
                                              str(asked.get("ipv4_address") or ""),
                                              str(asked.get("ipv6_address") or ""))

    async def _start(self, container: Container) -> Container:
        self.progress("Container", container.name, "Starting")
        started = await self.engine.containers.start(container.id)
        self.progress("Container", container.name, "Started")
        return started

    async def _dependencies(self, service: str) -> None:
        for dep, spec in sorted((self.project.services[service].get("depends_on") or {}).items()):
            if dep not in self.project.services:
                continue  # an optional one (required: false) that is not enabled
            condition = spec.get("condition", "service_started")
            for container in await self.containers(services=[dep]):
                await self._condition(container, condition)

    async def _condition(self, container: Container, condition: str,
                         deadline: float | None = None) -> None:
        if condition == "service_started":
            return
        self.progress("Container", container.name, "Waiting")
        while True:
            current = await self.engine.containers.get(container.id)
            state = current.state
            if condition == "service_completed_successfully":
                if not state.running and state.started_at:
                    if state.exit_code != 0:
                        raise DependencyError(f'service "{container.config.labels[SERVICE]}" '
                                              f"didn't complete successfully: exit "
                                              f"{state.exit_code}")
                    self.progress("Container", container.name, "Exited")
                    return
            elif condition == "service_healthy":
                if current.config.healthcheck is None and state.health is None:
                    raise DependencyError(f"dependency failed to start: container "
                                          f"{container.name} has no healthcheck configured")
                if state.health is not None and state.health.status == "healthy":
                    self.progress("Container", container.name, "Healthy")
                    return
                if (state.health is not None and state.health.status == "unhealthy") or \
                        not state.running:
                    raise DependencyError(f"dependency failed to start: container "
                                          f"{container.name} is unhealthy")
            if deadline is not None and time.monotonic() > deadline:
                raise DependencyError(f"timeout waiting for {container.name}")
            await asyncio.sleep(0.1)

    async def report_health(self, services: Sequence[str] = (), timeout: float = 120) -> None:
        """Each container with a healthcheck told Healthy once it is (or why not, as a
        warning): the window's progress after Up, which fails on nothing."""
        deadline = time.monotonic() + timeout
        for container in await self.containers(services=services):
            check = container.config.healthcheck
            if check is not None and check.test[:1] != ["NONE"] and container.state.running:
                try:
                    await self._condition(container, "service_healthy", deadline)
                except DependencyError as exc:
                    self.progress("Warning", "", str(exc))

    async def wait_ready(self, services: Sequence[str], timeout: float | None) -> None:
        """``up --wait``: every container running, and healthy where it has a healthcheck."""
        deadline = None if timeout is None else time.monotonic() + timeout
        one_shot = {dep for spec in self.project.services.values()
                    for dep, d in (spec.get("depends_on") or {}).items()
                    if d.get("condition") == "service_completed_successfully"}
        for container in await self.containers(services=services):
            current = await self.engine.containers.get(container.id)
            if container.config.labels.get(SERVICE) in one_shot:
                continue  # its dependants waited for it to complete
            healthy = current.state.health is not None or current.config.healthcheck is not None
            await self._condition(current, "service_healthy" if healthy else "service_started",
                                  deadline)
            if not (await self.engine.containers.get(container.id)).state.running:
                raise DependencyError(f"container {container.name} exited "
                                      f"({current.state.exit_code})")

    # -- down and the rest -----------------------------------------------------------
    async def _stop(self, container: Container, timeout: int | None, quiet: bool = False
                    ) -> None:
        if container.state.running:
            if not quiet:
                self.progress("Container", container.name, "Stopping")
            await self.engine.containers.stop(container.id, timeout)
            if not quiet:
                self.progress("Container", container.name, "Stopped")

    async def _remove(self, container: Container, timeout: int | None, quiet: bool = False,
                      volumes: bool = False) -> None:
        if container.state.running:
            await self._stop(container, timeout, quiet)
        if not quiet:
            self.progress("Container", container.name, "Removing")
        await self.engine.containers.remove(container.id, force=True, volumes=volumes)
        if not quiet:
            self.progress("Container", container.name, "Removed")

    async def down(self, *, volumes: bool = False, timeout: int | None = None,
                   remove_orphans: bool = False, rmi: str = "") -> None:
        project = self.project
        order = {name: n for n, name in enumerate(project.order())}
        containers = await self.containers(oneoff=True)
        known = {*project.services, *project.disabled}
        if not remove_orphans and project.files:  # without files, every one is its own
            orphans = [c for c in containers if c.config.labels.get(SERVICE) not in known]
            containers = [c for c in containers if c not in orphans]
        containers.sort(key=lambda c: -order.get(c.config.labels.get(SERVICE, ""), -1))
        # --rmi all: every image the containers use; local: those named after the project
        images = {c.config.image for c in containers} if rmi == "all" else set()
        await asyncio.gather(*(self._stop(c, timeout) for c in containers))
        for container in containers:  # one at a time: the engine's removals repair as they go
            try:
                await self._remove(await self.engine.containers.get(container.id), timeout,
                                   volumes=volumes)
            except NotFound:
                continue  # a `run --rm` container the engine removed itself
        # Declared ones, and (without the files, `down -p NAME`) those labelled as its own.
        existing = await self.engine.networks.list()
        names = {str(s["name"]) for s in project.networks.values() if not s.get("external")}
        for network in existing:
            name = network.name
            if name in names or network.labels.get(PROJECT) == project.name:
                self.progress("Network", name, "Removing")
                await self.engine.networks.remove(name)
                self.progress("Network", name, "Removed")
        if volumes:
            names = {str(s["name"]) for s in project.volumes.values() if not s.get("external")}
            for volume in await self.engine.volumes.list():
                if volume.name in names or (volume.labels or {}).get(PROJECT) == project.name:
                    self.progress("Volume", volume.name, "Removing")
                    await self.engine.volumes.remove(volume.name)
                    self.progress("Volume", volume.name, "Removed")
        if rmi:
            for service, spec in project.services.items():
                ref = str(spec.get("image") or f"{project.name}-{service}")
                if rmi == "all" or not spec.get("image"):
                    images.add(ref)
            for ref in sorted(images):
                try:
                    await self.engine.images.remove(ref)
                    self.progress("Image", ref, "Removed")
                except (NotFound, SkiffError):
                    continue

    # -- the verbs on a project's services (compose start/stop/restart/kill/pause/...) -------
    async def _each(self, services: Sequence[str], reverse: bool,
                    act: Callable[[Container], Awaitable[object]],
                    skip: Callable[[Container], bool], doing: str, done: str,
                    dependencies: bool = False) -> None:
        """``act`` on the containers of ``services`` (or all) in dependency order (or its
        reverse); ``dependencies``: on the services they depend on too."""
        if self.project.services:
            order = [s for s in self.project.order(services)
                     if dependencies or not services or s in services]
        else:  # a project known by its labels alone: no dependencies to follow
            order = list(services) or sorted({c.config.labels.get(SERVICE, "")
                                              for c in await self.containers()})
        if reverse:
            order.reverse()
        by_service = {s: await self.containers(services=[s]) for s in order}
        for service in order:
            for container in by_service[service]:
                if skip(container):
                    continue
                self.progress("Container", container.name, doing)
                await act(container)
                self.progress("Container", container.name, done)

    def _with_dependents(self, services: Sequence[str]) -> list[str]:
        """``services`` and, transitively, what depends on them with ``restart: true``."""
        result = list(services)
        for name in result:
            result += [d for d in self.dependents(name, restart_only=True) if d not in result]
        return result

    async def start(self, services: Sequence[str] = ()) -> None:
        """compose start: the stopped containers, dependencies first, each dependency's
        condition met before its dependants start."""
        containers = self.engine.containers

        async def start(container: Container) -> None:
            if container.config.labels.get(SERVICE, "") in self.project.services:
                await self._dependencies(container.config.labels[SERVICE])
            await containers.start(container.id)

        await self._each(services, False, start, lambda c: c.state.running,
                         "Starting", "Started", dependencies=True)

    async def stop(self, services: Sequence[str] = (), timeout: int | None = None) -> None:
        """compose stop: these services (or all), dependants first."""
        await self._each(services, True, lambda c: self.engine.containers.stop(c.id, timeout),
                         lambda c: not c.state.running, "Stopping", "Stopped")

    async def restart(self, services: Sequence[str] = (), timeout: int | None = None) -> None:
        """compose restart: with the services that depend on these with ``restart: true``."""
        names = self._with_dependents(services) if services else services
        await self._each(names, False, lambda c: self.engine.containers.restart(c.id, timeout),
                         lambda c: False, "Restarting", "Started")

    async def kill(self, services: Sequence[str] = (), signal: str = "SIGKILL") -> None:
        await self._each(services, True, lambda c: self.engine.containers.kill(c.id, signal),
                         lambda c: not c.state.running, "Killing", "Killed")

    async def pause(self, services: Sequence[str] = ()) -> None:
        await self._each(services, True, lambda c: self.engine.containers.pause(c.id),
                         lambda c: not c.state.running or c.state.status.value == "paused",
                         "Pausing", "Paused")

    async def unpause(self, services: Sequence[str] = ()) -> None:
        await self._each(services, False, lambda c: self.engine.containers.unpause(c.id),
                         lambda c: c.state.status.value != "paused", "Unpausing", "Unpaused")

    async def remove(self, services: Sequence[str] = (), *, volumes: bool = False
                     ) -> list[Container]:
        """compose rm: the stopped containers; returns those removed."""
        doomed = [c for c in await self.containers(services=services) if not c.state.running]
        for container in doomed:
            await self._remove(container, None, volumes=volumes)
        return doomed

    async def pull(self, services: Sequence[str] = (), ignore_failures: bool = False) -> None:
        """compose pull: every service's image that names one."""
        for service in services or sorted(self.project.services):
            ref = self.project.services[service].get("image")
            if not ref:
                continue
            self.progress("Image", str(ref), "Pulling")
            try:
                await self.engine.images.pull(str(ref))
            except SkiffError:
                if not ignore_failures:
                    raise
                continue
            self.progress("Image", str(ref), "Pulled")
