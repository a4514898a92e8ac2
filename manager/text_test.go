package manager

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sealant/sealant/api"
)

// TestTextValidatedAtEdge: NUL characters and invalid UTF-8 in any text
// parameter are refused with the validation error (-32030 family code
// api.CodeInvalid) on every store, instead of being stored (SQLite) or
// failing with -32603 (PostgreSQL, SQLSTATE 22021).
func TestTextValidatedAtEdge(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	mustTenant(t, s, "a", 1000, 1)
	url := serve(t, s)
	wtok := issue(t, s, api.TokenRequest{Role: "worker", Subject: "w1"})
	atok := issue(t, s, api.TokenRequest{Role: "admin"})
	call := func(tok, method, params string) (int, string) {
		t.Helper()
		body := `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":` + params + `}`
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Error *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r.Error == nil {
			return 0, ""
		}
		return r.Error.Code, r.Error.Message
	}
	cases := []struct{ name, tok, method, params string }{
		{"thread NUL", wtok, api.MethodAllocateSector, `[{"worker":"w1","thread":"t\u0000"}]`},
		{"thread bad utf8", wtok, api.MethodAllocateSector, "[{\"worker\":\"w1\",\"thread\":\"t\xff\xfe\"}]"},
		{"thread lone surrogate", wtok, api.MethodAllocateSector, `[{"worker":"w1","thread":"t\ud800"}]`},
		{"token note NUL", atok, api.MethodAdminTokenIssue, `[{"role":"worker","subject":"w2","note":"x\u0000y"}]`},
		{"list worker filter NUL", atok, api.MethodListSectors, `[{"tenant":"a","worker":"w\u0000"}]`},
		{"report state failure NUL", wtok, api.MethodReportState, `[{"Miner":1000,"Number":1},{"worker":"w1","thread":"t0","prev":"PC1Done","next":"PC2Done","event":"x","failure":{"level":"temporary","desc":"boom\u0000"}}]`},
	}
	for _, tc := range cases {
		code, msg := call(tc.tok, tc.method, tc.params)
		if code != api.CodeInvalid || !(strings.Contains(msg, "NUL") || strings.Contains(msg, "UTF-8")) {
			t.Errorf("%s: code %d %q, want %d naming the text problem", tc.name, code, msg, api.CodeInvalid)
		}
	}
	// Valid text, including a real U+FFFD and escapes, still passes.
	if code, msg := call(wtok, api.MethodAllocateSector, `[{"worker":"w1","thread":"t\ufffd \u00e9 \"q\""}]`); code != 0 {
		t.Errorf("valid text refused: %d %s", code, msg)
	}
}
