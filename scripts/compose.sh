#!/usr/bin/env bash
# docker compose, on the machines people have (make up, make down): Docker's
# Compose v2 plugin where it is there and knows `up --wait`; elsewhere
# (Debian 12's Docker, say, whose docker-compose is the old v1) Compose
# built from the Go module proxy (tools/compose), run as a program of its
# own, which needs Go. Where something is missing it says, in one line,
# what to install.
#
# Usage: scripts/compose.sh up --wait | down   (the arguments go to compose)
set -euo pipefail
cd "$(dirname "$0")/.."

# DOCKER and GO name other commands, e.g. for the tests of these lines.
docker=${DOCKER:-docker}
go=${GO:-go}
say() { echo "make ${1%% *}: $2" >&2; }

if ! command -v "$docker" >/dev/null; then
	say "$1" "no docker command: install Docker Engine (Debian, Ubuntu: apt-get install docker.io), then run again"
	exit 1
fi
if ! "$docker" info >/dev/null 2>&1; then
	say "$1" "no Docker engine answers ($docker info failed): start it (systemctl start docker), or ask for access to it (the docker group), then run again"
	exit 1
fi

# The first up builds the services' images, which takes minutes: say so
# before, since the build may show nothing for a while.
if [ "${1:-}" = up ] && ! "$docker" image inspect tracingdemo/frontend >/dev/null 2>&1; then
	say "$1" "building the services' images first, once (later ups reuse Docker's cache): 2 min on our idle 2-core CI machine, more on a busy one"
fi

# Compose v2.1 and later have up --wait.
if "$docker" compose up --help 2>/dev/null | grep -q -- '--wait'; then
	exec "$docker" compose "$@"
fi

if [ ! -x bin/docker-compose ] && ! command -v "$go" >/dev/null; then
	say "$1" "Docker has no Compose v2 plugin (docker compose), and there is no Go to build one: install Docker's docker-compose-plugin package (Debian 13, Ubuntu 24.04: apt-get install docker-compose), or Go 1.21 or later, then run again"
	exit 1
fi
first=
[ -x bin/docker-compose ] || first=" (its first build takes a minute or two)"
say "$1" "Docker has no Compose v2 plugin (docker compose): using Compose built from source, bin/docker-compose$first"
make -s bin/docker-compose GO="$go" >&2
# Without Docker's buildx plugin, Compose builds with the classic builder
# anyway; told so up front, it does not warn that it falls back to it.
if ! "$docker" buildx version >/dev/null 2>&1; then
	export DOCKER_BUILDKIT=0
fi
exec bin/docker-compose "$@"
