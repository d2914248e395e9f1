"""Plain data for widget and model tests: containers and images as the engine returns them."""

from __future__ import annotations

import hashlib

from engine.containers.config import ContainerConfig, MountSpec, PortBinding
from engine.containers.model import Container
from engine.containers.state import ContainerState, Status
from engine.images.model import Image, Layer

BUSYBOX_ID = "sha256:" + "b" * 64
NGINX_ID = "sha256:" + "c" * 64


def cid(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def container(name: str, status: Status = Status.RUNNING, *, image: str = "busybox:latest",
              image_id: str = BUSYBOX_ID, exit_code: int = 0, oom: bool = False,
              **config: object) -> Container:
    return Container(cid(name), name, "2026-01-02T03:04:05.000000000Z",
                     ContainerConfig(image=image, image_id=image_id, **config),  # type: ignore[arg-type]
                     ContainerState(status, pid=100 if status is Status.RUNNING else 0,
                                    exit_code=exit_code, oom_killed=oom))


def image(tags: list[str], image_id: str = BUSYBOX_ID, size: int = 2_150_000) -> Image:
    return Image(image_id, repo_tags=tags, created="2024-01-01T00:00:00Z", size=size,
                 architecture="amd64", os="linux",
                 layers=[Layer("sha256:" + "d" * 64, "sha256:" + "e" * 64, size)])


def fleet() -> list[Container]:
    """A sidebar's worth of containers in every state."""
    return [
        container("web", ports=[PortBinding(80, "tcp", "", 8080)], image="nginx:1.27",
                  image_id=NGINX_ID),
        container("api", Status.PAUSED),
        container("worker", Status.RESTARTING),
        container("backup", Status.EXITED, exit_code=0),
        container("crashy", Status.EXITED, exit_code=2),
        container("hungry", Status.EXITED, exit_code=137, oom=True),
        container("fresh", Status.CREATED,
                  mounts=[MountSpec("bind", "/data", "/srv/data")]),
        container("cache", Status.RUNNING, image="redis:7", image_id="sha256:" + "f" * 64),
    ]
