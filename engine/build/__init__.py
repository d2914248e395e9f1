"""``skiff build``: images from Dockerfiles, built with Skiff's own containers.

The modules, in the order a build uses them: context (the files, .dockerignore
through ignore), dockerfile (parsing, via BuildKit's parser) and words (variable
substitution), plan (stages and build args), builder (the steps, cached through
cache), metadata, steps and copying (config changes, COPY/ADD layers), runstep
(RUN in a container), imagedoc (configs and manifests), events (progress).
Only seam talks to the rest of the engine.
"""

from __future__ import annotations

from engine.build.builder import BuildOptions, BuildResult
from engine.build.events import BuildEvent, render
from engine.build.runstep import BuildStepFailed

__all__ = ["BuildEvent", "BuildOptions", "BuildResult", "BuildStepFailed", "render"]
