package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
)

func TestDeliverAccepted(t *testing.T) {
	e := newEnv(t, nil)
	s := newTestSector(t, 11)
	c := testClient()
	if err := e.deliver(t, s, c); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(context.Background(), e.endpoint(), s.id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != api.DeliveryAccepted {
		t.Fatalf("state %s: %s", st.State, st.Reason)
	}
	want := map[string]bool{CheckMetadata: true, CheckChecksums: true, CheckPAux: true, CheckTAux: true, CheckCommR: true,
		CheckCommD: true, CheckChain: true, CheckTreeRLast: true, CheckPoSt: true}
	for _, ch := range st.Checks {
		if !ch.OK {
			t.Errorf("check %s failed: %s", ch.Name, ch.Detail)
		}
		delete(want, ch.Name)
	}
	if len(want) != 0 {
		t.Errorf("checks not run: %v", want)
	}
	// The files are in the store under their Lotus names, byte for byte.
	for _, f := range s.files {
		got := readAll(t, filepath.Join(e.store, filepath.FromSlash(f.Name)))
		if !bytes.Equal(got, readAll(t, f.Path)) {
			t.Errorf("%s differs in the store", f.Name)
		}
	}
	if _, err := os.Stat(e.r.incomingDir(s.id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("incoming dir left behind: %v", err)
	}
	// Idempotent: the same metadata and a second transfer change nothing
	// and send no data.
	before := e.r.BytesReceived()
	if _, err := c.PushMetadata(context.Background(), e.endpoint(), s.md); err != nil {
		t.Fatal(err)
	}
	if err := c.Transfer(context.Background(), e.target(), s.id, s.files); err != nil {
		t.Fatal(err)
	}
	if d := e.r.BytesReceived() - before; d != 0 {
		t.Errorf("re-delivery sent %d bytes", d)
	}
	// Other metadata for an accepted sector is refused.
	other := s.md
	other.Expiration++
	if _, err := c.PushMetadata(context.Background(), e.endpoint(), other); !errors.Is(err, ErrConflict) {
		t.Errorf("changed metadata after acceptance: %v, want ErrConflict", err)
	}
	list, err := ListSectors(e.root)
	if err != nil || len(list) != 1 || list[0].State != api.DeliveryAccepted {
		t.Fatalf("list %+v %v", list, err)
	}
}

// A byte flipped anywhere in a delivered file is caught. "source" flips
// the file after the metadata's checksums were taken (damage at the
// provider or in its store): the whole-file SHA-256 catches it. "relabel"
// also recomputes the checksums (a provider describing whatever it has):
// then the cryptographic checks must catch it — except for t_aux bytes
// that no check can recompute (see below).
func TestFlippedByteRejected(t *testing.T) {
	e := newEnv(t, nil)
	type tc struct {
		file string
		pos  func(b []byte) int
		// wantCheck is the check that must fail in relabel mode.
		wantCheck string
	}
	first := func([]byte) int { return 0 }
	mid := func(b []byte) int { return len(b) / 2 }
	last := func(b []byte) int { return len(b) - 1 }
	// rows_to_discard of the tree-r-last store config: after its id, the
	// option tag and the size.
	treeRRows := func(b []byte) int { return bytes.Index(b, []byte("tree-r-last")) + len("tree-r-last") + 1 + 8 }
	cases := []tc{
		{"sealed", first, CheckTreeRLast}, {"sealed", mid, CheckTreeRLast}, {"sealed", last, CheckTreeRLast},
		{"sc-02-data-tree-r-last.dat", first, CheckTreeRLast}, {"sc-02-data-tree-r-last.dat", mid, CheckTreeRLast},
		{"sc-02-data-tree-r-last.dat", last, CheckTreeRLast},
		{"p_aux", first, CheckPAux}, {"p_aux", mid, CheckPAux}, {"p_aux", last, CheckPAux},
		// t_aux: the label count, the tree-r-last rows_to_discard and every
		// other rows_to_discard out of its tree's range (the last byte is
		// the top byte of tree-c's) are structure the t_aux check verifies.
		// A byte inside a store path is only caught by the checksum:
		// rust-fil-proofs replaces the paths on load and PoSt does not read
		// them.
		{"t_aux", first, CheckTAux}, {"t_aux", treeRRows, CheckTAux},
		{"t_aux", func([]byte) int { return 8 + 8 + 2 }, ""}, {"t_aux", last, CheckTAux},
	}
	n := uint64(100)
	for _, mode := range []string{"source", "relabel"} {
		for _, c := range cases {
			n++
			name := mode + "/" + c.file
			s := newTestSector(t, n)
			p := s.path(t, c.file)
			b := readAll(t, p)
			pos := c.pos(b)
			b[pos] ^= 0x01
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if mode == "relabel" {
				if c.wantCheck == "" {
					continue // undetectable by construction, see above
				}
				s.rehash(t)
			}
			sentinel := errors.New("worker sentinel")
			cl := testClient()
			cl.RejectedError = sentinel
			err := e.deliver(t, s, cl)
			if !errors.Is(err, ErrRejected) || !errors.Is(err, sentinel) {
				t.Errorf("%s@%d: transfer returned %v, want a rejection", name, pos, err)
				continue
			}
			st, _ := cl.Status(context.Background(), e.endpoint(), s.id)
			if st.State != api.DeliveryRejected || st.Reason == "" {
				t.Errorf("%s@%d: state %s reason %q", name, pos, st.State, st.Reason)
			}
			wantCheck := CheckChecksums
			if mode == "relabel" {
				wantCheck = c.wantCheck
			}
			failed := false
			for _, ch := range st.Checks {
				if ch.Name == wantCheck && !ch.OK {
					failed = true
				}
			}
			if !failed {
				t.Errorf("%s@%d: check %s did not fail: %+v", name, pos, wantCheck, st.Checks)
			}
			// Quarantined with a note, nothing in the store.
			if _, err := os.Stat(filepath.Join(st.Quarantine, "reason.json")); err != nil {
				t.Errorf("%s@%d: quarantine note: %v", name, pos, err)
			}
			if in, _ := InStore(e.store, s.id); in {
				t.Errorf("%s@%d: rejected sector reached the store", name, pos)
			}
		}
	}
}

// TestChainMismatchRefusedBeforeUpload: metadata for a sector the chain
// has with another CommR, or does not have at all, is refused before any
// byte is taken; with the right chain state the delivery goes through.
func TestChainMismatchRefusedBeforeUpload(t *testing.T) {
	e := newEnv(t, nil)
	s := newTestSector(t, 21)
	c := testClient()
	ctx := context.Background()
	if _, err := c.PushMetadata(ctx, e.endpoint(), s.md); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "neither pre-committed nor proven") {
		t.Fatalf("push for a sector not on chain: %v", err)
	}
	// The chain has another CommR for this sector.
	var other [32]byte
	other[0] = 7
	e.chain.prove(s.id.Number, other)
	if _, err := c.PushMetadata(ctx, e.endpoint(), s.md); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "on chain") {
		t.Fatalf("push with another CommR on chain: %v", err)
	}
	if err := c.Transfer(ctx, e.target(), s.id, s.files); err == nil {
		t.Fatal("transfer without accepted metadata succeeded")
	}
	if n := e.r.BytesReceived(); n != 0 {
		t.Fatalf("%d file bytes taken for a sector the chain does not have", n)
	}
	// With the right chain state it is accepted.
	if err := e.deliver(t, s, c); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

func TestNoChainRefuses(t *testing.T) {
	e := newEnv(t, func(c *ReceiverConfig) { c.Chain = nil })
	s := newTestSector(t, 22)
	err := e.deliver(t, s, testClient())
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "no chain") {
		t.Fatalf("transfer: %v", err)
	}
}

func TestNeverOverwrite(t *testing.T) {
	e := newEnv(t, nil)
	s := newTestSector(t, 31)
	// The SP already has this sector.
	p := filepath.Join(e.store, "sealed", s.id.String())
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := testClient().PushMetadata(context.Background(), e.endpoint(), s.md); !errors.Is(err, ErrConflict) {
		t.Fatalf("push for an existing sector: %v", err)
	}
	// And the import itself refuses, even if the sector appears late.
	src := t.TempDir()
	for _, f := range s.files {
		dst := filepath.Join(src, filepath.FromSlash(f.Name))
		_ = os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, readAll(t, f.Path), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := importSector(e.store, src, s.id, s.md.Files); !errors.Is(err, ErrConflict) {
		t.Fatalf("import over an existing sector: %v", err)
	}
	if got := readAll(t, p); string(got) != "precious" {
		t.Fatalf("existing sector overwritten")
	}
	// Only the cache directory exists: still refused, still untouched.
	store2 := t.TempDir()
	cache := filepath.Join(store2, "cache", s.id.String())
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := importSector(store2, src, s.id, s.md.Files); !errors.Is(err, ErrConflict) {
		t.Fatalf("import over an existing cache dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(store2, "sealed", s.id.String())); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial import left a sealed file: %v", err)
	}
}

func TestAuth(t *testing.T) {
	revokedTok := providerToken(t, "acme")
	c, err := parseUnverified(revokedTok)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(cfg *ReceiverConfig) { cfg.Revoked = []string{c} })
	s := newTestSector(t, 41)
	otherSecret, _ := IssueProviderToken([]byte("another-secret-another-secret-0123456789"), "acme", 0)
	expired, _ := IssueProviderToken(testSecret, "acme", -time.Hour)
	_ = expired
	cases := []struct {
		name string
		tok  string
		id   api.SectorID
		want error
	}{
		{"no token", "", s.id, ErrUnauthorized},
		{"other secret", otherSecret, s.id, ErrUnauthorized},
		{"revoked", revokedTok, s.id, ErrUnauthorized},
		{"other miner", e.tok, api.SectorID{Miner: 999, Number: 1}, ErrForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			md := s.md
			md.ID = tc.id
			_, err := testClient().PushMetadata(context.Background(), Endpoint{URL: e.srv.URL, Token: tc.tok}, md)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Another provider cannot touch acme's sector.
	e.onChain(t, s)
	if _, err := testClient().PushMetadata(context.Background(), e.endpoint(), s.md); err != nil {
		t.Fatal(err)
	}
	mallory := Endpoint{URL: e.srv.URL, Token: providerToken(t, "mallory")}
	if _, err := testClient().Status(context.Background(), mallory, s.id); !errors.Is(err, ErrForbidden) {
		t.Fatalf("other provider status: %v", err)
	}
	// A non-provider token (a worker's) is refused even with the right key.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+PathPrefix+"/sectors/1000/41", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous status %d", resp.StatusCode)
	}
}

// parseUnverified returns a token's jti (for the revocation test).
func parseUnverified(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	raw, err := decodeSegment(parts[1])
	if err != nil {
		return "", err
	}
	var c struct {
		ID string `json:"jti"`
	}
	err = json.Unmarshal(raw, &c)
	return c.ID, err
}

func TestMetadataValidation(t *testing.T) {
	e := newEnv(t, nil)
	base := newTestSector(t, 51).md
	cases := []struct {
		name string
		mod  func(*api.SectorMetadata)
	}{
		{"missing file", func(m *api.SectorMetadata) { m.Files = m.Files[1:] }},
		{"extra file", func(m *api.SectorMetadata) {
			m.Files = append(m.Files, api.SectorFile{Name: "cache/s-t01000-51/sc-02-data-layer-1.dat", Size: 2048})
		}},
		{"wrong size", func(m *api.SectorMetadata) { m.Files[0].Size = 4096 }},
		{"duplicate", func(m *api.SectorMetadata) { m.Files = append(m.Files, m.Files[0]) }},
		{"path escape", func(m *api.SectorMetadata) { m.Files[1].Name = "cache/../../etc/p_aux" }},
		{"comm_r", func(m *api.SectorMetadata) { m.CommC[0] ^= 1 }},
		{"bad cid", func(m *api.SectorMetadata) { m.CommR = "bafy-not-a-cid" }},
		{"unknown proof", func(m *api.SectorMetadata) { m.ProofType = 99 }},
		{"id mismatch", func(m *api.SectorMetadata) { m.ID.Number = 52 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			md := base
			md.Files = append([]api.SectorFile(nil), base.Files...)
			tc.mod(&md)
			ep := e.endpoint()
			_, err := testClient().do(context.Background(), ep, http.MethodPut, ep.sectorURL(base.ID, "/metadata"),
				bytes.NewReader(mustJSON(t, md)), nil, nil)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTransferBeforeMetadata(t *testing.T) {
	e := newEnv(t, nil)
	s := newTestSector(t, 61)
	err := testClient().Transfer(context.Background(), e.target(), s.id, s.files)
	if !errors.Is(err, ErrNoMetadata) {
		t.Fatalf("got %v, want ErrNoMetadata", err)
	}
}

func TestEndpointOf(t *testing.T) {
	cases := []struct {
		target  api.DeliveryTarget
		url     string
		token   string
		wantErr bool
	}{
		{api.DeliveryTarget{ReceiverURL: "http://sp:2345/", Token: "t"}, "http://sp:2345", "t", false},
		{api.DeliveryTarget{ReceiverURL: "https://sp.example#token=abc"}, "https://sp.example", "abc", false},
		{api.DeliveryTarget{ReceiverURL: "https://sp.example#token=abc", Token: "x"}, "https://sp.example", "x", false},
		{api.DeliveryTarget{ReceiverURL: "https://sp.example"}, "", "", true},
		{api.DeliveryTarget{ReceiverURL: "ftp://sp", Token: "t"}, "", "", true},
		{api.DeliveryTarget{ReceiverURL: "", Token: "t"}, "", "", true},
	}
	for _, c := range cases {
		ep, err := EndpointOf(c.target)
		if (err != nil) != c.wantErr || (err == nil && (ep.URL != c.url || ep.Token != c.token)) {
			t.Errorf("%+v: %+v %v", c.target, ep, err)
		}
	}
}
