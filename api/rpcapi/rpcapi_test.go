package rpcapi

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
)

// serve runs an rpc server with the given tables over HTTP and returns a
// client dialled with the registry of Errors, as the worker dials.
func serve(t *testing.T, tables ...[]Method) *rpc.Client {
	t.Helper()
	srv, err := rpc.NewServer(rpc.ServerConfig{AnonymousPerm: rpc.PermAdmin, Errors: Errors})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tab := range tables {
		for _, m := range tab {
			if seen[m.Name] {
				t.Fatalf("method %s is in two tables", m.Name)
			}
			seen[m.Name] = true
			srv.Register(m.Name, rpc.PermWrite, m.Handler)
		}
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	c, err := rpc.Dial(context.Background(), hs.URL, rpc.WithErrorRegistry(Errors))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestTablesCoverInterfaces calls every method of every interface of the
// contract through its typed client, a real rpc server and the method
// table, and checks that the same method of the implementation ran: a
// method missing from a table, bound to another method's wire name, or
// whose client sends another name fails here (signature drift already
// fails to compile).
func TestTablesCoverInterfaces(t *testing.T) {
	rec := &recorder{}
	c := serve(t, SealerMethods(rec), TenantMethods(rec), AdminMethods(rec), SignerMethods(rec), SignerHubMethods(rec))
	cases := []struct {
		iface  reflect.Type
		table  []Method
		client any
	}{
		{reflect.TypeFor[api.SealerAPI](), SealerMethods(rec), NewSealerClient(c)},
		{reflect.TypeFor[api.TenantAPI](), TenantMethods(rec), &TenantClient{C: c}},
		{reflect.TypeFor[api.AdminAPI](), AdminMethods(rec), &AdminClient{C: c}},
		{reflect.TypeFor[api.SignerAPI](), SignerMethods(rec), &SignerClient{C: c}},
		{reflect.TypeFor[api.SignerHubAPI](), SignerHubMethods(rec), &SignerHubClient{C: c}},
	}
	for _, tc := range cases {
		if len(tc.table) != tc.iface.NumMethod() {
			t.Errorf("%s: table has %d methods, interface %d", tc.iface, len(tc.table), tc.iface.NumMethod())
		}
		cv := reflect.ValueOf(tc.client)
		for i := range tc.iface.NumMethod() {
			m := tc.iface.Method(i)
			args := []reflect.Value{reflect.ValueOf(context.Background())}
			for j := 1; j < m.Type.NumIn(); j++ {
				args = append(args, reflect.Zero(m.Type.In(j)))
			}
			out := cv.MethodByName(m.Name).Call(args)
			if errv := out[len(out)-1]; !errv.IsNil() {
				t.Errorf("%s.%s: %v", tc.iface, m.Name, errv.Interface())
				continue
			}
			if got := rec.take(); len(got) != 1 || got[0] != m.Name {
				t.Errorf("%s.%s through the client ran %v on the server", tc.iface, m.Name, got)
			}
		}
	}
}

// TestErrorsRoundTrip: every sentinel of the registry, returned wrapped by
// a handler, reaches the client with its documented code (never
// -32603) and as the same sentinel.
func TestErrorsRoundTrip(t *testing.T) {
	rec := &recorder{}
	c := NewSealerClient(serve(t, SealerMethods(rec)))
	for _, e := range api.ErrorCodes {
		rec.err = fmt.Errorf("sector s-t01000-5: %w", e.Err)
		_, err := c.SubmitPreCommit(context.Background(), api.SectorID{Miner: 1000, Number: 5}, api.PreCommitInfo{}, false)
		if !errors.Is(err, e.Err) {
			t.Errorf("%s: got %v, want errors.Is %v", e.Name, err, e.Err)
		}
		var re *rpc.Error
		if !errors.As(err, &re) || re.Code != e.Code {
			t.Errorf("%s: wire error %+v, want code %d", e.Name, re, e.Code)
		}
		for _, other := range api.ErrorCodes {
			if other.Code != e.Code && errors.Is(err, other.Err) {
				t.Errorf("%s: also matches %s", e.Name, other.Name)
			}
		}
		if got, ok := api.ErrorOf(err); !ok || got.Code != e.Code {
			t.Errorf("%s: ErrorOf = %v, %v", e.Name, got.Name, ok)
		}
	}
	// An unregistered error is not mistaken for one of them.
	rec.err = errors.New("disk on fire")
	_, err := c.SubmitPreCommit(context.Background(), api.SectorID{}, api.PreCommitInfo{}, false)
	if _, ok := api.ErrorOf(err); ok || err == nil {
		t.Errorf("unregistered error came back as %v", err)
	}
}
