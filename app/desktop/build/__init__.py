"""Build image…: a Dockerfile built with the engine, its output and layers shown as they come."""
