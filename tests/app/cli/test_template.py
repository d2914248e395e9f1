"""The Go-template subset behind --format and inspect -f."""

from __future__ import annotations

import pytest

from app.cli.template import Template, TemplateError

DATA = {
    "Id": "abc123",
    "Name": "/web",
    "State": {"Status": "running", "Running": True, "Pid": 42, "ExitCode": 0},
    "Config": {"Env": ["A=1", "B=two"], "Labels": {"team": "boats", "tier": "web"},
               "Cmd": ["sh", "-c", "a && b"], "Entrypoint": None},
    "NetworkSettings": {
        "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": None},
        "Networks": {"bridge": {"IPAddress": "172.17.0.2"}, "other": {"IPAddress": "10.0.0.3"}},
    },
    "Mounts": [{"Source": "/a", "Destination": "/x"}, {"Source": "/b", "Destination": "/y"}],
}


@pytest.mark.parametrize(("source", "expected"), [
    ("{{.Id}}", "abc123"),
    ("{{.State.Status}} {{.State.Pid}}", "running 42"),
    ("{{.State.Running}}", "true"),
    ("{{json .Config.Env}}", '["A=1","B=two"]'),
    ("{{json .Config.Cmd}}", '["sh","-c","a \\u0026\\u0026 b"]'),  # Go's HTML escaping
    ("{{json .Config.Entrypoint}}", "null"),
    ("{{.Config.Entrypoint}}", "<nil>"),
    ("{{.Config.Env}}", "[A=1 B=two]"),
    ("{{.Config.Labels}}", "map[team:boats tier:web]"),
    ('{{index .Config.Labels "team"}}', "boats"),
    ("{{.Config.Labels.tier}}", "web"),
    ("{{.Config.Labels.missing}}", "<no value>"),
    ("{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}", "/a:/x /b:/y "),
    ("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", "172.17.0.2 10.0.0.3 "),
    ("{{range $p, $b := .NetworkSettings.Ports}}{{$p}}{{if $b}}->{{(index $b 0).HostPort}}"
     "{{end}};{{end}}", "443/tcp;80/tcp->8080;"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{if eq .State.Status \"exited\"}}x{{else if .State.Running}}r{{else}}?{{end}}", "r"),
    ("{{if not .State.ExitCode}}ok{{end}}", "ok"),
    ("{{with .State}}{{.Status}}{{end}}", "running"),
    ("{{range .Config.Labels.none}}x{{else}}empty{{end}}", "empty"),
    ("{{.Name | upper}}", "/WEB"),
    ("{{join .Config.Env \",\"}}", "A=1,B=two"),
    ("{{len .Mounts}}", "2"),
    ("{{printf \"%s=%d\" .Id .State.Pid}}", "abc123=42"),
    ("{{$name := .Name}}{{$name}}", "/web"),
    ("{{range .Mounts}}{{$.Id}} {{end}}", "abc123 abc123 "),
    ("{{- .Id -}}  \n", "abc123"),
    ("{{/* a comment */}}x", "x"),
    ("{{split .Id \"1\"}}", "[abc 23]"),
    ("{{title \"hello world\"}}", "Hello World"),
    ("{{truncate .Id 3}}", "abc"),
    ("{{and .State.Running .Id}}", "abc123"),
    ("{{or .Config.Entrypoint \"none\"}}", "none"),
    ("{{json .}}", None),
])
def test_renders_like_go(source: str, expected: str | None) -> None:
    result = Template(source).render(DATA)
    if expected is None:
        assert result.startswith('{"Id":"abc123","Name":"/web","State":{')
    else:
        assert result == expected


@pytest.mark.parametrize(("source", "message"), [
    ("{{.Nope}}", "can't evaluate field Nope"),
    ("{{.State.Nope}}", "can't evaluate field Nope"),
    ("{{nosuchfunc .Id}}", 'function "nosuchfunc" not defined'),
    ("{{if .Id}}open", "missing {{end}}"),
    ("{{end}}", "unexpected {{end}}"),
    ("{{.Id .Name}}", "can't give argument to non-function"),
    ('{{index .Mounts 5}}', "index out of range"),
    ("{{range .Id}}{{end}}", "range can't iterate"),
    ("{{$undefined}}", "undefined variable"),
])
def test_errors_are_template_errors(source: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        Template(source).render(DATA)
