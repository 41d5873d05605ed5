# Monitoring (sourced by suites.sh, inside start.sh): the alert rules of deploy/monitoring/
# checked and unit-tested by the real promtool (tools/promtool/build.sh), every PromQL query of
# the Grafana dashboard parsed by promtool, and a scrape of a running operator's /metrics
# checked by `promtool check metrics` (tests/metrics_endpoint.rs with PROMTOOL set).

monitoring_promtool="${REAL_CLUSTER_TOOLS_DIR:-$root/target/real-cluster/tools}/promtool"   # tools/promtool/build.sh's output
monitoring_dir="$root/deploy/monitoring"

# The dashboard's queries as recording rules (Grafana's $namespace as ".*"), so that
# `promtool check rules` parses each one.
# (`check` runs this inside `if`, where `set -e` does nothing: every step is checked.)
monitoring_dashboard_queries() { (
  tmp="$(mktemp -d)" || exit 1
  trap 'rm -rf "$tmp"' EXIT
  rules="$tmp/dashboard-queries.yaml"
  queries="$(jq -c '[.panels[].targets[].expr] | to_entries[] | [.key, (.value | gsub("\\$namespace"; ".*"))]' \
    "$monitoring_dir/dashboard.json")" || { echo "monitoring: cannot read the dashboard's queries" >&2; exit 1; }
  [ -n "$queries" ] || { echo "monitoring: the dashboard has no queries" >&2; exit 1; }
  {
    echo "groups:"
    echo "  - name: dashboard-queries"
    echo "    rules:"
    while read -r entry; do
      echo "      - record: dashboard:query_$(jq -r '.[0]' <<<"$entry")"
      echo "        expr: $(jq -c '.[1]' <<<"$entry")"
    done <<<"$queries"
  } >"$rules" || exit 1
  "$monitoring_promtool" check rules "$rules"
) }

check monitoring-check-rules "$monitoring_promtool" check rules "$monitoring_dir/alerts.yaml"
check monitoring-test-rules "$monitoring_promtool" test rules "$monitoring_dir/alerts_test.yaml"
check monitoring-dashboard-queries monitoring_dashboard_queries
PROMTOOL="$monitoring_promtool" suite monitoring-scrape --test metrics_endpoint
