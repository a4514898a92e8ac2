package sectorfsm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports is everything the non-test code may import: pure data and
// formatting packages. No net, os, time, database, sync, rand, log or
// syscall: the FSM must stay deterministic and free of I/O.
var allowedImports = map[string]bool{
	"bytes": true, "encoding/hex": true, "encoding/json": true, "errors": true,
	"fmt": true, "math/bits": true, "slices": true, "strconv": true, "strings": true,
}

// TestPurity enforces the package's promise at the source level: only
// allowed imports, and no goroutines, channels or select statements.
func TestPurity(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowedImports[path] {
				t.Errorf("%s imports %q; the FSM must stay pure", fset.Position(imp.Pos()), path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.GoStmt, *ast.ChanType, *ast.SelectStmt:
				t.Errorf("%s: goroutines and channels belong in the runner", fset.Position(n.Pos()))
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}
