//go:build tools

// Package tools records the Go packages this module builds as binaries, so `go mod tidy`
// keeps their dependencies. Test tooling only: nothing here is linked into the operator.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/component-base/cli"
)
