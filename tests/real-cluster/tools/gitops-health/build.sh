#!/usr/bin/env bash
# Builds gitops-health (main.go: kstatus and Argo CD's Lua health of Kubernetes objects read
# as JSON) for tests/gitops_health.rs. Test tooling only.
# Output: target/real-cluster/tools/gitops-health (of the repository root); cached: a second
# run finds a binary built from the same go.mod, go.sum and main.go there and builds nothing.
# Exits non-zero on failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
out_dir="${REAL_CLUSTER_TOOLS_DIR:-$root/target/real-cluster/tools}"
out="$out_dir/gitops-health"
stamp="$out.sources"

if ! command -v go >/dev/null 2>&1; then
  echo "real-cluster: no Go toolchain on PATH (needed to build gitops-health)" >&2
  exit 3
fi
cd "$here"
sources="$(cat go.mod go.sum main.go | sha256sum | cut -d' ' -f1)"
if [ -x "$out" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$sources" ]; then
  exit 0
fi
mkdir -p "$out_dir"
echo "real-cluster: building gitops-health (kstatus of sigs.k8s.io/cli-utils, gopher-lua)" >&2
start=$SECONDS
# A private temp name and an atomic rename: two builds at once never see half a binary.
CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$out.tmp.$$" .
mv -f "$out.tmp.$$" "$out"
echo "$sources" > "$stamp.tmp.$$" && mv -f "$stamp.tmp.$$" "$stamp"
echo "real-cluster: built gitops-health in $((SECONDS - start)) s" >&2
