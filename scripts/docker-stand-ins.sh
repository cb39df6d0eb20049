#!/usr/bin/env bash
# Finds the images that Dockerfile and docker-compose.yml name, for the
# compose test: each is used as it is where it exists or can be pulled. On a
# machine whose Docker cannot pull from a registry (this project's CI
# machines), a local stand-in is made instead, under a name of its own,
# never under the official name, so that a user's `docker compose up` can
# never pick one up:
#
#   golang:1.27.3                               tracingdemo-stand-in/golang:1.27.3
#       the Go toolchain go.mod names, on busybox
#   gcr.io/distroless/static-debian12:nonroot   tracingdemo-stand-in/distroless-static:nonroot
#       CA certificates and /etc/passwd; no shell
#   jaegertracing/jaeger:2.12.0                 tracingdemo-stand-in/jaeger:2.12.0
#       bin/jaeger (make jaeger) on busybox, as the real image runs Jaeger
#       on Alpine, serving the real UI from bin/jaeger-ui, as the real image
#       serves the UI it bundles
#
# It writes the names to use into bin/stand-ins.env, which the compose
# test hands to Compose with e2e/testdata/compose.stand-ins.yml: the
# official names where those images are here, the stand-ins' otherwise.
#
# A stand-in is made again when it was made from other inputs (an older
# bin/jaeger, say): each carries the label tracingdemo.stand-in with a hash
# of what it was made from. Stand-ins that older versions of this script
# left under the official names (they carry that label, or have no registry
# digest and the comment "Imported from -") are removed; any other image,
# such as a real image that was pulled, is never touched.
# `make clean-stand-ins` removes every stand-in.
#
# Usage: scripts/docker-stand-ins.sh   (from make compose-test)
set -euo pipefail
cd "$(dirname "$0")/.."
# The Go that go.mod names, as the Makefile uses, fetched from the Go module
# proxy: the stand-in for golang:1.27.3 is made from it.
export GOTOOLCHAIN=${GOTOOLCHAIN:-$(sed -n 's/^toolchain //p' go.mod)}

GOLANG_IMAGE=golang:1.27.3
DISTROLESS_IMAGE=gcr.io/distroless/static-debian12:nonroot
JAEGER_IMAGE=jaegertracing/jaeger:2.12.0
STAND_IN=tracingdemo-stand-in

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# remove_old NAME: where an older version of this script left a stand-in
# under the official name NAME, it is removed. Returns 0 where a real image
# of that name is here.
remove_old() {
	local name=$1 label
	label=$(docker image inspect -f '{{index .Config.Labels "tracingdemo.stand-in"}}|{{len .RepoDigests}}|{{.Comment}}' "$name" 2>/dev/null) || return 1
	case $label in
	"<no value>|0|Imported from -" | "|0|Imported from -" | [0-9a-f]*"|"*)
		echo "stand-ins: removing $name, a stand-in left under the official name by an older make compose-test" >&2
		docker image rm "$name" >/dev/null
		return 1
		;;
	esac
}

# Older versions also made one for Prometheus, which no test uses now.
remove_old prom/prometheus:v3.6.0 || true
remove_old prom/prometheus:v3.11.3 || true

# pick OFFICIAL STAND_IN prints the name to use: OFFICIAL where that image
# is here, a real one, or can be pulled; STAND_IN otherwise. A stand-in that
# an older version of this script left under OFFICIAL is removed first.
pick() {
	local name=$1
	if remove_old "$name"; then
		echo "$name" # a real image
		return
	fi
	# Where no registry answers, a pull fails at once or hangs: it gets a
	# bound.
	if timeout 60 docker pull -q "$name" >/dev/null 2>&1; then
		echo "$name"
	else
		echo "stand-ins: $name is not here and cannot be pulled: using $2" >&2
		echo "$2"
	fi
}

# up_to_date NAME INPUTS...: the stand-in NAME exists and was made from
# these very inputs (files, or words). Otherwise it sets $stamp for the new
# one.
up_to_date() {
	local name=$1
	shift
	stamp=$({ cat "$0"; for input in "$@"; do if [ -f "$input" ]; then cat "$input"; else echo "$input"; fi; done; } | sha256sum | cut -c1-16)
	[ "$(docker image inspect -f '{{index .Config.Labels "tracingdemo.stand-in"}}' "$name" 2>/dev/null)" = "$stamp" ]
}

# A root filesystem with busybox's sh, wget and the other applets, CA
# certificates and a root user: the base of two of the stand-ins.
busybox_rootfs() {
	local root=$1
	if ! dpkg -s busybox-static >/dev/null 2>&1; then
		echo "stand-ins: installing Debian's busybox-static"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
	fi
	mkdir -p "$root/bin" "$root/etc/ssl/certs" "$root/tmp" "$root/root"
	chmod 1777 "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
	done
	cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
}

# import_rootfs NAME DIR [--change ...]: the folder becomes the image NAME.
import_rootfs() {
	local name=$1 root=$2
	shift 2
	tar --numeric-owner -C "$root" -c . | docker import --change "LABEL tracingdemo.stand-in=$stamp" "$@" - "$name" >/dev/null
	echo "stand-ins: made $name ($(docker image inspect -f '{{.Size}}' "$name" | numfmt --to=si)B)"
}

use_golang=$(pick "$GOLANG_IMAGE" "$STAND_IN/golang:1.27.3")
if [ "$use_golang" != "$GOLANG_IMAGE" ] && ! up_to_date "$use_golang" "$(go version)"; then
	root=$work/golang
	busybox_rootfs "$root"
	mkdir -p "$root/usr/local" "$root/go"
	cp -a "$(go env GOROOT)" "$root/usr/local/go"
	import_rootfs "$use_golang" "$root" \
		--change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV GOPATH=/go' \
		--change 'ENV GOTOOLCHAIN=local' \
		--change 'WORKDIR /go'
fi

use_distroless=$(pick "$DISTROLESS_IMAGE" "$STAND_IN/distroless-static:nonroot")
if [ "$use_distroless" != "$DISTROLESS_IMAGE" ] && ! up_to_date "$use_distroless" /etc/ssl/certs/ca-certificates.crt; then
	root=$work/distroless
	mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot"
	chmod 1777 "$root/tmp"
	chown 65532:65532 "$root/home/nonroot"
	cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
	printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
	import_rootfs "$use_distroless" "$root" \
		--change 'USER 65532' \
		--change 'WORKDIR /home/nonroot'
fi

if [ ! -x bin/jaeger ] || [ ! -f bin/jaeger-ui/index.html ]; then
	echo "stand-ins: bin/jaeger or bin/jaeger-ui is missing: run make jaeger first" >&2
	exit 1
fi
use_jaeger=$(pick "$JAEGER_IMAGE" "$STAND_IN/jaeger:2.12.0")
if [ "$use_jaeger" != "$JAEGER_IMAGE" ] && ! up_to_date "$use_jaeger" bin/jaeger $(find bin/jaeger-ui -type f | sort); then
	root=$work/jaeger
	busybox_rootfs "$root"
	mkdir -p "$root/cmd/jaeger"
	cp bin/jaeger "$root/cmd/jaeger/jaeger-linux"
	cp -r bin/jaeger-ui "$root/jaeger-ui"
	# As the real image: listen on every address, run as uid 10001. The
	# flag makes Jaeger serve the UI's files from /jaeger-ui.
	import_rootfs "$use_jaeger" "$root" \
		--change 'ENV JAEGER_LISTEN_HOST=0.0.0.0' \
		--change 'VOLUME ["/tmp"]' \
		--change 'USER 10001' \
		--change 'ENTRYPOINT ["/cmd/jaeger/jaeger-linux", "--set=extensions.jaeger_query.ui.assets_path=/jaeger-ui"]'
fi

# What the compose test runs: e2e/testdata/compose.stand-ins.yml reads these.
cat >bin/stand-ins.env <<END
GO_IMAGE=$use_golang
RUN_IMAGE=$use_distroless
JAEGER_IMAGE=$use_jaeger
END
echo "stand-ins: the compose test uses $use_golang, $use_distroless, $use_jaeger"
