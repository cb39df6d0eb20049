#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (e2e/browser_test.go),
# when no chromium is on PATH. Where it cannot be installed (not Debian, not
# root, no package mirror), it says so and exits 0: the browser tests then
# skip with one line that says why.
#
# Usage: scripts/install-chromium.sh   (from make e2e and make screenshots)
set -uo pipefail

if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
	echo "chromium: not installed, and this is not a Debian machine on which we are root: the browser tests will skip"
	exit 0
fi
echo "chromium: installing Debian's chromium for the browser tests"
start=$(date +%s)
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
	echo "chromium: apt-get install chromium failed: the browser tests will skip"
	exit 0
fi
echo "chromium: installed $(chromium --version 2>/dev/null) in $(($(date +%s) - start)) s"
