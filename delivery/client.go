package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	// one file before Transfer gives up (default 8); the caller retries
	// the whole Transfer later, which resumes.
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
	// The transport copies bodies in 32 KiB pieces; a large write buffer
	// turns them into few large socket writes.
	WriteBufferSize: 1 << 20,
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
		ErrConflict, ErrDiskFull, ErrRejected, context.Canceled, context.DeadlineExceeded} {
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

// Transfer uploads the files the receiver still lacks and waits for its
// verdict. It returns nil once the receiver accepted the sector, an error
// wrapping ErrRejected (and RejectedError) when it rejected it, and any
// other error for a delivery worth retrying later: ErrNoMetadata until
// the manager pushed the metadata, ErrDiskFull while the SP is out of
// space, transport errors. Calling it again resumes; nothing the receiver
// has committed is sent twice.
func (c *Client) Transfer(ctx context.Context, target api.DeliveryTarget, id api.SectorID, files []api.LocalFile) error {
	e, err := EndpointOf(target)
	if err != nil {
		return err
	}
	limit := NewLimiter(target.BandwidthLimit)
	rounds := 0
	wait := c.VerifyWait
	if wait <= 0 {
		wait = 6 * time.Hour
	}
	deadline := time.Now().Add(wait)
	for {
		st, err := c.Status(ctx, e, id)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: sector %s (the manager pushes it after finalize)", ErrNoMetadata, id)
		}
		if err != nil {
			return err
		}
		switch st.State {
		case api.DeliveryAccepted:
			return nil
		case api.DeliveryRejected:
			return c.rejected(st)
		case api.DeliveryVerifying:
			if time.Now().After(deadline) {
				return fmt.Errorf("delivery: sector %s: receiver still verifying after %s", id, wait)
			}
			if err := sleepCtx(ctx, c.pollInterval()); err != nil {
				return err
			}
			continue
		}
		if rounds++; rounds > 3 {
			return fmt.Errorf("delivery: sector %s: receiver still %s after %d upload rounds", id, st.State, rounds-1)
		}
		if err := c.uploadAll(ctx, e, id, st, files, limit); err != nil {
			if errors.Is(err, ErrRejected) {
				continue // the status carries the reason
			}
			return err
		}
		var after api.ReceiverSector
		err = c.retry(ctx, func() error {
			_, err := c.do(ctx, e, http.MethodPost, e.sectorURL(id, "/verify"), nil, nil, &after)
			return err
		})
		if err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrRejected) {
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
// so a chunk the receiver committed (even if its answer was lost) is never
// re-sent.
func (c *Client) uploadFile(ctx context.Context, e Endpoint, id api.SectorID, lf api.LocalFile, offset int64, limit *Limiter) error {
	f, err := os.Open(lf.Path)
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	defer f.Close()
	maxRetries := c.MaxRetries
	if maxRetries <= 0 {
		maxRetries = 8
	}
	failures := 0
	for offset < lf.Size {
		n := min(c.chunkSize(), lf.Size-offset)
		var got api.ReceiverFile
		we, err := c.putChunk(ctx, e, id, lf.Name, f, offset, n, limit, &got)
		switch {
		case err == nil:
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

// chunkBody streams a file section through the bandwidth limiter and a
// SHA-256, and sets the request's trailer to the hash at EOF: one pass
// over the data, no chunk held in memory.
type chunkBody struct {
	r   io.Reader
	h   hash.Hash
	req *http.Request
}

func (b *chunkBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	if err == io.EOF {
		b.req.Trailer.Set(ChunkSHAHeader, hex.EncodeToString(b.h.Sum(nil)))
	}
	return n, err
}

func (c *Client) putChunk(ctx context.Context, e Endpoint, id api.SectorID, name string, f *os.File, offset, n int64,
	limit *Limiter, out *api.ReceiverFile) (*wireError, error) {
	q := url.Values{"file": {name}, "offset": {strconv.FormatInt(offset, 10)}, "length": {strconv.FormatInt(n, 10)}}
	body := &chunkBody{h: sha256.New()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, e.sectorURL(id, "/chunk?"+q.Encode()), io.NopCloser(body))
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	body.r, body.req = limitReader(ctx, io.NewSectionReader(f, offset, n), limit), req
	req.ContentLength = -1 // chunked, so the hash can follow as a trailer
	req.Trailer = http.Header{ChunkSHAHeader: nil}
	req.Header.Set("Expect", "100-continue")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Authorization", "Bearer "+e.Token)
	return c.send(req, out)
}
