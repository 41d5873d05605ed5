#!/usr/bin/env bash
# Starts a real Kubernetes control plane (etcd + kube-apiserver built by build.sh) on 127.0.0.1
# for the real-cluster suite, and stops it again when this script exits.
#
#   start.sh [-- COMMAND ARGS...]
#
# Free ports, a private temp dir, RBAC authorization, ValidatingAdmissionPolicy admission on.
# It writes three kubeconfigs into the temp dir:
#   admin.kubeconfig     user "admin" in group system:masters
#   operator.kubeconfig  the ServiceAccount telephony-system/telephony-operator of deploy/,
#                        with a token from the TokenRequest API: its rights are deploy/'s RBAC
#   tenant.kubeconfig    user "tenant-alice" (group "telephony-tenants"), with no rights but
#                        the RoleBindings a test gives it (deploy/'s tenant roles)
# and installs deploy/'s namespace, RBAC and admission policy. With a COMMAND it runs it with
#   TELEPHONY_E2E_KUBECONFIG, TELEPHONY_E2E_OPERATOR_KUBECONFIG, TELEPHONY_E2E_TENANT_KUBECONFIG,
#   TELEPHONY_E2E_SERVER_VERSION, TELEPHONY_E2E_AUDIT_LOG (what the operator's ServiceAccount
#   asked, audit level Metadata) and PATH (the matching kubectl first)
# set, and exits with its status; without one it prints those and serves until Ctrl-C.
# Two runs at once do not collide (own ports, own directory).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$here/versions.env"

bin="$("$here/build.sh")"
work="$(mktemp -d "${TMPDIR:-/tmp}/telephony-real-cluster.XXXXXX")"
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # kube-apiserver first (it drains against a live etcd), then etcd; SIGKILL after 10 s.
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid="${pids[$i]}"
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ] && [ -f "$work/kube-apiserver.log" ]; then
    echo "real-cluster: last lines of the kube-apiserver log:" >&2
    tail -n 20 "$work/kube-apiserver.log" >&2 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# --- certificates and keys -------------------------------------------------------------------
pki="$work/pki"; mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=telephony-real-cluster-ca" \
  -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
  -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' > "$pki/san.ext"
openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 2 -extfile "$pki/san.ext" -out "$pki/apiserver.crt" 2>/dev/null
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

admin_token="$(openssl rand -hex 24)"
tenant_token="$(openssl rand -hex 24)"
cat > "$pki/tokens.csv" <<TOKENS
$admin_token,admin,admin,"system:masters"
$tenant_token,tenant-alice,tenant-alice,"telephony-tenants"
TOKENS

# What the operator's ServiceAccount asks of the server, for the least-privilege check.
cat > "$pki/audit-policy.yaml" <<AUDIT
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    users: ["system:serviceaccount:telephony-system:telephony-operator"]
  - level: None
AUDIT

# --- etcd ------------------------------------------------------------------------------------
start_etcd() {
  etcd_port="$(free_port)"; peer_port="$(free_port)"
  "$bin/etcd" --name default --data-dir "$work/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "default=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync --log-level warn > "$work/etcd.log" 2>&1 &
  pids+=($!)
}
start_etcd
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null 2>&1 && break
  if ! kill -0 "${pids[-1]}" 2>/dev/null; then
    echo "real-cluster: etcd exited (port taken?); retrying on other ports" >&2
    rm -rf "$work/etcd"; start_etcd
  fi
  sleep 0.1
done
curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null || { echo "real-cluster: etcd did not become healthy" >&2; cat "$work/etcd.log" >&2; exit 1; }

# --- kube-apiserver --------------------------------------------------------------------------
start_apiserver() {
  api_port="$(free_port)"
  "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --cert-dir "$work/apiserver-certs" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --token-auth-file "$pki/tokens.csv" \
    --authorization-mode RBAC \
    --enable-admission-plugins ValidatingAdmissionPolicy \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$pki/sa.pub" \
    --service-account-signing-key-file "$pki/sa.key" \
    --api-audiences https://kubernetes.default.svc \
    --service-cluster-ip-range 10.0.0.0/24 \
    --endpoint-reconciler-type none \
    --audit-policy-file "$pki/audit-policy.yaml" --audit-log-path "$work/audit.log" \
    --audit-log-mode blocking --audit-log-format json \
    --allow-privileged=false \
    > "$work/kube-apiserver.log" 2>&1 &
  pids+=($!)
}
start_apiserver
server="https://127.0.0.1:$api_port"
ready=""
for _ in $(seq 1 600); do
  if curl -sf --cacert "$pki/ca.crt" -H "Authorization: Bearer $admin_token" "$server/readyz" >/dev/null 2>&1; then
    ready=1; break
  fi
  if ! kill -0 "${pids[-1]}" 2>/dev/null; then
    if grep -q "address already in use" "$work/kube-apiserver.log"; then
      echo "real-cluster: port $api_port taken; retrying" >&2; start_apiserver; server="https://127.0.0.1:$api_port"; continue
    fi
    echo "real-cluster: kube-apiserver exited" >&2; exit 1
  fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "real-cluster: kube-apiserver not ready within 60 s" >&2; exit 1; }

kubeconfig() { # file user token
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: real-cluster
  cluster:
    server: $server
    certificate-authority: $pki/ca.crt
users:
- name: $2
  user:
    token: $3
contexts:
- name: $2
  context: {cluster: real-cluster, user: $2}
current-context: $2
KC
}
admin_kc="$work/admin.kubeconfig"
kubeconfig "$admin_kc" admin "$admin_token"
mkdir -p "$work/home"   # kubectl's discovery cache of this server stays private
k() { HOME="$work/home" "$bin/kubectl" --kubeconfig "$admin_kc" "$@"; }

# deploy/ as a platform team installs it, in one pass on this fresh cluster: `kubectl apply -k
# deploy/` (namespace, CRDs, RBAC, tenant roles, admission policy, the operator's Deployment,
# whose pods never run here: there is no kubelet).
k apply -k "$root/deploy" >/dev/null
operator_token="$(k -n telephony-system create token telephony-operator --duration 48h)"
kubeconfig "$work/operator.kubeconfig" system:serviceaccount:telephony-system:telephony-operator "$operator_token"
kubeconfig "$work/tenant.kubeconfig" tenant-alice "$tenant_token"

server_version="$(k version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')"
export TELEPHONY_E2E_KUBECONFIG="$admin_kc"
export KUBECONFIG="$admin_kc"
export TELEPHONY_E2E_OPERATOR_KUBECONFIG="$work/operator.kubeconfig"
export TELEPHONY_E2E_TENANT_KUBECONFIG="$work/tenant.kubeconfig"
export TELEPHONY_E2E_SERVER_VERSION="$server_version"
export TELEPHONY_E2E_AUDIT_LOG="$work/audit.log"
export PATH="$bin:$PATH"
echo "real-cluster: kube-apiserver $server_version ready at $server (etcd 127.0.0.1:$etcd_port, dir $work)" >&2

if [ "${1:-}" = "--" ]; then shift; fi
if [ "$#" -gt 0 ]; then
  set +e; "$@"; status=$?; set -e
  exit "$status"
fi
cat <<ENV
export TELEPHONY_E2E_KUBECONFIG=$TELEPHONY_E2E_KUBECONFIG
export TELEPHONY_E2E_OPERATOR_KUBECONFIG=$TELEPHONY_E2E_OPERATOR_KUBECONFIG
export TELEPHONY_E2E_TENANT_KUBECONFIG=$TELEPHONY_E2E_TENANT_KUBECONFIG
export TELEPHONY_E2E_SERVER_VERSION=$server_version
export TELEPHONY_E2E_AUDIT_LOG=$work/audit.log
export PATH=$bin:\$PATH
ENV
echo "real-cluster: serving until Ctrl-C" >&2
while kill -0 "${pids[-1]}" 2>/dev/null; do sleep 1; done
