"""``skiff serve``: the Docker Engine API for the docker CLI, docker-py and compose.

The server itself lives in :mod:`app.api`; this is only its command line.
"""

from __future__ import annotations

import argparse

from app.cli.command import Command, Context

__all__ = ["SERVE"]


async def cmd_serve(ctx: Context) -> int:
    from app.api.activation import activation_sockets
    from app.api.server import Address, ListenError, default_address, parse_host, serve

    # Started by systemd (packaging/skiff-serve.socket): serve the socket it passed.
    inherited = activation_sockets()
    listening = inherited[0] if inherited and not ctx.args.host else None
    try:
        if listening is not None:
            address = Address("unix", str(listening.getsockname()))
        else:
            address = parse_host(ctx.args.host) if ctx.args.host else default_address()
    except ListenError as exc:
        ctx.error(f"skiff serve: {exc}")
        return 1

    def ready(where: Address) -> None:
        ctx.out.write(f"Serving the Docker Engine API on {where}\n"
                      f"export DOCKER_HOST={where}\n")
        ctx.out.flush()

    try:
        await serve(ctx.engine, address, ready=ready, listening=listening)
    except ListenError as exc:
        ctx.error(f"skiff serve: {exc}")
        return 1
    except OSError as exc:
        ctx.error(f"skiff serve: cannot listen on {address}: {exc.strerror or exc}")
        return 1
    return 0


def _b_serve(p: argparse.ArgumentParser) -> None:
    p.add_argument("-H", "--host", default="",
                   help="Where to listen: unix:///PATH (default: $XDG_RUNTIME_DIR/skiff/"
                        "docker.sock, /run/skiff/docker.sock for root) or "
                        "tcp://127.0.0.1:PORT")


SERVE = Command("serve", "Serve the Docker Engine API (for docker, docker-py, compose)",
                _b_serve, cmd_serve)
