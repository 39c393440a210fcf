#!/usr/bin/env bash
# Headless Chromium and CJK fonts for tests/test_ui_e2e.py (Playwright drives Debian's
# /usr/bin/chromium; never `playwright install`). Idempotent: skips apt when Chromium is there.
set -euo pipefail

if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    echo "chromium and fonts-noto-cjk already installed"
else
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q chromium fonts-noto-cjk
fi
/usr/bin/chromium --version
