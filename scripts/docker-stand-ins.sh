#!/usr/bin/env bash
# Makes local stand-ins for the three images that Dockerfile and
# docker-compose.yml name, for a machine whose Docker cannot pull from a
# registry (this project's CI machines). Each stand-in is made only when no
# image of that name exists: where the real images were pulled, this script
# changes nothing. The project's files always name the real images.
#
#   golang:1.26                                 this machine's Go toolchain on busybox
#   gcr.io/distroless/static-debian12:nonroot   CA certificates and /etc/passwd; no shell
#   jaegertracing/jaeger:2.13.0                 bin/jaeger (make jaeger) on busybox, as
#                                               the real image runs Jaeger on Alpine
#
# Usage: scripts/docker-stand-ins.sh   (from make compose-test)
set -euo pipefail
cd "$(dirname "$0")/.."

GOLANG_IMAGE=golang:1.26
DISTROLESS_IMAGE=gcr.io/distroless/static-debian12:nonroot
JAEGER_IMAGE=jaegertracing/jaeger:2.13.0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

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
	tar --numeric-owner -C "$root" -c . | docker import "$@" - "$name" >/dev/null
	echo "stand-ins: made $name ($(docker image inspect -f '{{.Size}}' "$name" | numfmt --to=si)B)"
}

if ! have_image "$GOLANG_IMAGE"; then
	root=$work/golang
	busybox_rootfs "$root"
	mkdir -p "$root/usr/local" "$root/go"
	cp -a "$(go env GOROOT)" "$root/usr/local/go"
	import_rootfs "$GOLANG_IMAGE" "$root" \
		--change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV GOPATH=/go' \
		--change 'ENV GOTOOLCHAIN=local' \
		--change 'WORKDIR /go'
fi

if ! have_image "$DISTROLESS_IMAGE"; then
	root=$work/distroless
	mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot"
	chmod 1777 "$root/tmp"
	chown 65532:65532 "$root/home/nonroot"
	cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
	printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
	import_rootfs "$DISTROLESS_IMAGE" "$root" \
		--change 'USER 65532' \
		--change 'WORKDIR /home/nonroot'
fi

if ! have_image "$JAEGER_IMAGE"; then
	if [ ! -x bin/jaeger ]; then
		echo "stand-ins: bin/jaeger is missing: run make jaeger first" >&2
		exit 1
	fi
	root=$work/jaeger
	busybox_rootfs "$root"
	mkdir -p "$root/cmd/jaeger"
	cp bin/jaeger "$root/cmd/jaeger/jaeger-linux"
	# As the real image: listen on every address, run as uid 10001.
	import_rootfs "$JAEGER_IMAGE" "$root" \
		--change 'ENV JAEGER_LISTEN_HOST=0.0.0.0' \
		--change 'VOLUME ["/tmp"]' \
		--change 'USER 10001' \
		--change 'ENTRYPOINT ["/cmd/jaeger/jaeger-linux"]'
fi
