#!/usr/bin/env bash
# Writes the real Jaeger UI, jaeger-ui v1.68.0, into the folder DIR, for
# Jaeger's jaeger_query.ui.assets_path: a Jaeger built from the Go module
# proxy otherwise serves only a placeholder page, since the UI's files are
# not part of Jaeger's Go module.
#
# The UI's production build comes from the Go module
# github.com/tonistiigi/jaeger-ui-rest (MIT), which embeds it in public/ with
# each file gzip-compressed under its own name. tools/jaeger pins its
# version, so that it stays out of the demo's go.mod.
#
# Usage: scripts/jaeger-ui.sh DIR   (from make jaeger-ui)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
module=github.com/tonistiigi/jaeger-ui-rest

src=$(cd tools/jaeger && go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ ! -f "$src/public/index.html" ]; then
	echo "jaeger-ui: no public/index.html in $module (at ${src:-nowhere})" >&2
	exit 1
fi

rm -rf "$out.tmp"
(cd "$src/public" && find . -type f) | while read -r f; do
	mkdir -p "$(dirname "$out.tmp/$f")"
	gunzip -c "$src/public/$f" >"$out.tmp/$f"
done
rm -rf "$out"
mv "$out.tmp" "$out"
echo "jaeger-ui: wrote $(find "$out" -type f | wc -l) files, $(du -sh "$out" | cut -f1), to $out"
