#!/usr/bin/env bash
# Builds promtool (github.com/prometheus/prometheus/cmd/promtool, pinned in go.mod by tools.go)
# for tests/real-cluster/suites.d/monitoring.sh: `promtool check rules`, `promtool test rules`
# and `promtool check metrics` of deploy/monitoring/. Test tooling only.
# Output: target/real-cluster/tools/promtool (of the repository root); cached: a second run
# finds a binary built from the same go.mod, go.sum and tools.go there and builds nothing.
# Exits non-zero on failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
out_dir="${REAL_CLUSTER_TOOLS_DIR:-$root/target/real-cluster/tools}"
out="$out_dir/promtool"
stamp="$out.sources"

if ! command -v go >/dev/null 2>&1; then
  echo "real-cluster: no Go toolchain on PATH (needed to build promtool)" >&2
  exit 3
fi
cd "$here"
sources="$(cat go.mod go.sum tools.go | sha256sum | cut -d' ' -f1)"
if [ -x "$out" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$sources" ]; then
  exit 0
fi
mkdir -p "$out_dir"
echo "real-cluster: building promtool (github.com/prometheus/prometheus/cmd/promtool)" >&2
start=$SECONDS
# A private temp name and an atomic rename: two builds at once never see half a binary.
CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$out.tmp.$$" \
  github.com/prometheus/prometheus/cmd/promtool
mv -f "$out.tmp.$$" "$out"
echo "$sources" > "$stamp.tmp.$$" && mv -f "$stamp.tmp.$$" "$stamp"
echo "real-cluster: built promtool in $((SECONDS - start)) s" >&2
