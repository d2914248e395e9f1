#!/bin/sh
# Install the helper wrapper and its polkit policy so that a desktop user can run
# containers through pkexec. Run as root: sh packaging/install-helper.sh [PYTHON]
set -eu
here=$(dirname "$0")
python=${1:-$(command -v python3)}
install -d /usr/libexec/skiff
sed "s|\${SKIFF_PYTHON:-/usr/bin/python3}|$python|" "$here/skiff-helper" > /usr/libexec/skiff/skiff-helper
chmod 755 /usr/libexec/skiff/skiff-helper
install -m 644 "$here/org.skiff.helper.policy" /usr/share/polkit-1/actions/org.skiff.helper.policy
echo "installed /usr/libexec/skiff/skiff-helper (python: $python) and the polkit policy"
