package rpc

import (
	"encoding/json"
)

// Hand-written scanning of JSON that json.Valid has checked: splitting a
// params array and taking a message envelope apart, the two decodes every
// call makes, without encoding/json's reflection and copies.

// trimJSONSpace cuts JSON's white space (space, tab, CR, LF; not the
// other characters bytes.TrimSpace takes) from both ends of b.
func trimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// splitArray returns the elements of a valid JSON array, without the
// white space around them.
func splitArray(raw []byte) []json.RawMessage {
	var out []json.RawMessage
	for i := skipJSONSpace(raw, 1); i < len(raw) && raw[i] != ']'; {
		end := valueEnd(raw, i)
		// Capacity cut to the element, so that appending to one cannot
		// overwrite the next.
		out = append(out, json.RawMessage(raw[i:end:end]))
		if i = skipJSONSpace(raw, end); i < len(raw) && raw[i] == ',' {
			i = skipJSONSpace(raw, i+1)
		}
	}
	return out
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON white space.
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// valueEnd returns the index just past the JSON value that starts at
// b[i]; b must be valid JSON (json.Valid) and i the start of a value.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++ // the escaped byte (\uXXXX's digits need no care)
			case '"':
				return j + 1
			}
		}
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = valueEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
			j++
		}
		return j
	}
	return len(b)
}

// decodeFrame decodes one JSON-RPC message object into f (a zero frame),
// exactly as json.Unmarshal would. The common message (the six members
// spelled as they are, each once, plain ASCII strings, no error object)
// is taken apart by hand once json.Valid has checked it, with one copy
// of its raw members; anything else goes to json.Unmarshal. Why: on a
// busy manager json.Unmarshal of the envelope, on both ends of every
// call, was a sixth of all allocations and so a sixth of the garbage
// collections, whose pauses make the latency tail.
func decodeFrame(data []byte, f *frame) error {
	if decodePlainFrame(data, f) {
		return nil
	}
	*f = frame{}
	return json.Unmarshal(data, f)
}

// Members of a frame, as bits of decodePlainFrame's seen set.
const (
	memberJSONRPC = 1 << iota
	memberID
	memberMethod
	memberParams
	memberResult
	memberError
)

// decodePlainFrame decodes data into f if it is a plain message (see
// decodeFrame) and reports whether it was.
func decodePlainFrame(data []byte, f *frame) bool {
	if !json.Valid(data) {
		return false
	}
	i := skipJSONSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return false
	}
	var (
		seen               int
		id, params, result []byte
		keyStart, valStart int
	)
	for i = skipJSONSpace(data, i+1); data[i] != '}'; {
		keyStart, i = i, valueEnd(data, i)
		key := data[keyStart+1 : i-1]
		valStart = skipJSONSpace(data, skipJSONSpace(data, i)+1) // past the colon
		i = valueEnd(data, valStart)
		val := data[valStart:i]
		var (
			member int
			text   *string // the member's string field, for jsonrpc and method
		)
		switch string(key) {
		case "jsonrpc":
			member, text = memberJSONRPC, &f.JSONRPC
		case "method":
			member, text = memberMethod, &f.Method
		case "id":
			member, id = memberID, val
		case "params":
			member, params = memberParams, val
		case "result":
			member, result = memberResult, val
		case "error":
			if string(val) != "null" {
				return false
			}
			member = memberError
		default: // other members, other spellings, escaped keys
			return false
		}
		if seen&member != 0 {
			return false // json.Unmarshal keeps the last
		}
		if text != nil {
			s, ok := plainString(val)
			if !ok {
				return false
			}
			*text = s
		}
		seen |= member
		if i = skipJSONSpace(data, i); data[i] == ',' {
			i = skipJSONSpace(data, i+1)
		}
	}
	buf := make([]byte, 0, len(id)+len(params)+len(result))
	f.ID, buf = takeRaw(buf, id)
	f.Params, buf = takeRaw(buf, params)
	f.Result, _ = takeRaw(buf, result)
	return true
}

// takeRaw copies raw (nil stays nil) into the spare capacity of buf and
// returns the copy, its capacity cut to its length, and buf grown by it.
func takeRaw(buf, raw []byte) (json.RawMessage, []byte) {
	if raw == nil {
		return nil, buf
	}
	n := len(buf)
	buf = append(buf, raw...)
	return json.RawMessage(buf[n:len(buf):len(buf)]), buf
}

// plainString returns the text of a JSON string made of printable ASCII
// without escapes ("2.0", method names); ok is false for any other value,
// which json.Unmarshal then decodes (or rejects).
func plainString(val []byte) (s string, ok bool) {
	if len(val) < 2 || val[0] != '"' {
		return "", false
	}
	body := val[1 : len(val)-1]
	for _, c := range body {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return "", false
		}
	}
	if string(body) == "2.0" {
		return "2.0", true
	}
	return string(body), true
}
