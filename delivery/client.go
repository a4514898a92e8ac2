package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
)

// Client is the provider side of a delivery: it pushes sector metadata and
// uploads a sector's files to an SP's receiver, resuming from the
// receiver's committed offsets after any interruption. It implements the
// worker's Transferer (worker.Executor.Transferer) and is safe for
// concurrent use.
type Client struct {
	// HTTP is the client used; nil is a client with 100-continue enabled so
	// that a chunk the receiver refuses (stale offset, full disk) is not
	// sent at all.
	HTTP *http.Client
	// ChunkSize is the upload unit (default DefaultChunkSize).
	ChunkSize int64
	// MaxRetries bounds consecutive failed attempts without progress on
	// one file before Upload gives up (default 8); the caller retries
	// the whole Upload later, which resumes.
	MaxRetries int
	// RetryDelay is the first back-off between attempts (default 500ms,
	// doubling up to 30s).
	RetryDelay time.Duration
	// PollInterval is how often Transfer polls the receiver while it
	// verifies (default 2s).
	PollInterval time.Duration
	// VerifyWait bounds how long one Transfer call waits for the
	// receiver's verdict (default 6h: rebuilding a 32 GiB TreeR_last on a
	// small SP box is slow). Past it Transfer returns a retryable error;
	// calling it again resumes waiting without sending anything.
	VerifyWait time.Duration
	// RejectedError, if set, is wrapped (besides ErrRejected) into the
	// error returned for a rejected sector, so a caller with its own
	// sentinel (worker.ErrDeliveryRejected) can match it with errors.Is.
	RejectedError error
	// Logger receives progress; nil discards.
	Logger *slog.Logger
}

// NewClient returns a Client with defaults.
func NewClient() *Client { return &Client{} }

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

var defaultHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	ExpectContinueTimeout: 2 * time.Second,
	MaxIdleConnsPerHost:   4,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ResponseHeaderTimeout: 10 * time.Minute,
	ForceAttemptHTTP2:     false, // chunked uploads with trailers: HTTP/1.1
	// The transport writes each body piece (1 MiB, chunkBody.WriteTo) as
	// one HTTP chunk and flushes it; a buffer smaller than the piece lets
	// bufio hand the piece to the socket directly instead of copying it.
	WriteBufferSize: 64 << 10,
	ReadBufferSize:  64 << 10,
}}

func (c *Client) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (c *Client) chunkSize() int64 {
	if c.ChunkSize > 0 {
		return min(c.ChunkSize, MaxChunkSize)
	}
	return DefaultChunkSize
}

// Endpoint is a receiver's address and the provider token it issued.
type Endpoint struct {
	URL   string
	Token string
}

// EndpointOf takes the receiver from a delivery target. When the target
// has no separate token, a "#token=…" fragment of the URL supplies it (the
// form `sealant receiver token issue` prints, for tenants configured with a
// single receiver URL).
func EndpointOf(t api.DeliveryTarget) (Endpoint, error) {
	u, err := url.Parse(t.ReceiverURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Endpoint{}, fmt.Errorf("%w: receiver url %q", ErrInvalid, t.ReceiverURL)
	}
	tok := t.Token
	if frag, ok := strings.CutPrefix(u.Fragment, "token="); ok && tok == "" {
		tok = frag
	}
	u.Fragment, u.RawFragment = "", ""
	if tok == "" {
		return Endpoint{}, fmt.Errorf("%w: no token for receiver %s", ErrUnauthorized, u.Redacted())
	}
	return Endpoint{URL: strings.TrimRight(u.String(), "/"), Token: tok}, nil
}

func (e Endpoint) sectorURL(id api.SectorID, suffix string) string {
	return fmt.Sprintf("%s%s/sectors/%d/%d%s", e.URL, PathPrefix, id.Miner, id.Number, suffix)
}

// do sends one request and decodes a JSON answer into out, or the wire
// error into an error wrapping this package's sentinel. Transport failures
// are returned as they are (retryable).
func (c *Client) do(ctx context.Context, e Endpoint, method, u string, body io.Reader, hdr http.Header, out any) (*wireError, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+e.Token)
	return c.send(req, out)
}

func (c *Client) send(req *http.Request, out any) (*wireError, error) {
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("delivery: %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	if req.Header.Get(ProtocolHeader) != "" && resp.Header.Get(ProtocolHeader) != ProtocolVersion {
		// An older receiver would check the chunk against a hash it was
		// not sent and answer with checksum errors forever.
		v := resp.Header.Get(ProtocolHeader)
		if v == "" {
			v = "0"
		}
		return nil, fmt.Errorf("%w: the receiver at %s speaks delivery protocol %s, this client %s: upgrade the SP's sealant receiver",
			ErrProtocol, req.URL.Host, v, ProtocolVersion)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataSize))
	if err != nil {
		return nil, fmt.Errorf("delivery: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var we wireError
		if json.Unmarshal(raw, &we) != nil || we.Code == "" {
			return nil, fmt.Errorf("delivery: receiver answered %s: %s", resp.Status, bytes.TrimSpace(raw))
		}
		return &we, errorFromWire(resp.StatusCode, we)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("delivery: decode answer: %w", err)
		}
	}
	return nil, nil
}

// retryable reports errors worth another attempt: transport failures,
// a busy receiver and a chunk that arrived damaged.
func retryable(err error) bool {
	if err == nil {
		return false
	}
	for _, final := range []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrNoMetadata, ErrInvalid,
		ErrConflict, ErrDiskFull, ErrRejected, ErrProtocol, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, final) {
			return false
		}
	}
	return true
}

func (c *Client) backoff(ctx context.Context, attempt int) error {
	d := c.RetryDelay
	if d <= 0 {
		d = 500 * time.Millisecond
	}
	for range min(attempt, 6) {
		d *= 2
	}
	return sleepCtx(ctx, min(d, 30*time.Second))
}

// retry runs fn until it succeeds, fails finally, or MaxRetries is spent.
func (c *Client) retry(ctx context.Context, fn func() error) error {
	maxRetries := c.MaxRetries
	if maxRetries <= 0 {
		maxRetries = 8
	}
	var err error
	for attempt := 0; ; attempt++ {
		if err = fn(); !retryable(err) || attempt >= maxRetries {
			return err
		}
		if berr := c.backoff(ctx, attempt); berr != nil {
			return fmt.Errorf("%w (last error: %v)", berr, err)
		}
	}
}

// PushMetadata sends a sector's metadata (idempotent: pushing the same
// metadata again changes nothing; after a rejection it restarts the
// delivery). The provider's manager calls it once the sector is finalized.
func (c *Client) PushMetadata(ctx context.Context, e Endpoint, md api.SectorMetadata) (api.ReceiverSector, error) {
	raw, err := json.Marshal(md)
	if err != nil {
		return api.ReceiverSector{}, fmt.Errorf("delivery: %w", err)
	}
	var out api.ReceiverSector
	err = c.retry(ctx, func() error {
		_, err := c.do(ctx, e, http.MethodPut, e.sectorURL(md.ID, "/metadata"), bytes.NewReader(raw),
			http.Header{"Content-Type": {"application/json"}}, &out)
		return err
	})
	return out, err
}

// Status returns the receiver's view of a sector: its delivery state,
// per-file progress, and on rejection the reason and failed checks.
func (c *Client) Status(ctx context.Context, e Endpoint, id api.SectorID) (api.ReceiverSector, error) {
	var out api.ReceiverSector
	err := c.retry(ctx, func() error {
		_, err := c.do(ctx, e, http.MethodGet, e.sectorURL(id, ""), nil, nil, &out)
		return err
	})
	return out, err
}

// Upload sends the files the receiver still lacks and asks it to verify
// the sector, without waiting for the verdict. It returns the receiver's
// state then: DeliveryVerifying (the verdict comes later; Status reads
// it) or DeliveryAccepted (an earlier call's upload was already
// verified). A rejected sector is an error wrapping ErrRejected (and
// RejectedError); any other error is a delivery worth retrying later:
// ErrNoMetadata until the manager pushed the metadata, ErrDiskFull while
// the SP is out of space, transport errors. Calling it again resumes;
// nothing the receiver has committed is sent twice.
func (c *Client) Upload(ctx context.Context, target api.DeliveryTarget, id api.SectorID, files []api.LocalFile) (api.DeliveryState, error) {
	e, err := EndpointOf(target)
	if err != nil {
		return "", err
	}
	limit := NewLimiter(target.BandwidthLimit)
	rounds := 0
	for {
		st, err := c.Status(ctx, e, id)
		if errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("%w: sector %s (the manager pushes it after finalize)", ErrNoMetadata, id)
		}
		if err != nil {
			return "", err
		}
		switch st.State {
		case api.DeliveryAccepted, api.DeliveryVerifying:
			return st.State, nil
		case api.DeliveryRejected:
			return st.State, c.rejected(st)
		}
		if rounds++; rounds > 3 {
			return "", fmt.Errorf("delivery: sector %s: receiver still %s after %d upload rounds", id, st.State, rounds-1)
		}
		if err := c.uploadAll(ctx, e, id, st, files, limit); err != nil {
			if errors.Is(err, ErrRejected) {
				continue // the status carries the reason
			}
			return "", err
		}
		var after api.ReceiverSector
		err = c.retry(ctx, func() error {
			_, err := c.do(ctx, e, http.MethodPost, e.sectorURL(id, "/verify"), nil, nil, &after)
			return err
		})
		if err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrRejected) {
			return "", err
		}
	}
}

// Transfer is Upload followed by waiting for the receiver's verdict, for
// callers that want the end result in one call (tests, `sealant bench
// transfer`); a worker uses Upload and waits in its sector state machine.
// It returns nil once the receiver accepted the sector, an error wrapping
// ErrRejected when it rejected it, a retryable error past VerifyWait.
func (c *Client) Transfer(ctx context.Context, target api.DeliveryTarget, id api.SectorID, files []api.LocalFile) error {
	wait := c.VerifyWait
	if wait <= 0 {
		wait = 6 * time.Hour
	}
	deadline := time.Now().Add(wait)
	for {
		state, err := c.Upload(ctx, target, id, files)
		if err != nil || state == api.DeliveryAccepted {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("delivery: sector %s: receiver still verifying after %s", id, wait)
		}
		if err := sleepCtx(ctx, c.pollInterval()); err != nil {
			return err
		}
	}
}

func (c *Client) pollInterval() time.Duration {
	if c.PollInterval > 0 {
		return c.PollInterval
	}
	return 2 * time.Second
}

func (c *Client) rejected(st api.ReceiverSector) error {
	if c.RejectedError != nil {
		return fmt.Errorf("%w: %w: sector %s: %s", c.RejectedError, ErrRejected, st.ID, st.Reason)
	}
	return fmt.Errorf("%w: sector %s: %s", ErrRejected, st.ID, st.Reason)
}

func (c *Client) uploadAll(ctx context.Context, e Endpoint, id api.SectorID, st api.ReceiverSector, files []api.LocalFile, limit *Limiter) error {
	local := make(map[string]api.LocalFile, len(files))
	for _, f := range files {
		local[f.Name] = f
	}
	for _, rf := range st.Files {
		if rf.Complete {
			continue
		}
		lf, ok := local[rf.Name]
		if !ok {
			return fmt.Errorf("%w: receiver expects %s, which is not among the local files", ErrInvalid, rf.Name)
		}
		if lf.Size != rf.Size || lf.SHA256 != rf.SHA256 {
			return fmt.Errorf("%w: %s: local file (%d bytes, sha256 %s) is not the one in the metadata (%d bytes, sha256 %s)",
				ErrInvalid, rf.Name, lf.Size, lf.SHA256, rf.Size, rf.SHA256)
		}
		if err := c.uploadFile(ctx, e, id, lf, rf.Received, limit); err != nil {
			return err
		}
	}
	return nil
}

// uploadFile sends lf from offset on, chunk by chunk. After a failed
// chunk it asks the receiver where the file stands before sending again,
// so a chunk the receiver acknowledged (even if its answer was lost) is
// never re-sent.
func (c *Client) uploadFile(ctx context.Context, e Endpoint, id api.SectorID, lf api.LocalFile, offset int64, limit *Limiter) error {
	f, err := os.Open(lf.Path)
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	defer f.Close()
	ph := newPrefixHashes(f)
	maxRetries := c.MaxRetries
	if maxRetries <= 0 {
		maxRetries = 8
	}
	failures := 0
	for offset < lf.Size {
		n := min(c.chunkSize(), lf.Size-offset)
		h, err := ph.at(ctx, offset)
		if err != nil {
			return fmt.Errorf("delivery: %s: %w", lf.Name, err)
		}
		var got api.ReceiverFile
		we, err := c.putChunk(ctx, e, id, lf.Name, f, offset, n, h, limit, &got)
		switch {
		case err == nil:
			if got.Received == offset+n {
				ph.keep(offset+n, h) // h has hashed the chunk
			}
			offset, failures = got.Received, 0
			continue
		case errors.Is(err, ErrConflict) && we != nil && we.File != nil:
			// Stale offset: the receiver says where to continue.
			if we.File.Complete {
				return nil
			}
			offset, failures = we.File.Received, 0
			continue
		case !retryable(err):
			return fmt.Errorf("delivery: %s at offset %d: %w", lf.Name, offset, err)
		}
		failures++
		if failures > maxRetries {
			return fmt.Errorf("delivery: %s at offset %d: giving up after %d attempts: %w", lf.Name, offset, failures, err)
		}
		c.log().Warn("chunk failed, resuming", "sector", id, "file", lf.Name, "offset", offset, "attempt", failures, "err", err)
		if err := c.backoff(ctx, failures-1); err != nil {
			return err
		}
		st, err := c.Status(ctx, e, id)
		if err != nil {
			return err
		}
		found := false
		for _, rf := range st.Files {
			if rf.Name == lf.Name {
				if rf.Complete {
					return nil
				}
				offset, found = rf.Received, true
			}
		}
		if !found || st.State == api.DeliveryRejected {
			return c.rejected(st)
		}
	}
	return nil
}

// prefixHashes is the sender's SHA-256 of a file's prefixes: a chunk
// carries the digest of the file up to its end (protocol.go), so resuming
// at offset O needs the hash state at O. States are kept at every chunk
// end the receiver acknowledged (about 110 bytes per chunk: 1 MiB for a
// 64 GiB file even in 8 MiB chunks), which covers any resume within one
// upload — a network cut resumes at the last acknowledged chunk, a
// receiver restart at an earlier commit. Another offset (a new Transfer
// after this process restarted) is reached by hashing the prefix once.
type prefixHashes struct {
	f      *os.File
	states map[int64][]byte
}

func newPrefixHashes(f *os.File) *prefixHashes {
	return &prefixHashes{f: f, states: map[int64][]byte{}}
}

// at returns a new hash of the file's first off bytes.
func (p *prefixHashes) at(ctx context.Context, off int64) (hash.Hash, error) {
	h := sha256.New()
	if off == 0 {
		return h, nil
	}
	if st, ok := p.states[off]; ok {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
			return nil, fmt.Errorf("resume hash: %w", err)
		}
		return h, nil
	}
	// Hash from the nearest kept state below off.
	from := int64(0)
	for o := range p.states {
		if o < off && o > from {
			from = o
		}
	}
	if from > 0 {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(p.states[from]); err != nil {
			return nil, fmt.Errorf("resume hash: %w", err)
		}
	}
	bp := sendBufPool.Get().(*[]byte)
	defer sendBufPool.Put(bp)
	for pos := from; pos < off; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := (*bp)[:min(int64(len(*bp)), off-pos)]
		n, err := p.f.ReadAt(b, pos)
		if n < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("hash the first %d bytes: %w", off, err)
		}
		h.Write(b)
		pos += int64(n)
	}
	p.keep(off, h)
	return h, nil
}

// keep records h as the state after off bytes.
func (p *prefixHashes) keep(off int64, h hash.Hash) {
	if st, err := h.(encoding.BinaryMarshaler).MarshalBinary(); err == nil {
		p.states[off] = st
	}
}

// sendBufSize is the unit the sender reads, hashes and writes in. The
// transport writes each piece as one HTTP chunk and flushes it, so large
// pieces mean few system calls; 1 MiB per upload bounds memory.
const sendBufSize = 1 << 20

var sendBufPool = sync.Pool{New: func() any { b := make([]byte, sendBufSize); return &b }}

// chunkBody streams a file section through the running SHA-256 of the
// file and the bandwidth limiter, and sets the request's trailer to the
// prefix digest at the end: one pass over the data, one buffer, no chunk
// held in memory.
type chunkBody struct {
	ctx   context.Context
	f     *os.File
	off   int64 // next file offset to read
	end   int64
	h     hash.Hash
	limit *Limiter
	req   *http.Request
}

// next reads and hashes the next piece into p, and sets the trailer after
// the last one.
func (b *chunkBody) next(p []byte) (int, error) {
	if b.off >= b.end {
		return 0, io.EOF
	}
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	p = p[:min(int64(len(p)), b.end-b.off)]
	n, err := b.f.ReadAt(p, b.off)
	if n < len(p) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF // the file shrank under us
		}
		return 0, fmt.Errorf("delivery: read %s at %d: %w", b.f.Name(), b.off, err)
	}
	b.h.Write(p)
	b.off += int64(n)
	if b.off == b.end {
		b.req.Trailer.Set(PrefixSHAHeader, hex.EncodeToString(b.h.Sum(nil)))
	}
	return n, nil
}

func (b *chunkBody) Read(p []byte) (int, error) {
	n, err := b.next(p)
	if werr := b.limit.Wait(b.ctx, n); werr != nil && err == nil {
		err = werr
	}
	return n, err
}

// WriteTo sends the section piece by piece from one pooled buffer, so
// each piece goes to the socket as one write without another copy.
// (Reading and hashing ahead in a second goroutine was measured too; it
// did not raise throughput on the 2-core bench, so the simpler loop
// stays.)
func (b *chunkBody) WriteTo(w io.Writer) (int64, error) {
	bp := sendBufPool.Get().(*[]byte)
	defer sendBufPool.Put(bp)
	var total int64
	for {
		n, err := b.next(*bp)
		if err == io.EOF {
			return total, nil
		}
		if err == nil {
			err = b.limit.Wait(b.ctx, n)
		}
		if err != nil {
			return total, err
		}
		k, err := w.Write((*bp)[:n])
		total += int64(k)
		if err != nil {
			return total, err
		}
	}
}

// putChunk sends [offset, offset+n) of f; h is the hash of the file's
// first offset bytes and has hashed the chunk when it returns.
func (c *Client) putChunk(ctx context.Context, e Endpoint, id api.SectorID, name string, f *os.File, offset, n int64,
	h hash.Hash, limit *Limiter, out *api.ReceiverFile) (*wireError, error) {
	q := url.Values{"file": {name}, "offset": {strconv.FormatInt(offset, 10)}, "length": {strconv.FormatInt(n, 10)}}
	body := &chunkBody{ctx: ctx, f: f, off: offset, end: offset + n, h: h, limit: limit}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, e.sectorURL(id, "/chunk?"+q.Encode()), io.NopCloser(body))
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	body.req = req
	req.ContentLength = -1 // chunked, so the digest can follow as a trailer
	req.Trailer = http.Header{PrefixSHAHeader: nil}
	req.Header.Set(ProtocolHeader, ProtocolVersion)
	req.Header.Set("Expect", "100-continue")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Authorization", "Bearer "+e.Token)
	return c.send(req, out)
}
