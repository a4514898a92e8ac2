package commit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// pureFiles are the decision core and the batch state machine: they must
// stay deterministic and free of I/O, so that Plan and the rules it uses
// can be table-tested exactly.
var pureFiles = []string{"core.go", "fees.go", "failure.go", "mpool.go", "errors.go", "lifecycle.go", "lifecycle_table.go"}

// pureImports is everything the pure files may import: formatting, data
// and the value types of the chain and store packages.
var pureImports = map[string]bool{
	"errors": true, "fmt": true, "regexp": true, "slices": true, "strconv": true, "strings": true, "time": true,
	"github.com/ipfs/go-cid":                 true,
	"github.com/sealant/sealant/chain/miner": true,
	"github.com/sealant/sealant/chain/rand":  true,
	"github.com/sealant/sealant/chain/types": true,
	"github.com/sealant/sealant/store":       true,
}

// impure are the package-level functions the pure files must not call:
// clocks and timers, and anything that opens a store.
var impure = map[string]map[string]bool{
	"time":  {"Now": true, "Sleep": true, "After": true, "AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true, "Since": true, "Until": true},
	"store": {"Open": true},
}

// TestPurity enforces the promise of the pure files at the source level:
// allowed imports only; no clock, timer or store access; no goroutines,
// channels or select; and no use of the runner (*Pipeline).
func TestPurity(t *testing.T) {
	fset := token.NewFileSet()
	for _, name := range pureFiles {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !pureImports[path] {
				t.Errorf("%s imports %q; the decision core must stay pure", fset.Position(imp.Pos()), path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt, *ast.ChanType, *ast.SelectStmt:
				t.Errorf("%s: goroutines and channels belong in the runner", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if pkg, ok := n.X.(*ast.Ident); ok && impure[pkg.Name][n.Sel.Name] {
					t.Errorf("%s: %s.%s is I/O or a clock; pass it in as a fact", fset.Position(n.Pos()), pkg.Name, n.Sel.Name)
				}
			case *ast.Ident:
				if n.Name == "Pipeline" {
					t.Errorf("%s: the pure core must not use the runner", fset.Position(n.Pos()))
				}
			}
			return true
		})
	}
}
