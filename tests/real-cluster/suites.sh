#!/usr/bin/env bash
# Runs inside start.sh (the TELEPHONY_E2E_* variables point at the real server): each suite's
# cargo tests, then one summary line per suite and a total. Every suite selects the workspace's
# default members (no -p), so it reuses the test binaries `cargo test` built (same features).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
version="${TELEPHONY_E2E_SERVER_VERSION:?run me through start.sh}"
log_dir="$(mktemp -d)"
summary=()
total_passed=0; total_failed=0; failed_suites=0

suite() { # name cargo-test-args...
  local name="$1"; shift
  local log="$log_dir/$name.log"
  echo "== $name on kube-apiserver $version: cargo test $*"
  cargo test "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local passed failed
  passed=$(sed -n 's/^test result: .* \([0-9]\+\) passed; \([0-9]\+\) failed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  failed=$(sed -n 's/^test result: .* \([0-9]\+\) passed; \([0-9]\+\) failed.*/\2/p' "$log" | awk '{s+=$1} END {print s+0}')
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  total_passed=$((total_passed + passed)); total_failed=$((total_failed + failed))
  [ "$status" -ne 0 ] && failed_suites=$((failed_suites + 1))
  summary+=("$name on kube-apiserver $version: $passed passed, $failed failed")
}

suite e2e --test e2e_scenarios --test e2e_purchase_writes real_cluster
suite emulator-conformance --test kube_api --test kube_runtime --test kubectl --test schema_crds
suite bad-input --test bad_input_catalogue
suite admission-policy --test admission_policy
suite real-cluster-checks --test real_cluster

check() { # name command... : a check that is not a cargo test counts as one test (its exit status)
  local name="$1"; shift
  echo "== $name on kube-apiserver $version: $*"
  if "$@"; then
    total_passed=$((total_passed + 1))
    summary+=("$name on kube-apiserver $version: 1 passed, 0 failed")
  else
    total_failed=$((total_failed + 1)); failed_suites=$((failed_suites + 1))
    summary+=("$name on kube-apiserver $version: 0 passed, 1 failed")
  fi
}
# Further suites, one file each (they call `suite` or `check`).
for extra in "$root"/tests/real-cluster/suites.d/*.sh; do
  [ -f "$extra" ] || continue
  . "$extra"
done
# Last: reads the audit log of everything the operator did in the suites above.
suite least-privilege --test rbac_least_privilege

echo
echo "== real-cluster summary"
for line in "${summary[@]}"; do echo "$line"; done
echo "real-cluster: $total_passed passed, $total_failed failed"
rm -rf "$log_dir"
[ "$failed_suites" -eq 0 ]
