-- engine/ of 351556c: tests/engine/containers/records/write.py 351556c
BEGIN TRANSACTION;
CREATE TABLE containers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL,
        config TEXT NOT NULL,
        image_id TEXT NOT NULL,
        spec TEXT NOT NULL DEFAULT '{}'
    , removing INTEGER NOT NULL DEFAULT 0);
INSERT INTO "containers" VALUES('5c0f000000000000000000000000000000000000000000000000000000000000','oldrecord','2026-11-23T16:15:42.000000000Z','{"image": "busybox", "image_id": "sha256:1111111111111111111111111111111111111111111111111111111111111111", "cmd": ["sh", "-c", "echo old record"], "entrypoint": null, "env": ["GREETING=hello"], "working_dir": "", "user": "", "hostname": "", "tty": false, "open_stdin": false, "labels": {}, "restart_policy": {"name": "on-failure", "maximum_retry_count": 3}, "resources": {"memory": 67108864, "nano_cpus": null, "pids_limit": null}, "ports": [{"container_port": 80, "protocol": "tcp", "host_ip": "", "host_port": 8080}], "publish_all": false, "mounts": [{"type": "bind", "target": "/site", "source": "/srv/site", "read_only": true}, {"type": "volume", "target": "/data", "source": "olddata", "read_only": false}], "network": "default", "network_aliases": [], "stop_signal": "", "stop_timeout": null, "auto_remove": false, "security_opt": [], "userns": "", "log_driver": "", "log_options": {}, "healthcheck": null}','sha256:1111111111111111111111111111111111111111111111111111111111111111','{"args": ["sh", "-c", "echo old record"], "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello"], "cwd": "/", "user": "", "hostname": "5c0f00000000", "layers": ["sha256:2222222222222222222222222222222222222222222222222222222222222222"], "memory": 67108864, "nano_cpus": null, "pids_limit": null, "restart_policy": "on-failure", "restart_max": 3, "stop_signal": 15, "binds": [{"type": "bind", "source": "/srv/site", "target": "/site", "read_only": true}, {"type": "volume", "source": "olddata", "target": "/data", "read_only": false}], "network_mode": "default", "ports": [{"container_port": 80, "protocol": "tcp", "host_ip": "", "host_port": 8080}], "exposed": ["80/tcp"], "aliases": [], "name": "oldrecord", "image": "busybox", "tty": false, "open_stdin": false, "log_max_size": 0, "log_max_files": 1, "seccomp": null, "userns": "", "healthcheck": null}',0);
CREATE TABLE schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
INSERT INTO "schema_version" VALUES('containers',2);
CREATE INDEX containers_image ON containers(image_id);
COMMIT;
