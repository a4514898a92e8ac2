package lotus

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/coder/websocket"
)

// go-jsonrpc channel notifications (spec/chain.md §6.1): after a channel
// method answers with a channel id, the server sends
// {"method":"xrpc.ch.val","params":[id, value]} per value and
// {"method":"xrpc.ch.close","params":[id]} at the end.
const (
	wsChanValue = "xrpc.ch.val"
	wsChanClose = "xrpc.ch.close"
)

// maxWSMessage bounds one WebSocket message; a head change carries full
// block headers, well above coder/websocket's 32 KiB default.
const maxWSMessage = 64 << 20

// wsHTTPClient returns an HTTP client for the WebSocket handshake. The
// upgrade needs HTTP/1.1, so HTTP/2 negotiation is switched off on a copy
// of the transport (a custom RoundTripper is used as is).
func wsHTTPClient(rt http.RoundTripper) *http.Client {
	if tr, ok := rt.(*http.Transport); ok {
		tr = tr.Clone()
		tr.ForceAttemptHTTP2 = false
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		if tr.TLSClientConfig != nil {
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		rt = tr
	}
	return &http.Client{Transport: rt}
}

type wsMessage struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
	Result json.RawMessage   `json:"result"`
	Error  *RPCError         `json:"error"`
}

// subscribe opens a WebSocket, calls a channel method and streams the raw
// channel values until the server closes the channel, the connection
// fails, or ctx is cancelled; the returned channel is then closed. It is
// not retried: a subscriber reconnects by calling again (for ChainNotify
// the first event after reconnecting is the "current" head, so no state
// is lost).
func (c *Client) subscribe(ctx context.Context, method string, params ...any) (<-chan json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	hdr := http.Header{}
	if c.info.Token != "" {
		hdr.Set("Authorization", "Bearer "+c.info.Token)
	}
	conn, resp, err := websocket.Dial(ctx, c.info.WSURL(), &websocket.DialOptions{
		HTTPClient: wsHTTPClient(c.hc.Transport),
		HTTPHeader: hdr,
	})
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return nil, fmt.Errorf("lotus: %s: %w (http %d)", method, ErrUnauthorized, resp.StatusCode)
		}
		return nil, fmt.Errorf("lotus: %s: dial websocket: %w: %w", method, ErrTransport, err)
	}
	conn.SetReadLimit(maxWSMessage)

	id := c.nextID.Add(1)
	req, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("lotus: %s: encode params: %w", method, err)
	}
	if err := conn.Write(ctx, websocket.MessageText, req); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("lotus: %s: %w: %w", method, ErrTransport, err)
	}

	// Wait for the call's response, which carries the channel id.
	wantID := strconv.FormatInt(id, 10)
	var chanID json.RawMessage
	for chanID == nil {
		m, err := readWS(ctx, conn)
		if err != nil {
			conn.CloseNow()
			return nil, fmt.Errorf("lotus: %s: %w", method, err)
		}
		if m.Method != "" || string(bytes.TrimSpace(m.ID)) != wantID {
			continue // a notification or unrelated response; not ours yet
		}
		if m.Error != nil {
			conn.CloseNow()
			return nil, fmt.Errorf("lotus: %s: %w", method, m.Error)
		}
		if len(m.Result) == 0 || string(m.Result) == "null" {
			conn.CloseNow()
			return nil, fmt.Errorf("lotus: %s: no channel id in response: %w", method, ErrBadResponse)
		}
		chanID = bytes.TrimSpace(m.Result)
	}

	out := make(chan json.RawMessage, 16)
	go func() {
		defer close(out)
		defer conn.CloseNow()
		for {
			m, err := readWS(ctx, conn)
			if err != nil {
				if ctx.Err() == nil {
					c.log.Warn("lotus: subscription ended", "method", method, "err", err)
				}
				return
			}
			if len(m.Params) == 0 || !bytes.Equal(bytes.TrimSpace(m.Params[0]), chanID) {
				continue
			}
			switch m.Method {
			case wsChanValue:
				if len(m.Params) != 2 {
					c.log.Warn("lotus: malformed channel value", "method", method)
					return
				}
				select {
				case out <- m.Params[1]:
				case <-ctx.Done():
					return
				}
			case wsChanClose:
				conn.Close(websocket.StatusNormalClosure, "")
				return
			}
		}
	}()
	return out, nil
}

func readWS(ctx context.Context, conn *websocket.Conn) (*wsMessage, error) {
	typ, data, err := conn.Read(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%w: %w", ErrClosed, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrTransport, err)
	}
	if typ != websocket.MessageText {
		return nil, fmt.Errorf("binary websocket message: %w", ErrBadResponse)
	}
	var m wsMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrBadResponse)
	}
	return &m, nil
}

// ChainNotify subscribes to head changes over WebSocket. The first batch
// holds one HCCurrent change with the current head; later batches hold
// HCRevert/HCApply changes in the order to apply them. The channel closes
// when ctx is cancelled or the connection ends; call ChainNotify again to
// resubscribe. Batches that fail to decode end the subscription (logged),
// rather than being silently skipped.
func (c *Client) ChainNotify(ctx context.Context) (<-chan []HeadChange, error) {
	ctx, cancel := context.WithCancel(ctx)
	raw, err := c.subscribe(ctx, "Filecoin.ChainNotify")
	if err != nil {
		cancel()
		return nil, err
	}
	out := make(chan []HeadChange, 4)
	go func() {
		defer close(out)
		defer func() {
			cancel() // closes the socket if we stop first
			// Drain so the reader goroutine can exit if we stopped early.
			for range raw {
			}
		}()
		for v := range raw {
			var hcs []HeadChange
			if err := json.Unmarshal(v, &hcs); err != nil {
				c.log.Warn("lotus: bad ChainNotify value", "err", err)
				return
			}
			select {
			case out <- hcs:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
