"""Compose projects: the files (files.py), their loading into one model (loader.py: interpolate,
schema, normalize, merge), the containers it means (planner.py) and bringing them up and
down (runner.py) through the engine's services."""
