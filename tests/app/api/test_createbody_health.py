"""A create body's Healthcheck becomes the engine's (compose's depends_on
``condition: service_healthy`` waits on it)."""

from __future__ import annotations

import pytest

from app.api.backend import errors
from app.api.createbody import container_config
from app.api.errors import ApiError


def test_the_healthcheck_is_kept() -> None:
    config = container_config({"Image": "busybox", "Healthcheck": {
        "Test": ["CMD-SHELL", "true"], "Interval": 1_000_000_000, "Retries": 3}})
    assert config.healthcheck is not None
    assert config.healthcheck.test == ["CMD-SHELL", "true"]
    assert (config.healthcheck.interval, config.healthcheck.retries) == (1_000_000_000, 3)
    disabled = container_config({"Image": "busybox", "Healthcheck": {"Test": ["NONE"]}})
    assert disabled.healthcheck is not None and disabled.healthcheck.disabled
    assert container_config({"Image": "busybox"}).healthcheck is None


def test_a_bad_healthcheck_is_refused() -> None:
    with pytest.raises(errors.InvalidArgument, match="invalid healthcheck test 'RUN'"):
        container_config({"Image": "busybox", "Healthcheck": {"Test": ["RUN", "x"]}})
    with pytest.raises(ApiError, match="invalid Healthcheck"):
        container_config({"Image": "busybox", "Healthcheck": "true"})
