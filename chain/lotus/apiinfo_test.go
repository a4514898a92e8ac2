package lotus

import (
	"errors"
	"testing"
)

func TestParseAPIInfo(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiXX0.dGVzdA"
	cases := []struct {
		in, token, http, ws string
	}{
		{jwt + ":/ip4/1.2.3.4/tcp/1234/http", jwt, "http://1.2.3.4:1234/rpc/v1", "ws://1.2.3.4:1234/rpc/v1"},
		{jwt + ":/ip4/1.2.3.4/tcp/1234", jwt, "http://1.2.3.4:1234/rpc/v1", "ws://1.2.3.4:1234/rpc/v1"},
		{jwt + ":/ip4/1.2.3.4/tcp/1234/ws", jwt, "http://1.2.3.4:1234/rpc/v1", "ws://1.2.3.4:1234/rpc/v1"},
		{jwt + ":/ip6/::1/tcp/1234/http", jwt, "http://[::1]:1234/rpc/v1", "ws://[::1]:1234/rpc/v1"},
		{jwt + ":/dns/node.example/tcp/443/https", jwt, "https://node.example:443/rpc/v1", "wss://node.example:443/rpc/v1"},
		{jwt + ":/dns4/node.example/tcp/443/wss", jwt, "https://node.example:443/rpc/v1", "wss://node.example:443/rpc/v1"},
		{jwt + ":/dns6/node.example/tcp/443/tls/http", jwt, "https://node.example:443/rpc/v1", "wss://node.example:443/rpc/v1"},
		{jwt + ":ws://host:1234/rpc/v1", jwt, "http://host:1234/rpc/v1", "ws://host:1234/rpc/v1"},
		{jwt + ":wss://host/rpc/v1", jwt, "https://host/rpc/v1", "wss://host/rpc/v1"},
		{jwt + ":https://host:8443", jwt, "https://host:8443/rpc/v1", "wss://host:8443/rpc/v1"},
		{jwt + ":http://host:1234/", jwt, "http://host:1234/rpc/v1", "ws://host:1234/rpc/v1"},
		{"http://127.0.0.1:1234/rpc/v0", "", "http://127.0.0.1:1234/rpc/v0", "ws://127.0.0.1:1234/rpc/v0"},
		{"/ip4/127.0.0.1/tcp/1234/http", "", "http://127.0.0.1:1234/rpc/v1", "ws://127.0.0.1:1234/rpc/v1"},
		{"  " + jwt + ":/ip4/1.2.3.4/tcp/1234/http\n", jwt, "http://1.2.3.4:1234/rpc/v1", "ws://1.2.3.4:1234/rpc/v1"},
	}
	for _, tc := range cases {
		info, err := ParseAPIInfo(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if info.Token != tc.token || info.HTTPURL() != tc.http || info.WSURL() != tc.ws {
			t.Errorf("%q: got token %q %s %s", tc.in, info.Token, info.HTTPURL(), info.WSURL())
		}
		if info.String() != tc.http {
			t.Errorf("%q: String() = %s (must not include the token)", tc.in, info.String())
		}
	}
	bad := []string{
		"", jwt + ":", "/ip4/1.2.3.4/tcp", "/ip4/1.2.3.4/udp/1234/http", "/ip4/999.1.1.1/tcp/1/http",
		"/ip4/::1/tcp/1/http", "/ip6/1.2.3.4/tcp/1/http", "/ip4/1.2.3.4/tcp/0/http", "/ip4/1.2.3.4/tcp/70000/http",
		"/ip4/1.2.3.4/tcp/1/quic", "/unix/tmp/sock", "ftp://host/", "host:1234", "http://", "http://u:p@host/",
		"http://host/?q=1", "token:/ip4/1.2.3.4/tcp/1234/http",
	}
	for _, s := range bad {
		if _, err := ParseAPIInfo(s); !errors.Is(err, ErrBadAPIInfo) {
			t.Errorf("%q: err = %v, want ErrBadAPIInfo", s, err)
		}
	}
}

func FuzzParseAPIInfo(f *testing.F) {
	f.Add("a.b.c:/ip4/1.2.3.4/tcp/1234/http")
	f.Add("a.b.c:wss://host/rpc/v1")
	f.Add("/ip6/::1/tcp/1/ws")
	f.Fuzz(func(t *testing.T, s string) {
		info, err := ParseAPIInfo(s)
		if err != nil {
			if !errors.Is(err, ErrBadAPIInfo) {
				t.Fatalf("unwrapped error: %v", err)
			}
			return
		}
		// The URL we produce must itself parse back to the same endpoint.
		again, err := ParseAPIInfo(info.HTTPURL())
		if err != nil || again.HTTPURL() != info.HTTPURL() || again.Secure != info.Secure {
			t.Fatalf("%q -> %s does not round-trip: %v", s, info.HTTPURL(), err)
		}
	})
}
