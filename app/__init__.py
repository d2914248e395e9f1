"""Skiff's programs: the ``skiff`` command line (app/cli), its Docker API (app/api) and
the window (app/desktop), over the engine (engine/)."""

#: Skiff's version, written once: the package's (pyproject.toml reads it from here) and
#: the Makefile's. Read here, not through importlib.metadata, which imports ~60 modules
#: (typing, email, zipfile among them): ~22 ms of a ``skiff version`` run on its own.
VERSION = "0.1.0"
