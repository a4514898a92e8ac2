package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
)

// Built-in notification methods of go-jsonrpc's WebSocket protocol (its
// websocket.go): channel values, channel end, and cancellation of an
// in-flight request by id.
const (
	methodChanValue = "xrpc.ch.val"
	methodChanClose = "xrpc.ch.close"
	methodCancel    = "xrpc.cancel"
)

// frame is any JSON-RPC message: a request/notification (Method set) or a
// response (Method empty). One struct serves both because on a WebSocket
// either kind can arrive in either direction.
type frame struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"` // nil = absent (notification), "null" = null id
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// isNotification reports whether no response is wanted (no id member).
func (f *frame) isNotification() bool { return f.ID == nil }

// responseID is the id to echo: the request's id, or null when unknown.
func (f *frame) responseID() json.RawMessage {
	if f == nil || f.ID == nil {
		return nullJSON
	}
	return f.ID
}

var nullJSON = json.RawMessage("null")

// inbound is one decoded element of a message: a request, or the error to
// answer it with when it was malformed (req may then be partly filled, to
// recover its id).
type inbound struct {
	req frame
	err *Error
}

// decodeMessage splits a received message into requests. batch reports a
// top-level array. A nil slice with a non-nil error means the whole message
// is rejected with that error (id null): unparsable JSON (-32700), an empty
// message or an empty batch (-32600), or more than maxBatch elements.
func decodeMessage(data []byte, maxBatch int) (elems []inbound, batch bool, err *Error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, false, &Error{Code: CodeInvalidRequest, Message: "rpc: empty request"}
	}
	if data[0] != '[' {
		var in inbound
		if uErr := decodeFrame(data, &in.req); uErr != nil {
			if !json.Valid(data) {
				return nil, false, &Error{Code: CodeParseError, Message: "rpc: parse error: invalid json"}
			}
			return nil, false, &Error{Code: CodeInvalidRequest, Message: "rpc: invalid request: " + uErr.Error()}
		}
		in.err = validateRequest(&in.req)
		return []inbound{in}, false, nil
	}
	var raws []json.RawMessage
	if uErr := json.Unmarshal(data, &raws); uErr != nil {
		return nil, true, &Error{Code: CodeParseError, Message: "rpc: parse error: invalid json"}
	}
	if len(raws) == 0 {
		return nil, true, &Error{Code: CodeInvalidRequest, Message: "rpc: empty batch"}
	}
	if maxBatch > 0 && len(raws) > maxBatch {
		return nil, true, &Error{Code: CodeInvalidRequest, Message: fmt.Sprintf("rpc: batch of %d requests exceeds the limit of %d", len(raws), maxBatch)}
	}
	elems = make([]inbound, len(raws))
	for i, raw := range raws {
		if uErr := decodeFrame(raw, &elems[i].req); uErr != nil {
			// The element is valid JSON (the array parsed) but not a request
			// object; its id cannot be trusted, so answer with id null.
			elems[i] = inbound{err: &Error{Code: CodeInvalidRequest, Message: "rpc: invalid request: " + uErr.Error()}}
			continue
		}
		elems[i].err = validateRequest(&elems[i].req)
	}
	return elems, true, nil
}

// validateRequest applies the JSON-RPC 2.0 rules for request objects. An
// invalid id is replaced by null, so the error is still sent (with id null).
func validateRequest(f *frame) *Error {
	if f.ID != nil && !validID(f.ID) {
		f.ID = nullJSON
		return &Error{Code: CodeInvalidRequest, Message: "rpc: invalid request: id must be a string, number or null"}
	}
	if f.JSONRPC != "2.0" {
		return &Error{Code: CodeInvalidRequest, Message: `rpc: invalid request: "jsonrpc" must be "2.0"`}
	}
	if f.Method == "" {
		return &Error{Code: CodeInvalidRequest, Message: "rpc: invalid request: missing method"}
	}
	if f.Result != nil || f.Error != nil {
		return &Error{Code: CodeInvalidRequest, Message: "rpc: invalid request: result or error in a request"}
	}
	if len(f.Params) > 0 {
		switch f.Params[0] {
		case '[', '{', 'n': // array, object, null (the decoder has validated the rest)
		default:
			return &Error{Code: CodeInvalidRequest, Message: "rpc: invalid request: params must be an array or an object"}
		}
	}
	return nil
}

// validID reports whether raw is a JSON string, number or null.
func validID(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	switch c := raw[0]; {
	case c == '"', c == 'n', c == '-', c >= '0' && c <= '9':
		return true
	}
	return false
}

// idKey normalises an id for map lookups so that "xrpc.cancel [5]" finds the
// request sent with id 5 whatever its spelling (5, 5.0, 5e0); go-jsonrpc does
// the same normalisation. ok is false for a missing or unusable id.
func idKey(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || !validID(raw) {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return "s" + s, true
	}
	if raw[0] == 'n' {
		return "", false
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return "n" + strconv.FormatInt(n, 10), true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return "", false
	}
	if f == float64(int64(f)) {
		return "n" + strconv.FormatInt(int64(f), 10), true
	}
	return "f" + strconv.FormatFloat(f, 'g', -1, 64), true
}

// splitParams turns the params member into positional values: an array
// gives its elements, an object is passed whole as the single element (for
// by-name callers), absent or null gives none. The elements share raw's
// bytes. The array is split by hand once json.Valid has checked it: a
// json.Unmarshal into []json.RawMessage cost a decoder, a slice and a copy
// of every element on each request, a twentieth of a busy manager's
// allocations.
func splitParams(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = trimJSONSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '{' {
		return []json.RawMessage{raw}, nil
	}
	if raw[0] == '[' && json.Valid(raw) {
		return splitArray(raw), nil
	}
	var ps []json.RawMessage
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, fmt.Errorf("%w: params: %w", ErrInvalidParams, err)
	}
	return ps, nil
}

// appendResult encodes a success response. id and result must be valid
// JSON; building the bytes by hand avoids re-validating a large result
// (proofs) that json.Marshal has just produced.
func appendResult(dst []byte, id, result json.RawMessage) []byte {
	if result == nil {
		result = nullJSON
	}
	dst = appendResultHead(dst, id)
	dst = append(dst, result...)
	return append(dst, '}')
}

// appendResultHead appends a success response up to its result.
func appendResultHead(dst []byte, id json.RawMessage) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = append(dst, id...)
	return append(dst, `,"result":`...)
}

// appendError encodes an error response.
func appendError(dst []byte, id json.RawMessage, e *Error) []byte {
	eb, err := json.Marshal(e)
	if err != nil { // only a malformed Data can get here
		eb, _ = json.Marshal(&Error{Code: e.Code, Message: e.Message})
	}
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = append(dst, id...)
	dst = append(dst, `,"error":`...)
	dst = append(dst, eb...)
	return append(dst, '}')
}

// appendMethod appends a method name as a JSON string. Names are plain
// ASCII (Filecoin.ChainHead, Sealant.PollPreCommitState), appended as they
// are, as json.Marshal would write them, without its allocation; any
// other name goes through json.Marshal.
func appendMethod(dst []byte, method string) ([]byte, error) {
	for i := 0; i < len(method); i++ {
		if c := method[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			m, err := json.Marshal(method)
			return append(dst, m...), err
		}
	}
	dst = append(dst, '"')
	dst = append(dst, method...)
	return append(dst, '"'), nil
}

// encodeRequest builds a request (id != nil) or notification (id == nil)
// with positional params; no params encode as [] as Lotus clients do.
func encodeRequest(dst, id json.RawMessage, method string, params []any) ([]byte, error) {
	b := append(dst, `{"jsonrpc":"2.0",`...)
	if id != nil {
		b = append(b, `"id":`...)
		b = append(b, id...)
		b = append(b, ',')
	}
	b = append(b, `"method":`...)
	b, err := appendMethod(b, method)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"params":`...)
	if len(params) == 0 {
		b = append(b, "[]"...)
	} else if b, err = appendJSON(b, params); err != nil {
		return nil, fmt.Errorf("rpc: encode params of %s: %w", method, err)
	}
	return append(b, '}'), nil
}

// appendJSON appends v as json.Marshal encodes it, without the copy
// json.Marshal returns.
func appendJSON(dst []byte, v any) ([]byte, error) {
	e := jsonAppenders.Get().(*jsonAppender)
	defer func() {
		e.b = nil // keep nothing of the caller's buffer, even after a panic
		jsonAppenders.Put(e)
	}()
	e.b = dst
	err := e.enc.Encode(v)
	b := e.b
	if err != nil {
		return dst, err
	}
	return b[:len(b)-1], nil // Encode ends the value with a newline
}

// jsonAppender is a json.Encoder that appends to b; jsonAppenders keeps
// them for appendJSON.
type jsonAppender struct {
	b   []byte
	enc *json.Encoder
}

func (e *jsonAppender) Write(p []byte) (int, error) {
	e.b = append(e.b, p...)
	return len(p), nil
}

var jsonAppenders = sync.Pool{New: func() any {
	e := new(jsonAppender)
	e.enc = json.NewEncoder(e)
	return e
}}

// msgBuffers recycles the buffers of outgoing WebSocket messages: a
// message is written before the write returns (coder/websocket keeps
// nothing of it), so its buffer can serve the next one. A request and its
// answer were two allocations of their size per call, on a busy manager
// a tenth of its garbage.
var msgBuffers sync.Pool

// maxPooledMsg is the largest buffer msgBuffers keeps: a rare large
// answer (a proof) is not kept alive for the small ones.
const maxPooledMsg = 64 << 10

// getMsgBuffer returns an empty buffer from msgBuffers.
func getMsgBuffer() *[]byte {
	if p, ok := msgBuffers.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, 0, 512)
	return &b
}

// putMsgBuffer returns b, which holds the message just written, to
// msgBuffers in p (from getMsgBuffer).
func putMsgBuffer(p *[]byte, b []byte) {
	if cap(b) > maxPooledMsg {
		return
	}
	*p = b[:0]
	msgBuffers.Put(p)
}
