"""Shared fixtures live in tests/fixtures/, one module a concern."""

import os

# Helpers started by tests exit with the engine that started them (no lingering
# helper outlives a test); tests of lingering set their own value.
os.environ["SKIFF_HELPER_IDLE"] = "0"

# docker-py's own tests, vendored unchanged: run by tests/app/api/test_dockerpy_upstream.py
collect_ignore = ["upstream"]

pytest_plugins = [
    "tests.fixtures.images",
    "tests.fixtures.registry",
    "tests.fixtures.rawlayers",
    "tests.fixtures.engine",
    "tests.fixtures.users",
    "tests.fixtures.systembus",
    "tests.fixtures.installed",
    "tests.fixtures.desktopuser",
    "tests.fixtures.networld",
    "tests.fixtures.apiserver",
]
