package lotus

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// ErrBadAPIInfo is returned for an endpoint string that is neither a
// Lotus multiaddr nor a URL.
var ErrBadAPIInfo = errors.New("lotus: malformed api info")

// APIPath is the path of the v1 full-node API, served over both HTTP POST
// and WebSocket.
const APIPath = "/rpc/v1"

// APIInfo is a parsed FULLNODE_API_INFO value: where the node is and the
// JWT to present.
type APIInfo struct {
	// Token is the JWT, empty when the value had none (read-only access).
	Token string
	// Host is host:port, with IPv6 literals bracketed.
	Host string
	// Secure selects https/wss.
	Secure bool
	// Path is the RPC path, APIPath unless a URL named another one.
	Path string
}

// tokenPrefix mirrors Lotus cli/util/apiinfo.go: a value carries a token
// only when it starts with something shaped like a JWT (three base64url
// segments joined by dots) followed by a colon. Testing for the shape,
// rather than splitting on the first colon, keeps "http://…" and
// "/ip6/::1/…" intact.
var tokenPrefix = regexp.MustCompile(`^[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+?\.([a-zA-Z0-9\-_]+)?:.+$`)

// ParseAPIInfo parses FULLNODE_API_INFO. Accepted forms:
//
//	TOKEN:/ip4/1.2.3.4/tcp/1234/http        (Lotus default, also /ws)
//	TOKEN:/ip6/::1/tcp/1234/http
//	TOKEN:/dns/node.example/tcp/443/https   (/dns4, /dns6; /https, /wss, /tls/http, /tls/ws)
//	TOKEN:ws://host:1234/rpc/v1             (http, https, ws, wss URLs)
//	/ip4/127.0.0.1/tcp/1234/http            (no token)
//
// A URL without a path gets APIPath; a multiaddr always uses APIPath.
func ParseAPIInfo(s string) (APIInfo, error) {
	s = strings.TrimSpace(s)
	var info APIInfo
	if tokenPrefix.MatchString(s) {
		tok, rest, _ := strings.Cut(s, ":")
		info.Token, s = tok, rest
	}
	if s == "" {
		return APIInfo{}, fmt.Errorf("lotus: empty endpoint: %w", ErrBadAPIInfo)
	}
	var err error
	if strings.HasPrefix(s, "/") {
		err = info.parseMultiaddr(s)
	} else {
		err = info.parseURL(s)
	}
	if err != nil {
		return APIInfo{}, err
	}
	return info, nil
}

func (info *APIInfo) parseMultiaddr(s string) error {
	parts := strings.Split(strings.TrimPrefix(s, "/"), "/")
	bad := func(why string) error {
		return fmt.Errorf("lotus: multiaddr %q: %s: %w", s, why, ErrBadAPIInfo)
	}
	if len(parts) < 4 {
		return bad("want /<ip4|ip6|dns|dns4|dns6>/<host>/tcp/<port>[/http|/https|/ws|/wss]")
	}
	host := parts[1]
	switch parts[0] {
	case "ip4":
		if ip := net.ParseIP(host); ip == nil || ip.To4() == nil {
			return bad("bad ip4 address")
		}
	case "ip6":
		if ip := net.ParseIP(host); ip == nil || !strings.Contains(host, ":") {
			return bad("bad ip6 address")
		}
	case "dns", "dns4", "dns6":
		if host == "" {
			return bad("empty dns name")
		}
	default:
		return bad("unsupported network protocol " + strconv.Quote(parts[0]))
	}
	if parts[2] != "tcp" {
		return bad("only tcp is supported")
	}
	port, err := strconv.ParseUint(parts[3], 10, 16)
	if err != nil || port == 0 {
		return bad("bad tcp port")
	}
	info.Host = net.JoinHostPort(host, parts[3])
	info.Path = APIPath
	switch rest := strings.Join(parts[4:], "/"); rest {
	case "", "http", "ws":
		info.Secure = false
	case "https", "wss", "tls/http", "tls/ws", "tls":
		info.Secure = true
	default:
		return bad("unsupported transport " + strconv.Quote(rest))
	}
	return nil
}

func (info *APIInfo) parseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("lotus: endpoint %q: %v: %w", s, err, ErrBadAPIInfo)
	}
	switch u.Scheme {
	case "http", "ws":
	case "https", "wss":
		info.Secure = true
	default:
		return fmt.Errorf("lotus: endpoint %q: scheme must be http, https, ws or wss: %w", s, ErrBadAPIInfo)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("lotus: endpoint %q: want scheme://host:port[/path]: %w", s, ErrBadAPIInfo)
	}
	info.Host = u.Host
	info.Path = u.EscapedPath()
	if info.Path == "" || info.Path == "/" {
		info.Path = APIPath
	}
	return nil
}

// HTTPURL is the URL for JSON-RPC over HTTP POST.
func (info APIInfo) HTTPURL() string {
	scheme := "http"
	if info.Secure {
		scheme = "https"
	}
	return scheme + "://" + info.Host + info.Path
}

// WSURL is the URL for JSON-RPC over WebSocket (needed for channel
// methods such as ChainNotify).
func (info APIInfo) WSURL() string {
	scheme := "ws"
	if info.Secure {
		scheme = "wss"
	}
	return scheme + "://" + info.Host + info.Path
}

// String renders the endpoint without the token, for logs.
func (info APIInfo) String() string { return info.HTTPURL() }
