"""Shared fixtures live in tests/fixtures/, one module a concern."""

pytest_plugins = [
    "tests.fixtures.images",
    "tests.fixtures.registry",
    "tests.fixtures.engine",
]
