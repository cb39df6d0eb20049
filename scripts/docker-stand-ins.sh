#!/usr/bin/env bash
# Makes local stand-ins for the three images that Dockerfile and
# docker-compose.yml name, for a machine whose Docker cannot pull from a
# registry (this project's CI machines). The project's files always name the
# real images.
#
#   golang:1.27                                 the Go toolchain go.mod names on busybox
#   gcr.io/distroless/static-debian12:nonroot   CA certificates and /etc/passwd; no shell
#   jaegertracing/jaeger:2.13.0                 bin/jaeger (make jaeger) on busybox, as
#                                               the real image runs Jaeger on Alpine, and
#                                               serving the real UI from bin/jaeger-ui, as
#                                               the real image serves the UI it bundles
#   prom/prometheus:v3.11.3                      bin/prometheus (make prometheus) on busybox,
#                                               as the real image has busybox too; for
#                                               jaeger/monitor.compose.yml
#
# A stand-in is made when no image of that name exists, and made again when
# it is a stand-in made from other inputs (an older bin/jaeger, say): each
# carries the label tracingdemo.stand-in with a hash of what it was made
# from. (Older stand-ins have no label; they are known by what `docker
# import` leaves: no registry digest and the comment "Imported from -".)
# Any other image, such as a real image that was pulled, is never touched.
#
# Usage: scripts/docker-stand-ins.sh   (from make compose-test)
set -euo pipefail
cd "$(dirname "$0")/.."
# The Go that go.mod names, as the Makefile uses, fetched from the Go module
# proxy: the stand-in for golang:1.27 is made from it.
export GOTOOLCHAIN=${GOTOOLCHAIN:-$(sed -n 's/^toolchain //p' go.mod)}

GOLANG_IMAGE=golang:1.27
DISTROLESS_IMAGE=gcr.io/distroless/static-debian12:nonroot
JAEGER_IMAGE=jaegertracing/jaeger:2.13.0
PROMETHEUS_IMAGE=prom/prometheus:v3.11.3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# up_to_date NAME INPUTS...: an image NAME exists and is either not a
# stand-in or a stand-in made from these very inputs (files, or words).
# Otherwise it says why the stand-in is made, and sets $stamp for it.
up_to_date() {
	local name=$1 label
	shift
	stamp=$({ cat "$0"; for input in "$@"; do if [ -f "$input" ]; then cat "$input"; else echo "$input"; fi; done; } | sha256sum | cut -c1-16)
	if ! label=$(docker image inspect -f '{{index .Config.Labels "tracingdemo.stand-in"}}|{{len .RepoDigests}}|{{.Comment}}' "$name" 2>/dev/null); then
		return 1
	fi
	case $label in
	"$stamp|"*) return 0 ;;                   # a stand-in made from these inputs
	"<no value>|0|Imported from -" | "|0|Imported from -") ;; # an older stand-in
	"<no value>|"* | "|"*) return 0 ;;        # not a stand-in
	esac
	echo "stand-ins: $name was made from other inputs: making it again"
	return 1
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

if ! up_to_date "$GOLANG_IMAGE" "$(go version)"; then
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

if ! up_to_date "$DISTROLESS_IMAGE" /etc/ssl/certs/ca-certificates.crt; then
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

if [ ! -x bin/jaeger ] || [ ! -f bin/jaeger-ui/index.html ]; then
	echo "stand-ins: bin/jaeger or bin/jaeger-ui is missing: run make jaeger first" >&2
	exit 1
fi
if ! up_to_date "$JAEGER_IMAGE" bin/jaeger $(find bin/jaeger-ui -type f | sort); then
	root=$work/jaeger
	busybox_rootfs "$root"
	mkdir -p "$root/cmd/jaeger"
	cp bin/jaeger "$root/cmd/jaeger/jaeger-linux"
	cp -r bin/jaeger-ui "$root/jaeger-ui"
	# As the real image: listen on every address, run as uid 10001. The
	# flag makes Jaeger serve the UI's files from /jaeger-ui.
	import_rootfs "$JAEGER_IMAGE" "$root" \
		--change 'ENV JAEGER_LISTEN_HOST=0.0.0.0' \
		--change 'VOLUME ["/tmp"]' \
		--change 'USER 10001' \
		--change 'ENTRYPOINT ["/cmd/jaeger/jaeger-linux", "--set=extensions.jaeger_query.ui.assets_path=/jaeger-ui"]'
fi

if [ ! -x bin/prometheus ]; then
	echo "stand-ins: bin/prometheus is missing: run make prometheus first" >&2
	exit 1
fi
if ! up_to_date "$PROMETHEUS_IMAGE" bin/prometheus; then
	root=$work/prometheus
	busybox_rootfs "$root"
	mkdir -p "$root/prometheus" "$root/etc/prometheus"
	cp bin/prometheus "$root/bin/prometheus"
	chown 65534:65534 "$root/prometheus"
	# As the real image: run as nobody, keep the data in /prometheus.
	import_rootfs "$PROMETHEUS_IMAGE" "$root" \
		--change 'USER 65534' \
		--change 'WORKDIR /prometheus' \
		--change 'ENTRYPOINT ["/bin/prometheus"]' \
		--change 'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
fi
