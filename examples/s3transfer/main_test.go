package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// fakeS3 keeps objects in memory: PUT (plain or aws-chunked) and HEAD.
type fakeS3 struct {
	mu   sync.Mutex
	objs map[string][]byte
	meta map[string]http.Header
	puts int
}

func (s *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.URL.Path
	switch r.Method {
	case http.MethodPut:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
			body = decodeAWSChunked(body)
		}
		s.objs[key] = body
		s.meta[key] = r.Header.Clone()
		s.puts++
		w.Header().Set("ETag", `"`+strconv.Itoa(len(body))+`"`)
	case http.MethodHead:
		b, ok := s.objs[key]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		for k, v := range s.meta[key] {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-meta-") {
				w.Header()[k] = v
			}
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Header().Set("ETag", `"`+strconv.Itoa(len(b))+`"`)
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
	default:
		http.Error(w, "unsupported", 400)
	}
}

func decodeAWSChunked(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte("\r\n"))
		sz, _ := strconv.ParseInt(string(bytes.SplitN(line, []byte(";"), 2)[0]), 16, 64)
		if sz == 0 {
			break
		}
		out = append(out, rest[:sz]...)
		b = rest[sz+2:]
	}
	return out
}

func TestCopySectorToS3(t *testing.T) {
	s3 := &fakeS3{objs: map[string][]byte{}, meta: map[string]http.Header{}}
	srv := httptest.NewServer(s3)
	defer srv.Close()
	dir := t.TempDir()
	sealed := filepath.Join(dir, "sealed")
	cache := filepath.Join(dir, "cache")
	os.MkdirAll(cache, 0o755)
	os.WriteFile(sealed, bytes.Repeat([]byte{7}, 2048), 0o644)
	os.WriteFile(filepath.Join(cache, "p_aux"), bytes.Repeat([]byte{1}, 64), 0o644)
	os.WriteFile(filepath.Join(cache, "t_aux"), []byte("t_aux bytes"), 0o644)

	c := &copier{defaults: target{Region: "us-east-1"}, access: "AK", secret: "SK", clients: map[target]*minio.Client{}}
	storeName := "receiver"
	tk := task{
		Stores: map[string]store{storeName: {Name: storeName, Meta: map[string]string{
			"endpoint": strings.TrimPrefix(srv.URL, "http://"), "bucket": "sectors", "prefix": "f01000", "secure": "false"}}},
		Routes: []route{
			{Src: end{URI: sealed}, Dest: end{StoreName: &storeName, URI: "sealed/s-t01000-5"}},
			{Src: end{URI: cache}, Dest: end{StoreName: &storeName, URI: "cache/s-t01000-5"}, Opt: &option{IsDir: true}},
		},
	}
	run := func() response {
		req, _ := json.Marshal(request{ID: 42, Task: tk})
		var out bytes.Buffer
		if err := serve(context.Background(), c, bytes.NewReader(append(req, '\n')), &out); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(&out)
		sc.Scan()
		if sc.Text() != "transfer processor ready" {
			t.Fatalf("first line %q", sc.Text())
		}
		sc.Scan()
		var resp response
		if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
			t.Fatalf("response %q: %v", sc.Text(), err)
		}
		return resp
	}
	resp := run()
	if resp.ID != 42 || resp.ErrMsg != nil || resp.Output == nil || !*resp.Output {
		t.Fatalf("response %+v (err %v)", resp, deref(resp.ErrMsg))
	}
	want := map[string]string{
		"/sectors/f01000/sealed/s-t01000-5":      sealed,
		"/sectors/f01000/cache/s-t01000-5/p_aux": filepath.Join(cache, "p_aux"),
		"/sectors/f01000/cache/s-t01000-5/t_aux": filepath.Join(cache, "t_aux"),
	}
	for k, p := range want {
		b, _ := os.ReadFile(p)
		if !bytes.Equal(s3.objs[k], b) {
			t.Errorf("object %s: %d bytes, want %d", k, len(s3.objs[k]), len(b))
		}
	}
	// A second run finds everything in place and uploads nothing.
	puts := s3.puts
	if resp := run(); resp.ErrMsg != nil {
		t.Fatalf("rerun: %s", *resp.ErrMsg)
	}
	if s3.puts != puts {
		t.Errorf("rerun uploaded %d objects again", s3.puts-puts)
	}
	// A bad route is reported, not fatal to the process.
	tk.Routes = []route{{Src: end{URI: filepath.Join(dir, "missing")}, Dest: end{StoreName: &storeName, URI: "x"}}}
	if resp := run(); resp.ErrMsg == nil || !strings.Contains(*resp.ErrMsg, "missing") {
		t.Fatalf("missing source: %+v", resp)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return fmt.Sprint(*s)
}
