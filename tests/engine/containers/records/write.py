"""Write the container records an older Skiff wrote, with that Skiff's own code.

    python tests/engine/containers/records/write.py COMMIT

takes ``engine/`` of COMMIT (git archive, into a temporary directory), and with
it creates the database of an engine root holding one container (its own
Database, ContainerStore and runtime request: the row as that version wrote it),
then prints the database as SQL (``COMMIT.sql`` here is that output). The
container: busybox with a bind, a named volume, a published port, a memory limit
and a restart policy, in whatever of these its version knew.
test_oldrecords.py reads every ``*.sql`` here with today's engine.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CONTAINER_ID = "5c0f" + "0" * 60
IMAGE_ID = "sha256:" + "1" * 64
LAYER = "sha256:" + "2" * 64
IMAGE_CONFIG = {"architecture": "amd64", "os": "linux",
                "config": {"Cmd": ["sh"], "ExposedPorts": {"80/tcp": {}},
                           "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                                   "/sbin:/bin"]},
                "rootfs": {"type": "layers", "diff_ids": [LAYER]}}


def _known(cls: Any, **values: Any) -> Any:
    """``cls`` of the values its version has fields for."""
    return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


def main(commit: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp, "code")
        code.mkdir()
        archive = subprocess.run(["git", "archive", commit, "engine"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True)
        sys.path.insert(0, str(code))
        config_module = importlib.import_module("engine.containers.config")
        model = importlib.import_module("engine.images.model")
        runspec = importlib.import_module("engine.containers.runspec")
        db_module = importlib.import_module("engine.db")
        store_module = importlib.import_module("engine.containers.store")
        image = model.Image(id=IMAGE_ID, repo_tags=["docker.io/library/busybox:latest"],
                            config=IMAGE_CONFIG, layers=[model.Layer(
                                digest=LAYER, diff_id=LAYER, size=1024)])
        mounts = [_known(config_module.MountSpec, type="bind", source="/srv/site",
                         target="/site", read_only=True),
                  _known(config_module.MountSpec, type="volume", source="olddata",
                         target="/data")]
        config = _known(
            config_module.ContainerConfig, image="busybox", image_id=IMAGE_ID,
            cmd=["sh", "-c", "echo old record"], env=["GREETING=hello"],
            restart_policy=config_module.RestartPolicy("on-failure", 3),
            resources=config_module.Resources(memory=64 << 20),
            ports=[config_module.PortBinding(80, "tcp", "", 8080)],
            mounts=mounts)
        request = runspec.runtime_request
        if "name" in inspect.signature(request).parameters:
            spec = request(CONTAINER_ID, config, image, "oldrecord")
        else:  # the network came from the engine then: host's, or none
            spec = request(CONTAINER_ID, config, image, network="none")
        db = db_module.Database(Path(tmp, "skiff.db"))
        store = store_module.ContainerStore(db)
        store.add(CONTAINER_ID, "oldrecord", "2026-11-23T16:15:42.000000000Z", config, spec)
        print(f"-- engine/ of {commit}: tests/engine/containers/records/write.py {commit}")
        for line in db.conn.iterdump():
            print(line)


if __name__ == "__main__":
    main(sys.argv[1])
