"""Serving the Docker Engine API from the window while it is open (a setting)."""
