// Command etcd is etcd's own entry point (go.etcd.io/etcd/server/v3/etcdmain), built inside
// this module so it shares the exact etcd release k8s.io/kubernetes was tested with.
// Test tooling only.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
