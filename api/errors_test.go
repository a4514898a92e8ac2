package api

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/api-errors.md from the registry")

const (
	docPath     = "../docs/api-errors.md"
	beginMarker = "<!-- BEGIN GENERATED: api.ErrorsMarkdown -->\n"
	endMarker   = "<!-- END GENERATED -->\n"
)

// TestErrorsDocCurrent keeps the table of docs/api-errors.md equal to the
// registry (go test ./api -update rewrites it).
func TestErrorsDocCurrent(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, beginMarker), strings.Index(doc, endMarker)
	if i < 0 || j < i {
		t.Fatalf("%s: generated section markers missing", docPath)
	}
	want := doc[:i+len(beginMarker)] + ErrorsMarkdown() + doc[j:]
	if want == doc {
		return
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with api.ErrorCodes: run go test ./api -update", docPath)
}

// TestErrorCodes checks the registry's invariants: unique codes, names and
// sentinels, codes outside JSON-RPC's reserved range, lookups both ways.
func TestErrorCodes(t *testing.T) {
	codes, names, errs := map[int]bool{}, map[string]bool{}, map[error]bool{}
	for _, e := range ErrorCodes {
		if codes[e.Code] || names[e.Name] || errs[e.Err] {
			t.Errorf("duplicate entry %d %s", e.Code, e.Name)
		}
		codes[e.Code], names[e.Name], errs[e.Err] = true, true, true
		if e.Code >= -32768 && e.Code <= -32000 || e.Code == 0 || e.Code == 1 {
			t.Errorf("%s: code %d is reserved by JSON-RPC or package rpc", e.Name, e.Code)
		}
		if e.Meaning == "" || e.GoName == "" {
			t.Errorf("%s: undocumented", e.Name)
		}
		if got, ok := ErrorByCode(e.Code); !ok || got.Err != e.Err {
			t.Errorf("ErrorByCode(%d) = %v", e.Code, got.Name)
		}
	}
}
