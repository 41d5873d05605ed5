#!/usr/bin/env bash
# Builds the real helm CLI (helm.sh/helm/v3, the version go.mod requires) for the real-cluster
# install checks (suites.d/install.sh: helm lint, helm template). Test tooling only.
# Output: target/real-cluster/tools/helm (of the repository root); cached: a second run finds a
# binary of the same version there and builds nothing. Exits non-zero on failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
out_dir="${REAL_CLUSTER_TOOLS_DIR:-$root/target/real-cluster/tools}"
out="$out_dir/helm"

if ! command -v go >/dev/null 2>&1; then
  echo "real-cluster: no Go toolchain on PATH (needed to build helm)" >&2
  exit 3
fi
cd "$here"
version="$(go list -m -f '{{.Version}}' helm.sh/helm/v3)"
if [ -x "$out" ] && [ "$("$out" version --template '{{.Version}}' 2>/dev/null || true)" = "$version" ]; then
  exit 0
fi

# The stamps helm's own Makefile sets: its version, and the Kubernetes version it assumes for
# `helm template`/`helm lint` without a cluster (that of the client-go it is built with).
client_go="$(go list -m -f '{{.Version}}' k8s.io/client-go)"   # v0.MINOR.PATCH
k8s_minor="$(echo "$client_go" | cut -d. -f2)"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

mkdir -p "$out_dir"
echo "real-cluster: building helm $version; a cold build takes a few minutes" >&2
start=$SECONDS
# A private temp name and an atomic rename: two builds at once never see half a binary.
CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out.tmp.$$" helm.sh/helm/v3/cmd/helm
mv -f "$out.tmp.$$" "$out"
echo "real-cluster: built helm $version in $((SECONDS - start)) s" >&2
