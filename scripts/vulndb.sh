#!/usr/bin/env bash
# Builds the Go vulnerability database, offline, into the folder given
# (bin/vulndb), in the layout govulncheck reads with -db file:///….
#
# The database's reports come from the Go module golang.org/x/vulndb, at the
# version pinned in tools/vulncheck/go.mod, through the Go module proxy: no
# other network. Its own generator, gendb (bin/gendb), reads a git
# repository, so the module's data/ is committed into a throwaway one first,
# dated as the module version, so that every build of the same version gives
# the same database.
#
# Usage: scripts/vulndb.sh OUT   (from make vulncheck)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-$(sed -n 's/^toolchain //p' go.mod)}
out=$1

cd tools/vulncheck
go mod download golang.org/x/vulndb
module=$(go list -m -f '{{.Dir}}' golang.org/x/vulndb)
version=$(go list -m -f '{{.Version}}' golang.org/x/vulndb)
date=$(go list -m -f '{{.Time.Format "2006-01-02T15:04:05Z07:00"}}' golang.org/x/vulndb)
cd ../..

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$module/data" "$work/data"
chmod -R u+w "$work"
git -C "$work" init -q
git -C "$work" add -A
GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
	git -C "$work" -c user.name=vulndb -c user.email=vulndb@localhost commit -q -m "golang.org/x/vulndb $version"

rm -rf "$out"
bin/gendb -repo "$work" -out "$out"
echo "$version" >"$out/version"
echo "vulndb: golang.org/x/vulndb $version: $(find "$out/ID" -name '*.json' | wc -l) reports, as of $date, in $out"
