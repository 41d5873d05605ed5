# The install paths on the real kube-apiserver (sourced by suites.sh, inside start.sh): the
# kustomize base and overlays of deploy/, the Helm chart charts/telephony-operator (linted and
# rendered by the real helm, built by tools/helm/build.sh), and the deployable binary the
# Dockerfile builds, run as the chart's ServiceAccount. Every object rendered must be accepted
# by the server; the Deployments' pods never run (no kubelet), the binary runs as a process.
#
# start.sh itself installed deploy/ on the fresh server with `kubectl apply -k deploy/` (one
# pass, or the harness would not have started); these checks add the rest.

install_helm="${REAL_CLUSTER_TOOLS_DIR:-$root/target/real-cluster/tools}/helm"   # tools/helm/build.sh's output
install_tmp="$(mktemp -d)"
install_chart="$root/charts/telephony-operator"
install_k8s_version="${TELEPHONY_E2E_SERVER_VERSION#v}"
# `helm template` does not ask the server what it serves (`helm install` does): the
# MutatingAdmissionPolicy the chart renders on Kubernetes 1.36+ is asked for when this one has it.
install_api_versions=()
if kubectl api-resources --api-group=admissionregistration.k8s.io -o name | grep -qx 'mutatingadmissionpolicies.admissionregistration.k8s.io'; then
  install_api_versions=(--api-versions admissionregistration.k8s.io/v1/MutatingAdmissionPolicy)
fi

# Every object of a kustomization on the server, with its resourceVersion (a write changes it).
install_versions() { # kustomization-dir
  kubectl get -k "$1" -o jsonpath='{range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}={.metadata.resourceVersion}{"\n"}{end}'
}

install_kustomize_base() { (
  set -euo pipefail
  # Converge first (earlier suites may have re-created the admission ConfigMap), then the
  # second apply must write nothing.
  kubectl apply -k "$root/deploy" >/dev/null
  local before after
  before="$(install_versions "$root/deploy")"
  kubectl apply -k "$root/deploy" >/dev/null
  after="$(install_versions "$root/deploy")"
  if [ "$before" != "$after" ]; then
    echo "install: a second kubectl apply -k deploy/ changed objects:" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    return 1
  fi
  kubectl diff -k "$root/deploy" >/dev/null || { echo "install: kubectl diff -k deploy/ shows changes after apply" >&2; return 1; }
  local expected
  expected="$(kubectl kustomize "$root/deploy" | grep -c '^kind:')"
  [ "$(echo "$after" | grep -c .)" -eq "$expected" ] || { echo "install: not all $expected objects of deploy/ are on the server" >&2; return 1; }
  # The master-credentials template is not part of it: a real Secret is never overwritten.
  if kubectl kustomize "$root/deploy" | grep -q '^kind: Secret$'; then
    echo "install: deploy/ applies a Secret" >&2; return 1
  fi
  echo "install: kubectl apply -k deploy/: $expected objects, the second apply wrote none"
) }

install_namespaces() { # namespaces...
  local ns
  for ns in "$@"; do
    kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null || return 1
  done
}

install_kustomize_overlays() { (
  set -euo pipefail
  install_namespaces team-a team-b   # the namespaced overlay's watched namespaces must exist
  local overlay out
  for overlay in "$root"/deploy/overlays/*/; do
    # Dry run on the server: the overlays re-declare the base's objects, which are installed.
    out="$(kubectl apply -k "$overlay" --dry-run=server 2>&1)" || { echo "$out" >&2; return 1; }
    echo "install: kubectl apply -k deploy/overlays/$(basename "$overlay")/ --dry-run=server: $(echo "$out" | grep -c 'server dry run') objects accepted"
  done
) }

install_helm_lint() { (
  set -euo pipefail
  "$install_helm" lint --strict "$install_chart"
  "$install_helm" lint --strict "$install_chart" -f "$install_chart/ci/namespaced-values.yaml"
) }

# The default values in telephony-system: the same objects as deploy/ (which is installed), so a
# server dry run, CRDs included.
install_helm_default() { (
  set -euo pipefail
  "$install_helm" template telephony-operator "$install_chart" --namespace telephony-system \
    --include-crds --kube-version "$install_k8s_version" "${install_api_versions[@]}" > "$install_tmp/default.yaml"
  local out
  out="$(kubectl apply --dry-run=server -f "$install_tmp/default.yaml" 2>&1)" || { echo "$out" >&2; return 1; }
  echo "install: helm template (default values) | kubectl apply --dry-run=server: $(echo "$out" | grep -c 'server dry run') objects accepted"
) }

# Non-default values (namespaced, sharded, ServiceMonitor on) as release t in telephony-chart:
# a server dry run of everything, then a real server-side apply of all but the admission
# policies (cluster-scoped with fixed names: deploy/'s are installed).
install_helm_namespaced() { (
  set -euo pipefail
  install_namespaces telephony-chart team-a team-b
  # prometheus-operator's CRD is not part of this cluster: a stand-in that accepts any
  # ServiceMonitor, so the kind resolves (its fields are only checked by helm lint's schema-less
  # rendering, not by the server).
  kubectl apply -f - >/dev/null <<'CRD'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
CRD
  kubectl wait --for=condition=Established crd/servicemonitors.monitoring.coreos.com --timeout=30s >/dev/null
  local render=("$install_helm" template t "$install_chart" --namespace telephony-chart
    --kube-version "$install_k8s_version" "${install_api_versions[@]}" -f "$install_chart/ci/namespaced-values.yaml")
  "${render[@]}" > "$install_tmp/namespaced.yaml"
  local out
  out="$(kubectl apply --dry-run=server -f "$install_tmp/namespaced.yaml" 2>&1)" || { echo "$out" >&2; return 1; }
  echo "install: helm template -f ci/namespaced-values.yaml | kubectl apply --dry-run=server: $(echo "$out" | grep -c 'server dry run') objects accepted"
  "${render[@]}" --set admissionPolicy.enabled=false > "$install_tmp/namespaced-real.yaml"
  out="$(kubectl apply --server-side --field-manager=helm-template -f "$install_tmp/namespaced-real.yaml" 2>&1)" || { echo "$out" >&2; return 1; }
  echo "install: the same, without the admission policies, applied for real: $(echo "$out" | grep -c 'serverside-applied') objects"
) }

# The Dockerfile's build command, run as it is written there; the binary it makes has no
# stand-ins, prints the CRDs of crds/, and runs as the chart release's ServiceAccount with the
# rendered Deployment's arguments (namespaced: Roles only) until it is ready and holds its Lease.
install_image_binary() { (
  set -euo pipefail
  local cmd
  cmd="$(sed -n 's/^RUN \(cargo build .*\)$/\1/p' "$root/Dockerfile")"
  [ "$(echo "$cmd" | grep -c .)" -eq 1 ] || { echo "install: the Dockerfile has not exactly one RUN cargo build line" >&2; return 1; }
  echo "install: the Dockerfile's build: $cmd"
  (cd "$root" && bash -c "$cmd")
  local bin="${CARGO_TARGET_DIR:-$root/target}/release/telephony-operator"
  if "$bin" --help | grep -Eq '^\s+(sandbox|twilio-sim)\b'; then
    echo "install: the deployable binary has the sandbox commands" >&2; return 1
  fi
  if "$bin" sandbox --help >/dev/null 2>&1; then
    echo "install: the deployable binary runs 'sandbox'" >&2; return 1
  fi
  "$bin" crd > "$install_tmp/crd.yaml"
  diff -q "$install_tmp/crd.yaml" "$root/crds/telephony.agni.ai.yaml" >/dev/null \
    || { echo "install: 'telephony-operator crd' of the deployable binary differs from crds/" >&2; return 1; }

  # The chart release's identity (TokenRequest) and the rendered Deployment's arguments.
  local ns=telephony-chart sa=t-telephony-operator
  local token server ca
  token="$(kubectl -n "$ns" create token "$sa" --duration 1h)"
  server="$(kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')"
  ca="$(kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}')"
  cat > "$install_tmp/chart-sa.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$server", certificate-authority: "$ca"}}]
users: [{name: u, user: {token: "$token"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
KC
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  local -a args
  mapfile -t args < <(kubectl -n "$ns" get deploy "$sa" -o json | python3 -c '
import json, sys
c = json.load(sys.stdin)["spec"]["template"]["spec"]["containers"][0]
for a in c["args"]:
    print("--metrics-addr=127.0.0.1:'"$port"'" if a.startswith("--metrics-addr=") else a)
for e in c.get("env", []):
    if "value" in e:
        print("ENV " + e["name"] + "=" + e["value"])
')
  local -a run_args=() run_env=()
  local a
  for a in "${args[@]}"; do
    if [[ "$a" == "ENV "* ]]; then run_env+=("${a#ENV }"); else run_args+=("$a"); fi
  done
  echo "install: running the deployable binary as $ns/$sa: ${run_args[*]}"
  env "${run_env[@]}" KUBECONFIG="$install_tmp/chart-sa.kubeconfig" POD_NAMESPACE="$ns" POD_NAME=install-check-0 \
    "$bin" "${run_args[@]}" > "$install_tmp/operator.log" 2>&1 &
  local pid=$! ready=""
  for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  local lease=""
  if [ -n "$ready" ]; then
    for _ in $(seq 1 60); do
      lease="$(kubectl -n "$ns" get lease telephony-shard-b -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true)"
      [ "$lease" = install-check-0 ] && break
      sleep 0.5
    done
    # A while as the leader (controllers started, caches filled) before the graceful stop: this
    # checks the steady state, not a stop during start-up.
    sleep 10
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local status=0 stopped=""
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { stopped=1; break; }; sleep 0.1; done
  [ -n "$stopped" ] || kill -9 "$pid" 2>/dev/null || true
  wait "$pid" || status=$?
  local failed=""
  [ -n "$ready" ] || { echo "install: the binary was not ready within 60 s" >&2; failed=1; }
  [ "$lease" = install-check-0 ] || { echo "install: Lease $ns/telephony-shard-b is held by '$lease', not install-check-0" >&2; failed=1; }
  [ -n "$stopped" ] || { echo "install: the binary did not stop within 10 s of SIGTERM" >&2; failed=1; }
  [ "$status" -eq 0 ] || { echo "install: the binary exited with $status after SIGTERM" >&2; failed=1; }
  if grep -qi 'forbidden' "$install_tmp/operator.log"; then
    echo "install: the chart's RBAC denied the operator something:" >&2
    sed 's/\\"//g' "$install_tmp/operator.log" \
      | grep -o '[a-z0-9.]* is forbidden: User [^ ]* cannot [a-z]* resource [^ ]* in API group [^ ]*\( in the namespace [^ ]*\| at the cluster scope\)\?' \
      | sort -u | head -n 5 >&2 || true
    failed=1
  fi
  if [ -n "$failed" ]; then tail -n 30 "$install_tmp/operator.log" >&2; return 1; fi
  echo "install: ready, held Lease $ns/telephony-shard-b, stopped on SIGTERM"
) }

# The offline agreement checks with this server's kubectl and the built helm (plain `cargo
# test` skips their kustomize/helm parts where those tools are missing).
TELEPHONY_HELM="$install_helm" KUBECTL="$(command -v kubectl)" suite install-manifests --test install_manifests
check install-kustomize-base install_kustomize_base
check install-kustomize-overlays install_kustomize_overlays
check install-helm-lint install_helm_lint
check install-helm-default install_helm_default
check install-helm-namespaced install_helm_namespaced
check install-image-binary install_image_binary
rm -rf "$install_tmp"
