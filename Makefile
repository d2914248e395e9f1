# Skiff: `make run` starts the desktop app, `make test` runs every test.
# Both set up a fresh Debian/Ubuntu machine first (system packages, a venv).

VENV   ?= .venv
PYTHON ?= python3
SUDO   := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
STAMP  := $(VENV)/.skiff-installed
APT_STAMP := $(VENV)/.skiff-apt

# Container tools the engine and tests use (libseccomp2 compiles seccomp
# profiles; gcc builds the tests' syscall probe), and the libraries Qt's xcb
# platform plugin needs on a real desktop.
SYSTEM_PACKAGES := busybox-static skopeo umoci docker-registry apache2-utils \
	iproute2 nftables iptables zstd procps psmisc python3-venv pkexec \
	libseccomp2 gcc libc6-dev \
	libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 \
	libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
	libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 \
	libxcb-randr0 libxcb-xfixes0 libx11-xcb1 xvfb xauth fonts-dejavu-core

.PHONY: run test setup lint unit bench clean

run: setup
	$(VENV)/bin/skiff-desktop

test: setup lint
	tmp=$$(mktemp -d /tmp/skiff-tests.XXXXXX); \
	$(VENV)/bin/pytest -q --basetemp="$$tmp"; status=$$?; rm -rf "$$tmp"; exit $$status

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

setup: $(STAMP)

$(APT_STAMP):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$(filter-out pkexec,$(SYSTEM_PACKAGES)) $(shell apt-cache show pkexec >/dev/null 2>&1 \
		&& echo pkexec || echo policykit-1)
	@mkdir -p $(VENV) && touch $@

$(STAMP): pyproject.toml $(APT_STAMP)
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[desktop,test]'
	$(VENV)/bin/python -m compileall -q engine app  # read even where bytecode writing is off
	touch $@

bench: setup
	for b in containers pull stats desktop; do $(VENV)/bin/python benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
