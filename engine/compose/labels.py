"""Docker Compose's labels on a project's containers, networks and volumes.

Alone in a module so that what only reads them (the window's sidebar groups a
project's containers) need not import the compose loader and planner.
"""

from __future__ import annotations

__all__ = ["HASH", "LABEL", "NUMBER", "ONEOFF", "PROJECT", "SERVICE", "VERSION"]

LABEL = "com.docker.compose"
PROJECT = f"{LABEL}.project"
SERVICE = f"{LABEL}.service"
NUMBER = f"{LABEL}.container-number"
HASH = f"{LABEL}.config-hash"
ONEOFF = f"{LABEL}.oneoff"
VERSION = "2.29.0"  # the Compose whose labels these are
