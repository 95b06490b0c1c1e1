#!/usr/bin/env bash
# Install Debian's Chromium for tests/test_browser.py (Playwright drives it through
# executable_path=/usr/bin/chromium; Playwright's own browser download is never used).
# Idempotent and quiet: a no-op when /usr/bin/chromium exists. Needs root or passwordless
# sudo; without either (or without apt-get) it warns and exits 0, and the browser test skips.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser.sh: apt-get not found; the browser test will be skipped" >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install_browser.sh: need root or passwordless sudo to install chromium; the browser test will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null
test -x /usr/bin/chromium
