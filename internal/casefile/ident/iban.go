package ident

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ibanLengths is the length of an IBAN in each country of the SWIFT IBAN
// registry (ISO 13616), SEPA first. French overseas territories use FR.
var ibanLengths = map[string]int{
	// SEPA
	"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
	"DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27,
	"HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20,
	"LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24,
	"SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22, "AL": 28, "MD": 24, "ME": 22,
	"MK": 19, "RS": 22,
	// Elsewhere
	"AE": 23, "AZ": 28, "BA": 20, "BH": 22, "BR": 29, "BY": 28, "CR": 22, "DO": 28,
	"EG": 29, "FO": 18, "GE": 22, "GL": 18, "GT": 28, "IL": 23, "IQ": 23, "JO": 30,
	"KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LY": 25, "MR": 27, "MU": 30, "PK": 24,
	"PS": 29, "QA": 29, "SA": 24, "SC": 31, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
	"TR": 26, "UA": 29, "VG": 24, "XK": 20,
}

// scanIBANs finds IBANs: two letters, two digits, then letters and digits
// in groups separated by a space, up to the length of that country. An IBAN
// whose checksum fails is not extracted: it is more likely not an IBAN than
// a mistyped one, and a mistyped one would link nothing anyway.
func scanIBANs(text string, cands []candidate) []candidate {
	for i := 0; i+4 <= len(text); i++ {
		if !isLetter(text[i]) || !isLetter(text[i+1]) || !isDigit(text[i+2]) || !isDigit(text[i+3]) {
			continue
		}
		if r, _ := utf8.DecodeLastRuneInString(text[:i]); i > 0 && isWordRune(r) {
			continue
		}
		want, ok := ibanLengths[strings.ToUpper(text[i:i+2])]
		if !ok {
			continue
		}
		end, compact := ibanRun(text, i, want)
		if len(compact) != want {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(text[end:]); end < len(text) && isWordRune(r) {
			continue
		}
		if id, msg := normalizeIBAN(text[i:end]); msg == "" {
			cands = append(cands, candidate{ids: []Identifier{id}, start: i, end: end, priority: prioIBAN})
			i = end - 1
		}
	}
	return cands
}

// ibanRun reads up to want letters and digits from start, allowing one space
// (or no-break space, or dash) between them.
func ibanRun(text string, start, want int) (end int, compact string) {
	var b strings.Builder
	i := start
	for b.Len() < want && i < len(text) {
		c := text[i]
		if isLetter(c) || isDigit(c) {
			b.WriteByte(c)
			i++
			end = i
			continue
		}
		w := 0
		switch {
		case c == ' ' || c == '-':
			w = 1
		case strings.HasPrefix(text[i:], "\u00a0"):
			w = 2
		}
		if w == 0 || i+w >= len(text) || !(isLetter(text[i+w]) || isDigit(text[i+w])) {
			break
		}
		i += w
	}
	return end, strings.ToUpper(b.String())
}

func normalizeIBAN(raw string) (Identifier, string) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(raw) {
		switch {
		case r < utf8.RuneSelf && (isLetter(byte(r)) || isDigit(byte(r))):
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '\u00a0':
		default:
			return Identifier{}, "An IBAN may only hold letters, digits and spaces."
		}
	}
	s := strings.ToUpper(b.String())
	if len(s) < 4 || !isLetter(s[0]) || !isLetter(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return Identifier{}, "An IBAN starts with two letters (the country) and two digits, as in FR76 …."
	}
	want, ok := ibanLengths[s[:2]]
	if !ok {
		return Identifier{}, fmt.Sprintf("%q is not the code of a country that uses IBANs.", s[:2])
	}
	if len(s) != want {
		return Identifier{}, fmt.Sprintf("An IBAN from %s has %d characters; this one has %d.", s[:2], want, len(s))
	}
	if ibanMod97(s) != 1 {
		return Identifier{}, "This IBAN's check digits do not match: one character is probably mistyped."
	}
	var d strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			d.WriteByte(' ')
		}
		d.WriteString(s[i:min(i+4, len(s))])
	}
	return Identifier{Kind: KindIBAN, Value: s, Display: d.String()}, ""
}

// ibanMod97 returns the ISO 7064 MOD 97-10 remainder of an upper-case IBAN:
// the first four characters moved to the end, letters counted as 10 to 35.
// A valid IBAN gives 1.
func ibanMod97(s string) int {
	r := 0
	for _, c := range []byte(s[4:] + s[:4]) {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
