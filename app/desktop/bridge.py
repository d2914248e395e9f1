"""The one object through which the window reaches the engine.

Widgets call plain methods (``start(ref)``, ``stop(ref)``...); each
runs an engine coroutine as a task on the qasync loop, tracked so closing the
window cancels it. Results come back as Qt signals, and so does every failure:
``error`` carries a sentence for the user, never a traceback. The engine's
event stream (whoever caused the change: this window, the ``skiff`` CLI, a
crash) is coalesced into batched ``containers_changed`` signals, so 200
containers changing at once cost one model update, not 200 round trips.
When the privileged helper cannot be started for this user (polkit said no,
no authentication agent...), ``helper_unavailable`` carries the sentence the
CLI prints too, for a dialog.

What is not the engine's way in lives next to its feature: making a container
(containers/createjob.py), applying new settings (containers/recreate.py), image and
registry verbs (images/verbs.py), the event thread's hand-over (eventpump.py), the
failure log line (utils/messages.py). They use the bridge; it imports none of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from PySide6.QtCore import QObject, Signal

from app.desktop.utils.messages import describe, log_failure
from engine import (
    Container,
    ContainerNotFound,
    Event,
    HelperUnavailable,
)

if TYPE_CHECKING:
    from engine import ContainerDetails, Engine

__all__ = ["Bridge", "EngineLike"]

log = logging.getLogger(__name__)


T = TypeVar("T")
#: A verb's task; None once the bridge is closed.
Pending: TypeAlias = "asyncio.Task[Any] | None"
EngineLike: TypeAlias = "Engine"  # what the factory gives: tests pass their own Engine

#: Above this many changed containers in one batch, one full listing is cheaper.
FULL_REFRESH_AT = 16
COALESCE_SECONDS = 0.05
POLL_SECONDS = 1.0
#: Once the event stream has begun, the listing again of what changed before it waits
#: this long: at launch it would come before the window's first paint.
RELIST_SECONDS = 0.5


class Bridge(QObject):
    """States: ``closed`` → ``connecting`` → ``ready`` (or ``failed``) → ``closed``."""

    state_changed = Signal(str)
    error = Signal(str)  # a sentence for the user
    helper_unavailable = Signal(str)  # why the helper cannot start, and what to do
    status = Signal(str)  # what is going on, for the status bar ("" when idle)
    containers_listed = Signal(list)  # every container
    containers_changed = Signal(list)  # some containers, as they are now
    container_removed = Signal(str)  # its ID
    container_recreated = Signal(str, object)  # old ID, new Container
    images_listed = Signal(list)
    event_received = Signal(object)  # engine Event
    job_started = Signal(object)  # CreateJob (containers/createjob.py)

    def __init__(self, engine_factory: Callable[[], EngineLike] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory = engine_factory
        self._engine: EngineLike | None = None
        self._state = "closed"
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dirty: set[str] = set()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._images_handle: asyncio.TimerHandle | None = None
        self._relist_handle: asyncio.TimerHandle | None = None
        self._names: set[str] = set()
        self._shut = False
        self._pump: Any = None
        self.failure = ""

    # -- life cycle ------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def engine(self) -> EngineLike | None:
        return self._engine

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    async def open(self) -> bool:
        """Open the engine, list what is there and start watching events."""
        self._set_state("connecting")
        self.status.emit("Starting the engine…")
        try:
            factory = self._factory
            if factory is None:
                from engine import Engine

                factory = Engine
            engine = factory()
            opened = await engine.__aenter__()
            self._engine = opened if opened is not None else engine
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("opening the engine failed")
            self.failure = describe("start the Skiff engine", exc)
            self._set_state("failed")
            self.status.emit("")
            self.error.emit(self.failure)
            return False
        self._set_state("ready")
        self.status.emit("")
        self.spawn(self._watch_events())
        await asyncio.gather(self._refresh_containers("list containers"),
                             self._refresh_images("list images"))
        return True

    async def close(self) -> None:
        """Cancel every task, then close the engine; the bridge does nothing after."""
        self._shut = True
        for handle in (self._flush_handle, self._images_handle, self._relist_handle):
            if handle is not None:
                handle.cancel()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._pump is not None:
            self._pump.stop()
            await asyncio.get_running_loop().run_in_executor(None, self._pump.join)
            self._pump = None
        engine, self._engine = self._engine, None
        if engine is not None:
            try:
                await engine.__aexit__(None, None, None)
            except Exception:
                log.exception("closing the engine failed")
        self._set_state("closed")

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T] | None:
        """Track a task; after ``close()`` (a timer firing late) nothing runs."""
        if self._shut:
            coro.close()
            return None
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def tasks(self) -> set[asyncio.Task[Any]]:
        return set(self._tasks)

    def submit(self, action: str, call: Callable[[EngineLike], Awaitable[T]],
               on_done: Callable[[T], None] | None = None,
               on_error: Callable[[str], None] | None = None) -> asyncio.Task[T | None] | None:
        """Run ``call(engine)``; ``action`` names it in error messages ("stop web-1")."""
        async def run() -> T | None:
            engine = self._engine
            if engine is None:
                message = self.failure or (f"Could not {action}: the engine is not running. "
                                           "Restart Skiff and try again.")
                self._fail(message, on_error)
                return None
            try:
                result = await call(engine)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(action, exc)
                self._unavailable(exc)
                self._fail(describe(action, exc), on_error)
                return None
            if on_done is not None:
                on_done(result)
            return result

        return self.spawn(run())

    def _unavailable(self, exc: BaseException) -> None:
        if isinstance(exc, HelperUnavailable):
            self.helper_unavailable.emit(str(exc))

    def _fail(self, message: str, on_error: Callable[[str], None] | None) -> None:
        if on_error is not None:
            on_error(message)
        else:
            self.error.emit(message)

    # -- listing and events ---------------------------------------------------------

    def refresh(self) -> None:
        self.spawn(self._refresh_containers("list containers"))
        self.spawn(self._refresh_images("list images"))

    def refresh_containers(self) -> None:
        self.spawn(self._refresh_containers("list containers"))

    async def _refresh_containers(self, action: str, *, polling: bool = False) -> None:
        """List every container; a failed poll (there is no event stream) is only logged:
        the next one comes a second later."""
        engine = self._engine
        if engine is None:
            return
        try:
            containers = await engine.containers.list(all=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log_failure("polling containers" if polling else "listing containers", exc)
            if not polling:
                self.error.emit(describe(action, exc))
            return
        self._names = {c.name for c in containers}
        self.containers_listed.emit(containers)

    async def _refresh_images(self, action: str) -> None:
        engine = self._engine
        if engine is None:
            return
        try:
            images = await engine.images.list()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log_failure("listing images", exc)
            self.error.emit(describe(action, exc))
            return
        self.images_listed.emit(images)

    async def _watch_events(self) -> None:
        """Follow the engine's events (from a thread, see eventpump.py); if the stream
        fails, poll instead."""
        from app.desktop.eventpump import READY, EventPump, Inbox

        factory = self._factory
        if factory is None:
            from engine import Engine

            factory = Engine
        loop = asyncio.get_running_loop()
        inbox = Inbox(loop)
        pump = EventPump(factory, loop, inbox.put)
        self._pump = pump
        pump.start()
        try:
            while True:
                item = await inbox.get()
                if isinstance(item, BaseException):
                    log.warning("no event stream (%s): polling every %.0f s", item,
                                POLL_SECONDS)
                    break
                if item == READY:  # what changed before the stream began: list again
                    self._relist_handle = loop.call_later(RELIST_SECONDS, self.refresh)
                    continue
                self._on_engine_event(item)  # type: ignore[arg-type]
        finally:
            pump.stop()
        while True:
            await asyncio.sleep(POLL_SECONDS)
            await self._refresh_containers("list containers", polling=True)

    def _on_engine_event(self, event: Event) -> None:
        self.event_received.emit(event)
        if event.type == "container":
            if event.action == "destroy":
                self._dirty.discard(event.id)
                self.container_removed.emit(event.id)
            else:
                self._dirty.add(event.id)
                if self._flush_handle is None:
                    self._flush_handle = asyncio.get_event_loop().call_later(
                        COALESCE_SECONDS, self._start_flush)
        images_changed = event.type == "image" or (
            event.type == "container" and event.action in ("create", "destroy"))
        if images_changed and self._images_handle is None:
            self._images_handle = asyncio.get_event_loop().call_later(
                0.2, self._start_images_refresh)

    def _start_flush(self) -> None:
        self._flush_handle = None
        self.spawn(self._flush())

    def _start_images_refresh(self) -> None:
        self._images_handle = None
        self.spawn(self._refresh_images("list images"))

    async def _flush(self) -> None:
        ids, self._dirty = self._dirty, set()
        engine = self._engine
        if not ids or engine is None:
            return
        if len(ids) >= FULL_REFRESH_AT:
            await self._refresh_containers("list containers")
            return
        changed: list[Container] = []
        for container_id in ids:
            try:
                changed.append(await engine.containers.get(container_id))
            except ContainerNotFound:
                self.container_removed.emit(container_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(f"reading container {container_id}", exc)
        if changed:
            self._names |= {c.name for c in changed}
            self.containers_changed.emit(changed)

    # -- container verbs -------------------------------------------------------------

    def _changed(self, container: Container) -> None:
        self._names.add(container.name)
        self.containers_changed.emit([container])

    def start(self, container: Container) -> Pending:
        return self.submit(f"start {container.name}", lambda e: e.containers.start(container.id),
                           self._changed)

    def stop(self, container: Container) -> Pending:
        self.status.emit(f"Stopping {container.name}…")
        return self.submit(f"stop {container.name}", lambda e: e.containers.stop(container.id),
                           self._done_with_status(self._changed))

    def restart(self, container: Container) -> Pending:
        self.status.emit(f"Restarting {container.name}…")
        return self.submit(f"restart {container.name}",
                           lambda e: e.containers.restart(container.id),
                           self._done_with_status(self._changed))

    def pause(self, container: Container) -> Pending:
        return self.submit(f"pause {container.name}", lambda e: e.containers.pause(container.id),
                           self._changed)

    def unpause(self, container: Container) -> Pending:
        return self.submit(f"resume {container.name}", lambda e: e.containers.unpause(container.id),
                           self._changed)

    def remove(self, container: Container, force: bool = False) -> Pending:
        def removed(_: object) -> None:
            self._names.discard(container.name)
            self.container_removed.emit(container.id)

        return self.submit(f"remove {container.name}",
                           lambda e: e.containers.remove(container.id, force=force), removed)

    def rename(self, container: Container, name: str) -> Pending:
        def renamed(new: Container) -> None:
            self._names.discard(container.name)
            self._changed(new)

        return self.submit(f"rename {container.name} to {name}",
                           lambda e: e.containers.rename(container.id, name), renamed)

    def _done_with_status(self, then: Callable[[T], None]) -> Callable[[T], None]:
        def done(value: T) -> None:
            self.status.emit("")
            then(value)
        return done

    def inspect(self, container_id: str, on_done: Callable[[dict[str, Any]], None],
                on_error: Callable[[str], None] | None = None) -> Pending:
        return self.submit("read the container's configuration",
                           lambda e: _document(e.containers.inspect(container_id)),
                           on_done, on_error)

    def log_path(self, container_id: str, on_done: Callable[[Path], None],
                 on_error: Callable[[str], None] | None = None) -> Pending:
        return self.submit("open the container's log",
                           lambda e: e.containers.log_path(container_id),
                           on_done, on_error)

    def clear_logs(self, container_id: str, on_done: Callable[[None], None]) -> Pending:
        return self.submit("delete the container's log",
                           lambda e: e.containers.clear_logs(container_id), on_done)

    # -- images -------------------------------------------------------------------

    def taken_names(self) -> set[str]:
        return set(self._names)

    def forget_name(self, name: str) -> None:
        self._names.discard(name)

    def announce(self, container: Container) -> None:
        """A container changed by the window itself: show it at once."""
        self._changed(container)

    def refresh_images(self) -> None:
        self.spawn(self._refresh_images("list images"))

    def report_unavailable(self, exc: BaseException) -> None:
        self._unavailable(exc)

    def note_names(self, names: set[str]) -> None:
        """Names the sidebar shows (jobs included), so new names do not collide."""
        self._names |= names

    def run_in_thread(self, action: str, func: Callable[[], T],
                      on_done: Callable[[T], None] | None = None) -> Pending:
        """Blocking work that is not the engine's (saving a log): off the GUI thread."""
        async def run() -> T | None:
            try:
                result = await asyncio.to_thread(func)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(action, exc)
                self.error.emit(describe(action, exc))
                return None
            if on_done is not None:
                on_done(result)
            return result

        return self.spawn(run())


async def _document(details: Awaitable[ContainerDetails]) -> dict[str, Any]:
    """docker inspect's document of a container (what the Inspect tab shows)."""
    return (await details).docker_json()
