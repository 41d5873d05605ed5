#!/usr/bin/env bash
# Builds the real control plane for the real-cluster suite from Go modules:
# kube-apiserver and kubectl from k8s.io/kubernetes, etcd from go.etcd.io/etcd/server/v3.
# Binaries are cached by version under target/real-cluster/<version>/ (of the repository root),
# so a second run only checks that they are there.
#
# Usage: build.sh            prints the binary directory on its last line
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$here/versions.env"
k8s="$KUBERNETES_VERSION"
bin="${REAL_CLUSTER_BIN_DIR:-$root/target/real-cluster/$k8s}"

if ! command -v go >/dev/null 2>&1; then
  echo "real-cluster: no Go toolchain on PATH (needed to build kube-apiserver $k8s)" >&2
  exit 3
fi

if ! grep -q "k8s.io/kubernetes $k8s" "$here/go.mod"; then
  echo "real-cluster: go.mod is not for $k8s; regenerating it" >&2
  "$here/gen-gomod.sh" "$k8s" >&2
fi

mkdir -p "$bin"
cd "$here"
# The stamp the real release build puts into every binary (what /version and kubectl report).
commit="$(sed -n 's/.*"Origin".*"Hash":"\([0-9a-f]*\)".*/\1/p' "$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$k8s.info" 2>/dev/null || true)"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$k8s -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(echo "$k8s" | cut -d. -f2)"
  ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  [ -n "$commit" ] && ldflags="$ldflags -X $pkg.gitCommit=$commit"
done

build() { # name package
  local name="$1" pkg="$2"
  if [ -x "$bin/$name" ]; then
    return 0
  fi
  echo "real-cluster: building $name ($pkg) for $k8s; a cold build takes minutes" >&2
  local start=$SECONDS
  # A private temp name and an atomic rename: two builds at once never see half a binary.
  CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$bin/$name.tmp.$$" "$pkg"
  mv -f "$bin/$name.tmp.$$" "$bin/$name"
  echo "real-cluster: built $name in $((SECONDS - start)) s" >&2
}

build etcd ./cmd/etcd
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kubectl k8s.io/kubernetes/cmd/kubectl
# Further test tools, each its own Go module under tools/<name>/ with a build.sh that builds
# (cached) into target/real-cluster/tools/ and exits non-zero on failure.
for tool in "$here"/tools/*/build.sh; do
  [ -f "$tool" ] || continue
  bash "$tool" >&2
done
echo "$bin"
