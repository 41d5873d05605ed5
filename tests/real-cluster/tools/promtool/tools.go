//go:build tools

// Package tools pins promtool (github.com/prometheus/prometheus/cmd/promtool) in this module's
// go.mod and go.sum; build.sh builds it from there. Test tooling only.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
