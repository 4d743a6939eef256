package waf

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/types"
)

// Encoded payloads: CRS inspects arguments as sent, so an attack encoded
// in base64 ("PHNjcmlwdD4…") passes it untouched; an application that
// decodes such a value would then run it. For every argument (query, path
// segment, form, JSON, multipart field) whose value is base64 of readable
// text, the firewall adds the decoded text as one more argument, named
// after the original with ".b64", before the rules run: every CRS rule
// then inspects it too. Binary values (tokens, keys, passkey attestations)
// do not decode to readable text and are left alone.

// b64Suffix names the decoded copies.
const b64Suffix = ".b64"

// maxDecoded bounds the values looked at (and the work per request).
const (
	minB64Len  = 8
	maxB64Len  = 64 << 10
	maxDecoded = 64
)

// decodeBase64Text returns the text that s encodes in base64 (standard or
// URL alphabet, padded or not; a '+' turned into a space by form decoding
// is put back), when s is base64 of readable UTF-8 text.
func decodeBase64Text(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < minB64Len || len(s) > maxB64Len {
		return "", false
	}
	urlAlphabet := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/', c == ' ':
		case c == '-' || c == '_':
			urlAlphabet = true
		case c == '=':
			if i < len(s)-2 {
				return "", false
			}
		default:
			return "", false
		}
	}
	s = strings.ReplaceAll(strings.TrimRight(s, "="), " ", "+")
	enc := base64.RawStdEncoding
	if urlAlphabet {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil || len(b) < 4 || !utf8.Valid(b) {
		return "", false
	}
	letters := 0
	for _, r := range string(b) {
		if r != '\t' && r != '\n' && r != '\r' && !unicode.IsPrint(r) {
			return "", false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	// Text has letters; base64 of random bytes that happens to be valid
	// UTF-8 seldom does.
	if letters == 0 {
		return "", false
	}
	return string(b), true
}

// addDecodedQuery adds the decoded copies of the query's arguments and of
// the path's segments.
func addDecodedQuery(tx types.Transaction, u *url.URL) {
	n := 0
	if u.RawQuery != "" {
		if vals, err := url.ParseQuery(u.RawQuery); err == nil || len(vals) > 0 {
			for k, vs := range vals {
				for _, v := range vs {
					if d, ok := decodeBase64Text(v); ok && n < maxDecoded {
						tx.AddGetRequestArgument(k+b64Suffix, d)
						n++
					}
				}
			}
		}
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if d, ok := decodeBase64Text(seg); ok && n < maxDecoded {
			tx.AddGetRequestArgument("path"+b64Suffix, d)
			n++
		}
	}
}

// addDecodedBody adds the decoded copies of a buffered body's arguments
// (forms, JSON, multipart fields; never files).
func addDecodedBody(tx types.Transaction, contentType string, body []byte) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return
	}
	n := 0
	add := func(k, v string) {
		if d, ok := decodeBase64Text(v); ok && n < maxDecoded {
			tx.AddPostRequestArgument(k+b64Suffix, d)
			n++
		}
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		vals, _ := url.ParseQuery(string(body))
		for k, vs := range vals {
			for _, v := range vs {
				add(k, v)
			}
		}
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		dec := json.NewDecoder(bytes.NewReader(body))
		var v any
		if dec.Decode(&v) == nil {
			walkJSON("json", v, add, 0)
		}
	case mt == "multipart/form-data" && params["boundary"] != "":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for i := 0; i < 100; i++ {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FileName() == "" {
				b, _ := io.ReadAll(io.LimitReader(p, maxB64Len+1))
				add(p.FormName(), string(b))
			}
			p.Close()
		}
	}
}

func walkJSON(name string, v any, add func(k, v string), depth int) {
	if depth > 32 {
		return
	}
	switch t := v.(type) {
	case string:
		add(name, t)
	case map[string]any:
		for k, e := range t {
			walkJSON(name+"."+k, e, add, depth+1)
		}
	case []any:
		for _, e := range t {
			walkJSON(name, e, add, depth+1)
		}
	}
}
