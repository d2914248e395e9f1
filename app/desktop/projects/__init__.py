"""Compose projects in the window: the project page, its logs, and what ties them in."""
