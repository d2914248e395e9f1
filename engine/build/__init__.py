"""``skiff build``: images from Dockerfiles, built with Skiff's own containers.

The modules, in the order a build uses them: context (the files, .dockerignore
through ignore), dockerfile (parsing, via BuildKit's parser) and words (variable
substitution), plan (stages and build args), builder (the steps, cached through
cache), metadata, steps and copying (config changes, COPY/ADD layers), runstep
(RUN in a container), imagedoc (configs and manifests), events (progress).
Only seam talks to the rest of the engine.

The names below are imported on first use (PEP 562): ``skiff images`` reads the
build cache's table (cache.py), and importing the builder with it cost ~20 ms.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine.build.builder import BuildOptions, BuildResult
    from engine.build.events import BuildEvent, render
    from engine.build.runstep import BuildStepFailed

__all__ = ["BuildEvent", "BuildOptions", "BuildResult", "BuildStepFailed", "render"]

_HOMES = {"BuildOptions": "builder", "BuildResult": "builder", "BuildEvent": "events",
          "render": "events", "BuildStepFailed": "runstep"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'engine.build' has no attribute {name!r}")
    return getattr(importlib.import_module(f"engine.build.{_HOMES[name]}"), name)
