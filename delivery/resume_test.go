package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
)

// cutProxy forwards TCP to target and cuts the connection carrying the
// client→server byte at each of the cut points (cumulative over all
// connections).
type cutProxy struct {
	ln     net.Listener
	target string

	mu   sync.Mutex
	sent int64
	cuts []int64
	done int
}

func newCutProxy(t *testing.T, target string, cuts []int64) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, cuts: cuts}
	go p.serve()
	t.Cleanup(func() { ln.Close() })
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

func (p *cutProxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	go func() { io.Copy(c, s); c.Close() }()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			p.mu.Lock()
			allow := int64(n)
			cut := false
			if p.done < len(p.cuts) && p.sent+allow >= p.cuts[p.done] {
				allow = p.cuts[p.done] - p.sent
				p.done++
				cut = true
			}
			p.sent += allow
			p.mu.Unlock()
			if allow > 0 {
				s.Write(buf[:allow])
			}
			if cut {
				c.Close()
				s.Close()
				return
			}
		}
		if err != nil {
			s.Close()
			return
		}
	}
}

// chunkLedger wraps the receiver's handler and records, per (file,
// offset), when a chunk was committed and how many body bytes arrived for
// it afterwards: those would be re-sent finished chunks.
type chunkLedger struct {
	mu        sync.Mutex
	committed map[string]bool
	resent    int64
	body      int64
	// cutAfter[i] = k: the i-th chunk request is cut after k body bytes
	// (the connection dies mid-chunk).
	cutAfter map[int]int64
	requests int
	bodyCuts int
}

func (l *chunkLedger) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/chunk") {
			h.ServeHTTP(w, r)
			return
		}
		key := r.URL.Query().Get("file") + "@" + r.URL.Query().Get("offset")
		l.mu.Lock()
		already := l.committed[key]
		cutAt, cut := l.cutAfter[l.requests]
		l.requests++
		l.mu.Unlock()
		cr := &countReader{r: r.Body, limit: -1}
		r.Body = cr
		rw := &statusWriter{ResponseWriter: w, status: 200}
		if cut {
			// The receiver sees the body end early; the sender sees its
			// connection die without an answer.
			cr.limit = cutAt
			rw.discard = true
		}
		h.ServeHTTP(rw, r)
		if cut {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if cut {
			l.bodyCuts++
		}
		l.body += cr.n
		if already {
			l.resent += cr.n
		}
		if rw.status == http.StatusOK {
			l.committed[key] = true
		}
	})
}

type countReader struct {
	r     io.ReadCloser
	n     int64
	limit int64 // -1: none
}

func (c *countReader) Read(p []byte) (int, error) {
	if c.limit >= 0 {
		if c.n >= c.limit {
			return 0, io.ErrUnexpectedEOF
		}
		p = p[:min(int64(len(p)), c.limit-c.n)]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) Close() error { return c.r.Close() }

type statusWriter struct {
	http.ResponseWriter
	status  int
	discard bool
}

func (w *statusWriter) WriteHeader(s int) {
	w.status = s
	if !w.discard {
		w.ResponseWriter.WriteHeader(s)
	}
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.discard {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func totalSize(files []api.LocalFile) int64 {
	var n int64
	for _, f := range files {
		n += f.Size
	}
	return n
}

// A transfer cut at random points still completes, and no chunk the
// receiver acknowledged is ever sent again: the receiver keeps running,
// so its acknowledged progress survives every cut, whatever its commit
// policy (commits by size, on every chunk, or by time all run under the
// cuts).
func TestTransferSurvivesCuts(t *testing.T) {
	policies := []struct {
		name string
		mod  func(*ReceiverConfig)
	}{
		{"default", nil},
		{"commit every chunk", func(c *ReceiverConfig) { c.CommitBytes = 1 }},
		{"commit by time", func(c *ReceiverConfig) { c.CommitInterval = time.Nanosecond }},
	}
	for i, p := range policies {
		t.Run(p.name, func(t *testing.T) { testTransferSurvivesCuts(t, p.mod, uint64(10*i)) })
	}
}

func testTransferSurvivesCuts(t *testing.T, mod func(*ReceiverConfig), base uint64) {
	for _, seed := range []uint64{1, 2, 3} {
		e := newEnv(t, mod)
		rng := rand.New(rand.NewPCG(seed, 42))
		// Half the chunk requests die mid-body at a random byte.
		ledger := &chunkLedger{committed: map[string]bool{}, cutAfter: map[int]int64{}}
		for i := 0; i < 40; i += 2 {
			ledger.cutAfter[i+rng.IntN(2)] = rng.Int64N(256)
		}
		srv := &http.Server{Handler: ledger.wrap(e.r.Handler())}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })

		s := newTestSector(t, 200+base+seed)
		total := totalSize(s.files)
		// The metadata goes directly; the uploads go through a proxy that
		// cuts them N times at random points of the byte stream (headers
		// and bodies alike), about one cut per one or two chunks.
		_, rec := sealed(t)
		e.chain.prove(s.id.Number, rec.CommR)
		c := testClient()
		c.ChunkSize = 256
		ctx := context.Background()
		if _, err := c.PushMetadata(ctx, Endpoint{URL: "http://" + ln.Addr().String(), Token: e.tok}, s.md); err != nil {
			t.Fatal(err)
		}
		const N = 12
		var cuts []int64
		at := int64(0)
		for range N {
			at += 1 + rng.Int64N(3*c.ChunkSize)
			cuts = append(cuts, at)
		}
		proxy := newCutProxy(t, ln.Addr().String(), cuts)
		ep := Endpoint{URL: "http://" + proxy.ln.Addr().String(), Token: e.tok}
		target := api.DeliveryTarget{ReceiverURL: ep.URL, Token: ep.Token}
		var lastErr error
		for attempt := 0; attempt < 50; attempt++ {
			if lastErr = c.Transfer(ctx, target, s.id, s.files); lastErr == nil {
				break
			}
		}
		if lastErr != nil {
			t.Fatalf("seed %d: transfer never completed: %v", seed, lastErr)
		}
		proxy.mu.Lock()
		cutsDone := proxy.done
		proxy.mu.Unlock()
		ledger.mu.Lock()
		resent, body := ledger.resent, ledger.body
		ledger.mu.Unlock()
		if body <= total {
			t.Errorf("seed %d: no partial chunk ever arrived (%d body bytes): the cuts did not hit bodies", seed, body)
		}
		if resent != 0 {
			t.Errorf("seed %d: %d bytes of committed chunks were sent again", seed, resent)
		}
		// At most one partial chunk per cut is lost.
		if body > total+int64(cutsDone+ledger.bodyCuts)*c.ChunkSize {
			t.Errorf("seed %d: %d body bytes for %d bytes of files and %d cuts", seed, body, total, cutsDone)
		}
		if cutsDone < N || ledger.bodyCuts < 10 {
			t.Errorf("seed %d: only %d connection and %d body cuts happened", seed, cutsDone, ledger.bodyCuts)
		}
		for _, f := range s.files {
			if got, want := readAll(t, filepath.Join(e.store, filepath.FromSlash(f.Name))), readAll(t, f.Path); string(got) != string(want) {
				t.Errorf("seed %d: %s differs", seed, f.Name)
			}
		}
		t.Logf("seed %d: %d connection cuts, %d mid-body cuts, %d body bytes for %d bytes of files", seed, cutsDone, ledger.bodyCuts, body, total)
	}
}

// A full disk gives a clear error; the transfer resumes from the last
// acknowledged chunk once space is freed, sending only what is missing.
func TestDiskFullResumes(t *testing.T) {
	disk := NewBudgetDisk(1000)
	e := newEnv(t, func(c *ReceiverConfig) { c.Disk = disk })
	s := newTestSector(t, 301)
	c := testClient()
	c.ChunkSize = 256
	err := e.deliver(t, s, c)
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("transfer on a full disk: %v", err)
	}
	st, err := c.Status(context.Background(), e.endpoint(), s.id)
	if err != nil {
		t.Fatal(err)
	}
	var committed int64
	for _, f := range st.Files {
		committed += f.Received
		if f.Received%c.ChunkSize != 0 && !f.Complete {
			t.Errorf("%s stopped at %d, not a chunk boundary", f.Name, f.Received)
		}
		// Nothing beyond the committed offset stays on disk.
		if fi, err := os.Stat(e.r.incomingPath(s.id, f.Name)); err == nil && fi.Size() != f.Received {
			t.Errorf("%s: %d bytes on disk, %d committed", f.Name, fi.Size(), f.Received)
		}
	}
	if committed == 0 || committed > 1000 {
		t.Fatalf("committed %d bytes under a 1000-byte budget", committed)
	}
	// Still full: the same clear error, nothing lost.
	if err := c.Transfer(context.Background(), e.target(), s.id, s.files); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("second attempt: %v", err)
	}
	disk.Grow(1 << 20)
	before := e.r.BytesReceived()
	if err := c.Transfer(context.Background(), e.target(), s.id, s.files); err != nil {
		t.Fatalf("after freeing space: %v", err)
	}
	if sent, want := e.r.BytesReceived()-before, totalSize(s.files)-committed; sent != want {
		t.Errorf("resumed transfer sent %d bytes, want exactly the %d missing", sent, want)
	}
}

func TestDiskFullMapping(t *testing.T) {
	cases := []struct {
		err  error
		full bool
	}{
		{&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, true},
		{&os.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}, true},
		{&os.PathError{Op: "write", Path: "x", Err: syscall.EIO}, false},
		{errors.New("other"), false},
	}
	for _, c := range cases {
		if got := errors.Is(mapDiskErr(c.err), ErrDiskFull); got != c.full {
			t.Errorf("%v: full=%v", c.err, got)
		}
	}
	if mapDiskErr(nil) != nil {
		t.Error("nil mapped to an error")
	}
}

// flipOnce wraps the receiver's handler and flips one bit of the body of
// the first chunk request for (file, offset) — a transmission error the
// TCP checksum missed — and counts the answers to chunk requests.
type flipOnce struct {
	file    string
	offset  int64
	mu      sync.Mutex
	done    bool
	answers map[int]int
}

func (fl *flipOnce) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/chunk") {
			h.ServeHTTP(w, r)
			return
		}
		fl.mu.Lock()
		flip := !fl.done && r.URL.Query().Get("file") == fl.file && r.URL.Query().Get("offset") == strconv.FormatInt(fl.offset, 10)
		fl.done = fl.done || flip
		fl.mu.Unlock()
		if flip {
			r.Body = &flipReader{ReadCloser: r.Body, at: 7}
		}
		rw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(rw, r)
		fl.mu.Lock()
		fl.answers[rw.status]++
		fl.mu.Unlock()
	})
}

type flipReader struct {
	io.ReadCloser
	n, at int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	k, err := f.ReadCloser.Read(p)
	if f.at >= f.n && f.at < f.n+int64(k) {
		p[f.at-f.n] ^= 0x10
	}
	f.n += int64(k)
	return k, err
}

// A chunk damaged in transit is refused at that chunk (ErrChecksum, not
// acknowledged), sent again, and the sector is accepted: first, middle
// and last chunk of the replica (the last one's check is the whole-file
// digest, and a damaged last chunk must still be a retry, not a
// rejection), and a file that is one chunk.
func TestCorruptedChunkDetected(t *testing.T) {
	const chunk = 256
	cases := []struct {
		name   string
		file   string
		offset func(size int64) int64
	}{
		{"first chunk", "sealed", func(int64) int64 { return 0 }},
		{"middle chunk", "sealed", func(size int64) int64 { return size / 2 / chunk * chunk }},
		{"last chunk", "sealed", func(size int64) int64 { return (size - 1) / chunk * chunk }},
		{"single-chunk file", "p_aux", func(int64) int64 { return 0 }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			s := newTestSector(t, 601+uint64(i))
			var lf api.LocalFile
			for _, f := range s.files {
				if f.Path == s.path(t, tc.file) {
					lf = f
				}
			}
			off := tc.offset(lf.Size)
			fl := &flipOnce{file: lf.Name, offset: off, answers: map[int]int{}}
			srv := httptest.NewServer(fl.wrap(e.r.Handler()))
			defer srv.Close()
			e.srv = srv
			c := testClient()
			c.ChunkSize = chunk
			if err := e.deliver(t, s, c); err != nil {
				t.Fatalf("transfer: %v", err)
			}
			fl.mu.Lock()
			defer fl.mu.Unlock()
			if !fl.done || fl.answers[http.StatusUnprocessableEntity] != 1 {
				t.Fatalf("flipped %v; answers %v: want exactly one chunk refused with 422", fl.done, fl.answers)
			}
			// Exactly the damaged chunk was sent twice.
			n := min(chunk, lf.Size-off)
			if got, want := e.r.BytesReceived(), totalSize(s.files)+n; got != want {
				t.Errorf("receiver read %d body bytes, want %d (the damaged chunk once more)", got, want)
			}
			st, err := c.Status(context.Background(), e.endpoint(), s.id)
			if err != nil || st.State != api.DeliveryAccepted {
				t.Fatalf("status %+v %v", st, err)
			}
		})
	}
}

// Mismatched protocol versions fail at once and say what to upgrade: an
// old client (per-chunk SHA-256, no version) is refused before its body
// is read; a new client facing a receiver that does not announce the
// version stops instead of retrying checksum errors.
func TestProtocolVersion(t *testing.T) {
	t.Run("old client", func(t *testing.T) {
		e := newEnv(t, nil)
		s := newTestSector(t, 651)
		e.onChain(t, s)
		if _, err := testClient().PushMetadata(context.Background(), e.endpoint(), s.md); err != nil {
			t.Fatal(err)
		}
		body := strings.NewReader(strings.Repeat("x", 256))
		req, _ := http.NewRequest(http.MethodPut, e.endpoint().sectorURL(s.id, "/chunk?file="+s.files[0].Name+"&offset=0&length=256"), body)
		req.Header.Set("Authorization", "Bearer "+e.tok)
		req.Header.Set("Expect", "100-continue")
		req.Header.Set("Sealant-Chunk-Sha256", strings.Repeat("0", 64))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var we wireError
		if err := json.NewDecoder(resp.Body).Decode(&we); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusBadRequest || we.Code != "invalid" || !strings.Contains(we.Error, "upgrade the provider") {
			t.Fatalf("answer %d %+v", resp.StatusCode, we)
		}
		if n := e.r.BytesReceived(); n != 0 {
			t.Errorf("receiver read %d body bytes of a refused chunk", n)
		}
	})
	t.Run("old receiver", func(t *testing.T) {
		e := newEnv(t, nil)
		var chunks int
		var mu sync.Mutex
		old := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/chunk") {
				mu.Lock()
				chunks++
				mu.Unlock()
			}
			e.r.Handler().ServeHTTP(&noVersionWriter{ResponseWriter: w}, r)
		})
		srv := httptest.NewServer(old)
		defer srv.Close()
		e.srv = srv
		s := newTestSector(t, 652)
		err := e.deliver(t, s, testClient())
		if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "upgrade the SP's sealant receiver") {
			t.Fatalf("transfer: %v", err)
		}
		if chunks != 1 {
			t.Errorf("%d chunk requests, want 1 (no retries)", chunks)
		}
	})
}

// noVersionWriter hides the protocol header, as an older receiver sends.
type noVersionWriter struct{ http.ResponseWriter }

func (w *noVersionWriter) WriteHeader(s int) {
	w.Header().Del(ProtocolHeader)
	w.ResponseWriter.WriteHeader(s)
}

func (w *noVersionWriter) Write(b []byte) (int, error) {
	w.Header().Del(ProtocolHeader)
	return w.ResponseWriter.Write(b)
}
