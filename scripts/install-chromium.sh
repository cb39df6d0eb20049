#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (e2e/browser_test.go),
# when no chromium is on PATH. Where it cannot be installed (not Debian, not
# root, no package mirror), it says so and exits 0: the browser tests then
# skip with one line that says why. With REQUIRE_ALL set (the Makefile sets
# it under CI=true), it exits 1 instead: CI must not pass without them.
#
# Usage: scripts/install-chromium.sh   (from make e2e and make screenshots)
set -uo pipefail

# cannot WHY: the browser tests will skip, or, where they are required, fail.
cannot() {
	if [ -n "${REQUIRE_ALL:-}" ]; then
		echo "chromium: FAILED: $1, and CI=true or REQUIRE_ALL=1 requires the browser tests: install Debian's chromium (apt-get install chromium) and run again" >&2
		exit 1
	fi
	echo "chromium: $1: the browser tests will skip"
	exit 0
}

if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
	cannot "not installed, and this is not a Debian machine on which we are root"
fi
echo "chromium: installing Debian's chromium for the browser tests"
start=$(date +%s)
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
	cannot "apt-get install chromium failed"
fi
echo "chromium: installed $(chromium --version 2>/dev/null) in $(($(date +%s) - start)) s"
