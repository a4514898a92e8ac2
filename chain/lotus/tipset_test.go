package lotus

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/ipfs/go-cid"
	"golang.org/x/crypto/blake2b"

	"github.com/sealant/sealant/chain/bitfield"
	"github.com/sealant/sealant/chain/rand"
)

func TestMinTicketBlock(t *testing.T) {
	proofs := [][]byte{[]byte("ticket a"), []byte("ticket b"), []byte("ticket c")}
	// Find by brute force which proof has the smallest digest.
	want := 0
	for i := range proofs {
		di, dw := blake2b.Sum256(proofs[i]), blake2b.Sum256(proofs[want])
		if bytes.Compare(di[:], dw[:]) < 0 {
			want = i
		}
	}
	ts := &TipSet{Height: 10}
	for i, p := range proofs {
		ts.Blocks = append(ts.Blocks, BlockHeader{Ticket: &Ticket{VRFProof: p}, Timestamp: uint64(i)})
		ts.Cids = append(ts.Cids, docCid1)
	}
	b, err := ts.MinTicketBlock()
	if err != nil {
		t.Fatal(err)
	}
	if b.Timestamp != uint64(want) {
		t.Fatalf("picked block %d, want %d", b.Timestamp, want)
	}
	// The ticket digest is what "from tickets" randomness mixes.
	if rand.DigestOf(b.Ticket.VRFProof) != rand.Digest(blake2b.Sum256(proofs[want])) {
		t.Fatal("digest mismatch")
	}

	// Equal tickets: the smaller block CID wins.
	tie := &TipSet{
		Cids:   []cid.Cid{docCid2, docCid1},
		Blocks: []BlockHeader{{Ticket: &Ticket{VRFProof: []byte("x")}, Timestamp: 0}, {Ticket: &Ticket{VRFProof: []byte("x")}, Timestamp: 1}},
	}
	smaller := uint64(0)
	if bytes.Compare(docCid1.Bytes(), docCid2.Bytes()) < 0 {
		smaller = 1
	}
	if b, _ := tie.MinTicketBlock(); b.Timestamp != smaller {
		t.Errorf("tie broken to block %d, want %d", b.Timestamp, smaller)
	}
	if _, err := (&TipSet{}).MinTicketBlock(); !errors.Is(err, ErrBadResponse) {
		t.Errorf("empty tipset: %v", err)
	}
	if _, err := (&TipSet{Blocks: []BlockHeader{{}}}).MinTicketBlock(); !errors.Is(err, ErrBadResponse) {
		t.Errorf("ticketless block: %v", err)
	}
}

func TestBitField(t *testing.T) {
	cases := []struct {
		json string
		set  []uint64
	}{
		{"[0]", nil},
		{"[]", nil},
		{"[2,2]", []uint64{2, 3}},
		{"[0,3,5,2]", []uint64{0, 1, 2, 8, 9}},
		{"[5,1]", []uint64{5}},
	}
	for _, tc := range cases {
		var bf BitField
		if err := json.Unmarshal([]byte(tc.json), &bf); err != nil {
			t.Fatal(err)
		}
		got, err := bf.Slice(100)
		if err != nil || !reflect.DeepEqual(got, tc.set) || bf.Count() != uint64(len(tc.set)) {
			t.Errorf("%s: got %v (count %d), %v; want %v", tc.json, got, bf.Count(), err, tc.set)
		}
	}
	if _, err := (BitField{0, 1 << 40}).Slice(1000); !errors.Is(err, ErrBadResponse) {
		t.Errorf("huge set: %v", err)
	}
	if _, err := (BitField{1<<64 - 1, 1, 1, 1}).Slice(10); !errors.Is(err, ErrBadResponse) {
		t.Errorf("overflow: %v", err)
	}
	if b, _ := json.Marshal(BitField(nil)); string(b) != "[0]" {
		t.Errorf("empty marshal = %s", b)
	}
	if _, err := (BitField{1, 0, 2, 1}).Slice(10); !errors.Is(err, ErrBadResponse) || !errors.Is(err, bitfield.ErrInvalid) {
		t.Errorf("zero-length inner run: %v", err)
	}
	for _, tc := range cases {
		bf, err := BitFieldFromSet(tc.set)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(bf)
		want := tc.json
		if want == "[]" {
			want = "[0]" // go-bitfield always writes the empty set as [0]
		}
		if string(b) != want {
			t.Errorf("BitFieldFromSet(%v) = %s, want %s", tc.set, b, want)
		}
	}
	if _, err := BitFieldFromSet([]uint64{1<<64 - 1}); !errors.Is(err, bitfield.ErrOverflow) {
		t.Errorf("index 2^64-1: %v", err)
	}
}
