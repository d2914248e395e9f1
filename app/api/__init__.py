"""``skiff serve``: the Docker Engine API over HTTP on a user socket.

The third client of the engine beside the CLI and the window: the docker CLI,
docker-py and docker compose drive Skiff through it. Handlers are thin: each
parses a request into one engine call and renders the answer in Docker's JSON
shapes (podman's compat layer is the model). The server runs as the socket's
owner, so a caller never gets more than that user has.
"""
