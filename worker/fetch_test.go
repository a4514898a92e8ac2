package worker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/api"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://h.example/p/x.car", "https://h.example/p/x.car"},
		{"https://u:pw@h.example/x?X-Amz-Signature=abc#frag", "https://h.example/x?…"},
		{"http://h.example:8080/a%20b", "http://h.example:8080/a%20b"},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := redactURL(u); got != tc.want {
			t.Errorf("redactURL(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestFetchErrorHidesQuery checks that a failed download of a presigned URL
// does not copy its signature into the error (which reaches logs and the
// manager's sector record).
func TestFetchErrorHidesQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "denied", http.StatusForbidden)
	}))
	defer srv.Close()
	const secret = "X-Amz-Signature=deadbeef"
	x := &Executor{}
	dst := filepath.Join(t.TempDir(), "piece")
	for _, u := range []string{srv.URL + "/p?" + secret, "http://127.0.0.1:1/p?" + secret} {
		err := x.fetchOne(context.Background(), api.Piece{SourceURL: u}, dst)
		if err == nil {
			t.Fatalf("%s: fetch succeeded", u)
		}
		if strings.Contains(err.Error(), "deadbeef") {
			t.Errorf("error leaks the query: %v", err)
		}
	}
}
