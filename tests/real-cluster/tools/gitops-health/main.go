// gitops-health reads Kubernetes objects as JSON and prints, per object, what two GitOps tools
// make of it, judged by their own code:
//
//   - kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status.Compute), what Flux's health checks,
//     `flux ... --wait` and kpt/cli-utils appliers use: InProgress, Current, Failed, Terminating…
//   - Argo CD's resource health, computed the way Argo CD computes it for a custom resource with
//     a health check in argocd-cm (`resource.customizations.health.<group>_<Kind>`): an object
//     being deleted is Progressing ("Pending deletion") before any script runs; otherwise the
//     script <lua-dir>/<group>_<Kind>.lua runs in gopher-lua (the interpreter Argo CD embeds) in
//     a state with the standard libraries skipped and only package, base and table opened (what
//     Argo CD opens for a script from argocd-cm without useOpenLibs; it also opens a reduced
//     `os`, which these scripts do not use, so it is not opened here and using it would fail),
//     with the object as the global `obj`, a one-second deadline, and the returned table read as
//     {status, message}; a status Argo CD does not know becomes Unknown.
//
// Input (stdin): one object, a JSON array of objects, or a List ({"items": [...]}).
// Output (stdout): a JSON array, one entry per object, in input order:
//
//	{"apiVersion","kind","namespace","name","kstatus":{"status","message"},"argocd":{"status","message"}}
//
// "argocd" is null when no script exists for the kind (Argo CD then has no health for it).
// Exit status: 0 when every object was judged, 1 on unreadable input or a script error.
//
// Test tooling only; nothing here is linked into the operator.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

type result struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Name       string   `json:"name"`
	Kstatus    verdict  `json:"kstatus"`
	ArgoCD     *verdict `json:"argocd"`
}

func main() {
	luaDir := flag.String("lua-dir", "", "directory holding <group>_<Kind>.lua Argo CD health scripts")
	flag.Parse()
	if err := run(os.Stdin, os.Stdout, *luaDir); err != nil {
		fmt.Fprintln(os.Stderr, "gitops-health:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer, luaDir string) error {
	objs, err := readObjects(in)
	if err != nil {
		return err
	}
	results := make([]result, 0, len(objs))
	for _, o := range objs {
		u := &unstructured.Unstructured{Object: o}
		r := result{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
		ks, err := status.Compute(u)
		if err != nil {
			return fmt.Errorf("kstatus of %s %s: %w", r.Kind, r.Name, err)
		}
		r.Kstatus = verdict{Status: ks.Status.String(), Message: ks.Message}
		r.ArgoCD, err = argoHealth(u, luaDir)
		if err != nil {
			return fmt.Errorf("Argo CD health of %s %s: %w", r.Kind, r.Name, err)
		}
		results = append(results, r)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

// readObjects accepts one object, an array of objects, or a List ({"items": [...]}). Numbers
// are decoded the way client-go decodes them into unstructured objects (int64 when integral,
// else float64), which kstatus's NestedInt64 and Argo CD's decodeValue both expect.
func readObjects(in io.Reader) ([]map[string]interface{}, error) {
	dec := json.NewDecoder(in)
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("reading JSON from stdin: %w", err)
	}
	v = numbers(v)
	var items []interface{}
	switch x := v.(type) {
	case []interface{}:
		items = x
	case map[string]interface{}:
		if list, ok := x["items"].([]interface{}); ok {
			items = list
		} else {
			items = []interface{}{x}
		}
	default:
		return nil, errors.New("stdin holds neither an object, an array nor a List")
	}
	objs := make([]map[string]interface{}, 0, len(items))
	for i, it := range items {
		m, ok := it.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("item %d is not an object", i)
		}
		objs = append(objs, m)
	}
	return objs, nil
}

func numbers(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []interface{}:
		for i := range x {
			x[i] = numbers(x[i])
		}
	case map[string]interface{}:
		for k := range x {
			x[k] = numbers(x[k])
		}
	}
	return v
}

// Argo CD's health status codes (gitops-engine pkg/health).
var argoCodes = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

func argoHealth(u *unstructured.Unstructured, luaDir string) (*verdict, error) {
	if u.GetDeletionTimestamp() != nil {
		return &verdict{Status: "Progressing", Message: "Pending deletion"}, nil
	}
	gvk := u.GroupVersionKind()
	if luaDir == "" || gvk.Group == "" {
		return nil, nil
	}
	script, err := os.ReadFile(filepath.Join(luaDir, gvk.Group+"_"+gvk.Kind+".lua"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return runHealthLua(u.Object, string(script))
}

func runHealthLua(obj map[string]interface{}, script string) (*verdict, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return nil, err
	}
	ret := l.Get(-1)
	table, ok := ret.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("expect table output from Lua script, not %s", ret.Type().String())
	}
	// Argo CD encodes the table as JSON and decodes it into {status, message}.
	b, err := json.Marshal(fromLua(table))
	if err != nil {
		return nil, err
	}
	var hs struct {
		Status  string `json:"status,omitempty"`
		Message string `json:"message,omitempty"`
	}
	if err := json.Unmarshal(b, &hs); err != nil {
		return nil, err
	}
	if !argoCodes[hs.Status] {
		return &verdict{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return &verdict{Status: hs.Status, Message: hs.Message}, nil
}

// toLua converts a decoded JSON value as Argo CD's decodeValue does: numbers become Lua
// numbers, arrays become sequences, objects tables with string keys, null nil.
func toLua(l *lua.LState, v interface{}) lua.LValue {
	switch x := v.(type) {
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case int:
		return lua.LNumber(x)
	case int32:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case json.Number:
		return lua.LString(x)
	case []interface{}:
		t := l.CreateTable(len(x), 0)
		for _, it := range x {
			t.Append(toLua(l, it))
		}
		return t
	case map[string]interface{}:
		t := l.CreateTable(0, len(x))
		for k, it := range x {
			t.RawSetH(lua.LString(k), toLua(l, it))
		}
		return t
	}
	return lua.LNil
}

// fromLua converts a Lua value back to JSON-able Go, as gopher-json's Encode does: a table with
// a sequence part is an array, otherwise an object (string keys).
func fromLua(v lua.LValue) interface{} {
	switch x := v.(type) {
	case lua.LBool:
		return bool(x)
	case lua.LNumber:
		return float64(x)
	case lua.LString:
		return string(x)
	case *lua.LTable:
		if x.MaxN() > 0 {
			arr := make([]interface{}, 0, x.MaxN())
			for i := 1; i <= x.MaxN(); i++ {
				arr = append(arr, fromLua(x.RawGetInt(i)))
			}
			return arr
		}
		m := map[string]interface{}{}
		x.ForEach(func(k, val lua.LValue) {
			if ks, ok := k.(lua.LString); ok {
				m[string(ks)] = fromLua(val)
			}
		})
		return m
	}
	return nil
}
