package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/sealant/sealant/rpc"
)

// checkText refuses a call whose parameters hold a string (value or key,
// at any depth) with a NUL character or invalid UTF-8. PostgreSQL cannot
// store either in TEXT (SQLSTATE 22021) while SQLite stores both, and
// encoding/json would silently turn invalid UTF-8 into U+FFFD; refusing at
// the API edge makes both stores behave the same and keeps the text the
// caller sent or nothing.
func checkText(h rpc.Handler) rpc.Handler {
	return func(ctx context.Context, params []json.RawMessage) (any, error) {
		for i, p := range params {
			if err := validText(p); err != nil {
				return nil, fmt.Errorf("%w: param %d: %w", ErrInvalid, i+1, err)
			}
		}
		return h(ctx, params)
	}
}

var (
	errBadUTF8 = errors.New("text is not valid UTF-8")
	errNUL     = errors.New("text contains a NUL character")
)

// validText checks every string in one JSON value.
func validText(raw json.RawMessage) error {
	if !utf8.Valid(raw) {
		return errBadUTF8
	}
	// Only strings with escapes can hide a NUL or a lone surrogate; skip
	// the token walk for the common case.
	if bytes.IndexByte(raw, '\\') < 0 {
		if bytes.IndexByte(raw, 0) >= 0 {
			return errNUL
		}
		return nil
	}
	// An escaped lone surrogate (\ud800) decodes to U+FFFD; a U+FFFD the
	// caller really sent is there literally or as \ufffd.
	sentFFFD := bytes.Contains(raw, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(raw), []byte(`\ufffd`))
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // malformed JSON: the handler's decoding reports it
		}
		s, ok := tok.(string)
		if !ok {
			continue
		}
		if strings.IndexByte(s, 0) >= 0 {
			return errNUL
		}
		if !sentFFFD && strings.ContainsRune(s, utf8.RuneError) {
			return errBadUTF8
		}
	}
}
