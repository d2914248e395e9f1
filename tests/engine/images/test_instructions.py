"""docker import -c: the Dockerfile instructions Skiff applies, and those it refuses."""

from __future__ import annotations

import pytest

from engine.errors import InvalidArgument
from engine.images.instructions import apply_changes


def test_each_supported_instruction() -> None:
    config = apply_changes({"Env": ["PATH=/bin"]}, [
        'CMD ["nginx", "-g", "daemon off;"]', "ENTRYPOINT /entry.sh --fast",
        "ENV MODE=prod 'GREETING=hello world'", "ENV PATH /usr/bin",
        "EXPOSE 80 53/udp", 'LABEL "maintainer=me" version=2', "STOPSIGNAL SIGQUIT",
        "USER app:app", 'VOLUME ["/data"]', "VOLUME /cache /logs", "WORKDIR /srv",
        "WORKDIR www", "expose 443"])
    assert config["Cmd"] == ["nginx", "-g", "daemon off;"]
    assert config["Entrypoint"] == ["/bin/sh", "-c", "/entry.sh --fast"]
    assert config["Env"] == ["PATH=/usr/bin", "MODE=prod", "GREETING=hello world"]
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}, "443/tcp": {}}
    assert config["Labels"] == {"maintainer": "me", "version": "2"}
    assert (config["StopSignal"], config["User"]) == ("SIGQUIT", "app:app")
    assert config["Volumes"] == {"/data": {}, "/cache": {}, "/logs": {}}
    assert config["WorkingDir"] == "/srv/www"


@pytest.mark.parametrize(("change", "message"), [
    ("RUN make", "RUN is not a valid change command"),
    ("COPY . /", "COPY is not a valid change command"),
    ("ONBUILD RUN make", "ONBUILD is not supported by skiff import: use CMD, ENTRYPOINT"),
    ("CMD", "CMD requires at least one argument"),
    ("EXPOSE http", "invalid port 'http' in EXPOSE"),
    ("CMD [not json", None),
    ("ENV ONLYKEY", "ENV 'ONLYKEY' needs a value"),
    ('LABEL a="unclosed', "check the quotes"),
])
def test_refused_changes_say_why(change: str, message: str | None) -> None:
    with pytest.raises(InvalidArgument, match=message or "JSON list of strings"):
        apply_changes({}, [change])
