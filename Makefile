# Skiff: `make run` starts the desktop app, `make test` runs every test.
# Both set up a fresh Debian/Ubuntu machine first (system packages, a venv).
# `sudo make install` installs Skiff for the desktop's users, `make deb` packages it.

VENV   ?= .venv
PYTHON ?= python3
SUDO   := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
STAMP  := $(VENV)/.skiff-installed
APT_STAMP := $(VENV)/.skiff-apt

# What an installed Skiff runs with (the .deb's dependencies): the engine's
# tools (libseccomp2 compiles seccomp profiles), polkit to ask for root, and the
# libraries Qt's xcb platform plugin needs.
RUNTIME_PACKAGES := python3 iproute2 nftables procps pkexec polkitd libseccomp2 \
	libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 \
	libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
	libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 \
	libxcb-randr0 libxcb-xfixes0 libx11-xcb1
# Those, and what developing and testing need: container tools for test images,
# a registry, gcc for the tests' syscall probe, a system D-Bus for polkitd (the
# tests' desktop user goes through the real pkexec), packaging checks (systemd's
# tools check the user units and socket activation), and an X server for the window.
SYSTEM_PACKAGES := $(RUNTIME_PACKAGES) busybox-static skopeo umoci docker-registry \
	apache2-utils iptables zstd psmisc python3-venv gcc libc6-dev dbus appstream \
	desktop-file-utils xvfb xauth fonts-dejavu-core systemd git
# Debian 12 and Ubuntu 23.04 split policykit-1 into pkexec and polkitd.
POLKIT_SPLIT = $(shell apt-cache show pkexec >/dev/null 2>&1 && echo yes)
APT_PACKAGES = $(if $(POLKIT_SPLIT),$(SYSTEM_PACKAGES),\
	$(filter-out pkexec polkitd,$(SYSTEM_PACKAGES)) policykit-1)

.PHONY: run test setup lint unit bench clean install uninstall deb

run: setup
	$(VENV)/bin/skiff-desktop

test: setup lint
	tmp=$$(mktemp -d /tmp/skiff-tests.XXXXXX); \
	$(VENV)/bin/pytest -q --basetemp="$$tmp"; status=$$?; rm -rf "$$tmp"; exit $$status

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

setup: $(STAMP)

# PySide6 compiles its signature modules (shibokensupport) from source at every
# start, unless they are unpacked beside it, as its own SBK_EMBED=0 does: then they
# load from bytecode, ~90 M instructions (~25 ms) less at each launch of the window
# (benchmarks/desktop.py). -B: compileall makes that bytecode, for the final paths.
UNPACK_SIGNATURES := -c 'import os; os.environ["SBK_EMBED"] = "0"; import shiboken6'

$(APT_STAMP): Makefile
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$(APT_PACKAGES)
	@mkdir -p $(VENV) && touch $@

$(STAMP): pyproject.toml $(APT_STAMP)
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[desktop,test]'
	$(VENV)/bin/python -B $(UNPACK_SIGNATURES)
	$(VENV)/bin/python -m compileall -q engine app  # read even where bytecode writing is off
	$(VENV)/bin/python -m compileall -q $(VENV)/lib/python3*/site-packages/shiboken6/files.dir
	touch $@

bench: setup
	for b in containers pull stats desktop build api; do $(VENV)/bin/python benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info

# -- installing for real ----------------------------------------------------------
# Root-owned, in system paths: a venv with Skiff and its dependencies in
# $(PREFIX)/lib/skiff (never editable, never the user's checkout), the helper
# wrapper pkexec runs in $(PREFIX)/libexec/skiff, `skiff` and `skiff-desktop` in
# $(PREFIX)/bin, the polkit action, the .desktop file, icon and AppStream data.
# The helper's storage root, cgroup parent, bridge prefix and nft table are baked
# into the installation (tests install a copy with a world of its own).
PREFIX        ?= /usr/local
DESTDIR       ?=
INSTALL_PYTHON ?= /usr/bin/python3
POLKIT_ACTION ?= org.skiff.helper
POLKIT_ACTIONS_DIR ?= /usr/share/polkit-1/actions
HELPER_ROOT   ?= /var/lib/skiff/helper
CGROUP_PARENT ?= skiff
NET_PREFIX    ?= skiff
NET_TABLE     ?= skiff
VERSION := $(shell sed -n 's/^VERSION = "\(.*\)"/\1/p' app/__init__.py)
LIBDIR     := $(PREFIX)/lib/skiff
LIBEXECDIR := $(PREFIX)/libexec/skiff
DATADIR    := $(PREFIX)/share
USERUNITDIR := $(PREFIX)/lib/systemd/user
DOCDIR     := $(DATADIR)/doc/skiff
HELPER     := $(LIBEXECDIR)/skiff-helper
POLICY     := $(POLKIT_ACTIONS_DIR)/$(POLKIT_ACTION).policy
SUBST = sed -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@HELPER@|$(HELPER)|g' \
	-e 's|@POLKIT_ACTION@|$(POLKIT_ACTION)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	-e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@HELPER_ROOT@|$(HELPER_ROOT)|g'
INSTALLED_FILES := $(PREFIX)/bin/skiff $(PREFIX)/bin/skiff-desktop $(POLICY) \
	$(DATADIR)/applications/skiff-desktop.desktop \
	$(DATADIR)/icons/hicolor/scalable/apps/skiff.svg \
	$(DATADIR)/metainfo/org.skiff.Skiff.metainfo.xml \
	$(USERUNITDIR)/skiff-serve.socket $(USERUNITDIR)/skiff-serve.service

# The venv is built beside its final place and moved there, so a running helper
# never sees a half-installed copy; its paths are rewritten for where it ends up
# (DESTDIR or not), and its bytecode compiled for that path. As with pip, a file
# that does not compile (PySide6 ships templates named .py) simply stays source.
# pip and setuptools go once they have done their job: nothing installs into a
# root-owned copy but `make install` itself.
install:
	@[ -n "$(DESTDIR)" ] || [ "$$(id -u)" -eq 0 ] || { echo "make install: run it as root" \
		"(sudo make install): Skiff's helper must be root-owned" >&2; exit 1; }
	@$(INSTALL_PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { echo "make install:" \
		"$(INSTALL_PYTHON) cannot make a venv: sudo apt-get install python3-venv" >&2; exit 1; }
	umask 022; set -e; \
	build="$(DESTDIR)$(LIBDIR).new"; src=$$(mktemp -d); trap 'rm -rf "$$src" "$$build"' EXIT; \
	rm -rf "$$build"; $(INSTALL_PYTHON) -m venv "$$build"; \
	tar -c --exclude=__pycache__ pyproject.toml README.md engine app | tar -x -C "$$src"; \
	"$$build/bin/python" -m pip install -q --no-compile --no-warn-script-location \
		--disable-pip-version-check "$$src"; \
	"$$build/bin/python" -m pip uninstall -q -y --disable-pip-version-check pip setuptools; \
	"$$build/bin/python" -B $(UNPACK_SIGNATURES); \
	grep -rlI --null "$$build" "$$build/bin" "$$build/pyvenv.cfg" | \
		xargs -0 -r sed -i "s|$$build|$(LIBDIR)|g"; \
	"$$build/bin/python" -m compileall -qq -j0 -s "$$build" -p "$(LIBDIR)" "$$build/lib" \
		|| true; \
	printf '{"prefix": "%s", "helper": "%s", "helper_root": "%s", "cgroup_parent": "%s", "net_prefix": "%s", "net_table": "%s", "polkit_action": "%s"}\n' \
		"$(PREFIX)" "$(HELPER)" "$(HELPER_ROOT)" "$(CGROUP_PARENT)" "$(NET_PREFIX)" \
		"$(NET_TABLE)" "$(POLKIT_ACTION)" > "$$build/installation.json"; \
	rm -rf "$(DESTDIR)$(LIBDIR).old"; \
	if [ -e "$(DESTDIR)$(LIBDIR)" ]; then mv "$(DESTDIR)$(LIBDIR)" "$(DESTDIR)$(LIBDIR).old"; fi; \
	mv "$$build" "$(DESTDIR)$(LIBDIR)"; rm -rf "$(DESTDIR)$(LIBDIR).old"
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(POLKIT_ACTIONS_DIR) \
		$(DESTDIR)$(DATADIR)/applications $(DESTDIR)$(DATADIR)/icons/hicolor/scalable/apps \
		$(DESTDIR)$(DATADIR)/metainfo $(DESTDIR)$(DOCDIR) $(DESTDIR)$(USERUNITDIR)
	$(SUBST) packaging/skiff-helper.in > $(DESTDIR)$(HELPER)
	$(SUBST) packaging/skiff.in > $(DESTDIR)$(PREFIX)/bin/skiff
	$(SUBST) -e 's|@NAME@|skiff-desktop|' -e 's|@MODULE@|app.launch|' packaging/launcher.in \
		> $(DESTDIR)$(PREFIX)/bin/skiff-desktop
	chmod 755 $(DESTDIR)$(HELPER) $(DESTDIR)$(PREFIX)/bin/skiff $(DESTDIR)$(PREFIX)/bin/skiff-desktop
	$(SUBST) packaging/org.skiff.helper.policy.in > $(DESTDIR)$(POLICY)
	install -m 644 packaging/skiff-desktop.desktop $(DESTDIR)$(DATADIR)/applications/
	install -m 644 resources/skiff.svg $(DESTDIR)$(DATADIR)/icons/hicolor/scalable/apps/
	install -m 644 packaging/org.skiff.Skiff.metainfo.xml $(DESTDIR)$(DATADIR)/metainfo/
	install -m 644 packaging/skiff-serve.socket $(DESTDIR)$(USERUNITDIR)/
	$(SUBST) packaging/skiff-serve.service.in > $(DESTDIR)$(USERUNITDIR)/skiff-serve.service
	chmod 644 $(DESTDIR)$(USERUNITDIR)/skiff-serve.service
	$(SUBST) packaging/50-skiff.rules.example > $(DESTDIR)$(DOCDIR)/50-skiff.rules.example
	chmod 644 $(DESTDIR)$(POLICY) $(DESTDIR)$(DOCDIR)/50-skiff.rules.example
	@echo "installed Skiff $(VERSION) in $(PREFIX); its helper is $(HELPER) (polkit: $(POLKIT_ACTION))"

uninstall:
	rm -rf $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBDIR).new $(DESTDIR)$(LIBDIR).old \
		$(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR)
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_FILES))
	@echo "removed Skiff from $(PREFIX) (containers' data in $(HELPER_ROOT) and users' own stay)"

# A .deb of the same install (PREFIX=/usr), built with dpkg-deb; no root needed.
# Its venv is tied to the Python minor version it was built with.
empty :=
comma := ,
DEB_ARCH = $(shell dpkg --print-architecture 2>/dev/null)
DEB_PYTHON = $(shell $(INSTALL_PYTHON) -c 'import sys; v = sys.version_info; \
	print(f"python3 (>= {v[0]}.{v[1]}), python3 (<< {v[0]}.{v[1] + 1})")' 2>/dev/null)
DEB_DEPENDS = $(DEB_PYTHON), pkexec | policykit-1, polkitd | policykit-1, nftables | iptables, \
	$(subst $(empty) $(empty),$(comma) ,$(filter-out python3 pkexec polkitd nftables,$(RUNTIME_PACKAGES)))
BUILD ?= build
DEB_COMPRESS ?= xz
DEB = $(BUILD)/skiff_$(VERSION)_$(DEB_ARCH).deb

deb:
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/DEBIAN
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(BUILD))/deb PREFIX=/usr
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' -e 's#@DEPENDS@#$(DEB_DEPENDS)#' \
		-e "s|@SIZE@|$$(du -sk $(BUILD)/deb | cut -f1)|" packaging/control.in \
		> $(BUILD)/deb/DEBIAN/control
	dpkg-deb --root-owner-group -Z$(DEB_COMPRESS) --build $(BUILD)/deb $(DEB)
	@echo "built $(DEB): install it with sudo apt install $(abspath $(DEB))"
