// Package all_test holds repository-wide meta-tests: the package import
// graph, the determinism bans in the simulation core, and go.mod tidiness.
package all_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allowed lists, per package, the hbsim packages it may import.
var allowed = map[string][]string{
	"clock":             {},
	"sim":               {"hbsim/clock"},
	"model":             {"hbsim/clock", "hbsim/sim"},
	"experiments":       {"hbsim/clock", "hbsim/sim", "hbsim/model", "hbsim/experiments/fit"},
	"experiments/fit":   {}, // reads observations and fits laws: nothing of the simulator
	"experiments/zklog": {"hbsim/clock", "hbsim/model"},
	"plots":             {"hbsim/experiments", "hbsim/experiments/fit"},
	"cmd/hbsim":         {"hbsim/clock", "hbsim/model", "hbsim/experiments", "hbsim/experiments/fit", "hbsim/experiments/zklog", "hbsim/plots"},
}

// core packages may not touch the wall clock, the OS or global randomness.
var core = []string{"clock", "sim", "model"}

var bannedImports = []string{"os", "net", "sync", "math/rand", "log"}

var bannedCalls = map[string][]string{
	"time": {"Now", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick", "Since", "Until"},
	// package-level functions of math/rand/v2 draw from the global source
	"rand": {"Int", "IntN", "Int32", "Int32N", "Int64", "Int64N", "Uint32", "Uint32N", "Uint64", "Uint64N", "UintN", "Float32", "Float64", "ExpFloat64", "NormFloat64", "Perm", "Shuffle", "N"},
}

func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ImportsOnly|parser.ParseComments)
		if strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		require.NoError(t, err)
		full, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		require.NoError(t, err)
		_ = f
		files = append(files, full)
	}
	return files
}

func TestImportGraph(t *testing.T) {
	for pkg, ok := range allowed {
		for _, f := range parseDir(t, pkg) {
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(path, "hbsim/") {
					assert.Contains(t, ok, path, "%s imports %s", pkg, path)
				}
				if pkg == "plots" {
					assert.NotContains(t, []string{"hbsim/model", "hbsim/sim"}, path, "plots reads results only")
				}
			}
		}
	}
}

func TestCoreIsDeterministic(t *testing.T) {
	for _, pkg := range core {
		for _, f := range parseDir(t, pkg) {
			names := map[string]string{} // local name -> import path
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				assert.False(t, slices.Contains(bannedImports, path), "%s: %s imports %s", pkg, f.Name.Name, path)
				name := filepath.Base(path)
				if path == "math/rand/v2" {
					name = "rand"
				}
				if imp.Name != nil {
					name = imp.Name.Name
				}
				names[name] = path
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				id, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				path := names[id.Name]
				if path == "time" && slices.Contains(bannedCalls["time"], sel.Sel.Name) {
					t.Errorf("%s: time.%s reads the wall clock", pkg, sel.Sel.Name)
				}
				if path == "math/rand/v2" && slices.Contains(bannedCalls["rand"], sel.Sel.Name) {
					t.Errorf("%s: rand.%s draws from the global source", pkg, sel.Sel.Name)
				}
				return true
			})
		}
	}
}

func TestEveryPackageHasDocGo(t *testing.T) {
	for pkg := range allowed {
		if pkg == "cmd/hbsim" {
			continue
		}
		_, err := os.Stat(filepath.Join(pkg, "doc.go"))
		assert.NoError(t, err, "%s needs a doc.go stating its contract", pkg)
	}
}

func TestGoModTidy(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the module cache")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goBin, "mod", "tidy", "-diff").CombinedOutput()
	assert.NoError(t, err, "go mod tidy would change go.mod/go.sum:\n%s", out)
}
