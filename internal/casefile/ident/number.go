package ident

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// This file holds the identifiers made of digits: phone numbers, IMEIs and
// payment cards. One scanner finds runs of digits and classifies each run
// once, so that a card number is never also a phone or an IMEI.

// scanNumbers finds runs of digits: an optional "+", then digits, with at
// most two separator characters between groups ("06 12 34 56 78",
// "+33 (0)6.12…", "4970-1012-…").
func (x *Extractor) scanNumbers(text string, cands []candidate) []candidate {
	for i := 0; i < len(text); {
		c := text[i]
		if !isDigit(c) && (c != '+' || i+1 >= len(text) || !isDigit(text[i+1])) {
			i++
			continue
		}
		start := i
		if r, _ := utf8.DecodeLastRuneInString(text[:start]); start > 0 && (isWordRune(r) || r == '+' || r == '@') {
			i = skipRun(text, i)
			continue
		}
		end, digits := numberRun(text, start)
		i = end
		if r, _ := utf8.DecodeRuneInString(text[end:]); end < len(text) && isWordRune(r) {
			continue
		}
		if end+1 < len(text) && text[end] == ',' && isDigit(text[end+1]) {
			continue // a decimal amount: "1 250,00 €"
		}
		if id, ok := x.classifyNumber(text, start, text[start] == '+', digits); ok {
			cands = append(cands, candidate{ids: []Identifier{id}, start: start, end: end, priority: prioNumber})
		}
	}
	return cands
}

// numberRun returns the end of the run of digits that starts at start and
// its digits.
func numberRun(text string, start int) (end int, digits string) {
	var b strings.Builder
	i := start
	if text[i] == '+' {
		i++
	}
	for {
		for i < len(text) && isDigit(text[i]) {
			b.WriteByte(text[i])
			i++
		}
		end = i
		// At most two separators, then a digit, continue the run.
		j := i
		for n := 0; n < 2 && j < len(text); n++ {
			w := separatorWidth(text[j:])
			if w == 0 {
				break
			}
			j += w
		}
		if j == i || j >= len(text) || !isDigit(text[j]) || b.Len() > 40 {
			return end, b.String()
		}
		i = j
	}
}

func skipRun(text string, i int) int {
	for i < len(text) && (isDigit(text[i]) || text[i] == '+') {
		i++
	}
	return i
}

// numberSeparators are the characters allowed between the digits of a
// number, in a text and in a form field alike.
const numberSeparators = " .-/()\u00a0\u202f"

// separatorWidth returns the byte width of the separator that s starts with,
// or 0: space, dot, dash, slash, parentheses, no-break spaces.
func separatorWidth(s string) int {
	switch s[0] {
	case ' ', '.', '-', '/', '(', ')':
		return 1
	}
	if strings.HasPrefix(s, "\u00a0") {
		return 2
	}
	if strings.HasPrefix(s, "\u202f") {
		return 3
	}
	return 0
}

func (x *Extractor) classifyNumber(text string, start int, plus bool, d string) (Identifier, bool) {
	if !plus {
		// 14 digits are a SIRET far more often than a Diners card: such a
		// card is recognised only when typed in a card field.
		if len(d) != 14 && isCard(d) {
			id, ok := x.card(d)
			return id, ok // without a key the card is dropped, never a phone
		}
		if len(d) == 15 && luhn(d) {
			return imei(d), true
		}
		if (len(d) == 14 || len(d) == 16) && strings.Contains(strings.ToLower(text[max(0, start-24):start]), "imei") {
			return imei(d), true
		}
	}
	return phone(plus, d)
}

// frenchRegions are the regions that share the French national format
// "0X XX XX XX XX", tried in this order: metropolitan France, then the
// overseas departments whose numbers 0262, 0692, 0590… are not valid
// metropolitan numbers.
var frenchRegions = []string{"FR", "RE", "YT", "GP", "MQ", "GF"}

// phone reads digits as a phone number: international when written with "+"
// or "00", French otherwise. A number written without an international
// prefix that is not French is not extracted: it could be anything.
func phone(plus bool, d string) (Identifier, bool) {
	var regions []string
	switch {
	case plus:
		d = "+" + d
		regions = []string{""}
	case len(d) > 4 && strings.HasPrefix(d, "00"):
		d = "+" + d[2:]
		regions = []string{""}
	case len(d) == 10 && d[0] == '0':
		regions = frenchRegions
	default:
		return Identifier{}, false
	}
	if len(d) > 17 {
		return Identifier{}, false
	}
	for _, region := range regions {
		var n *phonenumbers.PhoneNumber
		if region == "" {
			var err error
			if n, err = phonenumbers.Parse(d, ""); err != nil || !phonenumbers.IsValidNumber(n) {
				continue
			}
		} else {
			// The digits are known to be clean: build the number rather
			// than have the library parse it again (five times faster).
			n = &phonenumbers.PhoneNumber{
				CountryCode:    proto.Int32(int32(phonenumbers.GetCountryCodeForRegion(region))),
				NationalNumber: proto.Uint64(uint64(atoi(d[1:]))),
			}
			if !phonenumbers.IsValidNumberForRegion(n, region) {
				continue
			}
		}
		return Identifier{
			Kind:    KindPhone,
			Value:   phonenumbers.Format(n, phonenumbers.E164),
			Display: phonenumbers.Format(n, phonenumbers.INTERNATIONAL),
		}, true
	}
	return Identifier{}, false
}

func normalizePhone(raw string) (Identifier, string) {
	raw = strings.TrimSpace(raw)
	plus := strings.HasPrefix(raw, "+")
	d, ok := digitsOf(strings.TrimPrefix(raw, "+"), numberSeparators)
	if !ok || d == "" {
		return Identifier{}, "A phone number may only hold digits, spaces, dots, dashes and a leading +."
	}
	id, ok := phone(plus, d)
	if !ok {
		return Identifier{}, "This is not a valid phone number; write a French number with its 10 digits (06 12 34 56 78) or a foreign number with + and its country code."
	}
	return id, ""
}

// imei returns the IMEI for 14 digits (no check digit), 15 digits, or an
// IMEISV (16 digits: 14 + a software version, which is not part of the
// device's identity).
func imei(d string) Identifier {
	if len(d) != 15 {
		d = d[:14] + string(rune('0'+luhnDigit(d[:14])))
	}
	return Identifier{Kind: KindIMEI, Value: d, Display: d[:2] + " " + d[2:8] + " " + d[8:14] + " " + d[14:]}
}

func normalizeIMEI(raw string) (Identifier, string) {
	d, ok := digitsOf(strings.TrimSpace(raw), numberSeparators)
	switch {
	case !ok:
		return Identifier{}, "An IMEI may only hold digits (dial *#06# on the phone to read it)."
	case len(d) != 14 && len(d) != 15 && len(d) != 16:
		return Identifier{}, "An IMEI has 15 digits (dial *#06# on the phone to read it)."
	case len(d) == 15 && !luhn(d):
		return Identifier{}, "This IMEI's last digit does not match the others: one digit is probably mistyped."
	}
	return imei(d), ""
}

// card returns the identifier of a card number. SECURITY: the number is
// never kept: Value is HMAC-SHA256(key, digits) and Display shows only the
// first six and last four digits, as PCI DSS permits.
func (x *Extractor) card(d string) (Identifier, bool) {
	if len(x.cardKey) == 0 {
		return Identifier{}, false
	}
	m := hmac.New(sha256.New, x.cardKey)
	m.Write([]byte(d))
	return Identifier{
		Kind:    KindCard,
		Value:   hex.EncodeToString(m.Sum(nil)),
		Display: d[:6] + strings.Repeat("*", len(d)-10) + d[len(d)-4:],
	}, true
}

func (x *Extractor) normalizeCard(raw string) (Identifier, string) {
	d, ok := digitsOf(strings.TrimSpace(raw), numberSeparators)
	switch {
	case !ok:
		return Identifier{}, "A card number may only hold digits."
	case len(d) < 13 || len(d) > 19:
		return Identifier{}, "A card number has 13 to 19 digits."
	case !luhn(d):
		return Identifier{}, "This card number's last digit does not match the others: one digit is probably mistyped."
	case !isCard(d):
		return Identifier{}, "This number does not belong to a known card network."
	case len(x.cardKey) == 0:
		return Identifier{}, "Card numbers cannot be recorded here: the card key is not configured."
	}
	id, _ := x.card(d)
	return id, ""
}

// isCard reports whether d is a Luhn-valid number of a known card network
// (issuer identification number and length).
func isCard(d string) bool {
	n := len(d)
	if n < 13 || n > 19 || !luhn(d) {
		return false
	}
	p2, p3, p4 := atoi(d[:2]), atoi(d[:3]), atoi(d[:4])
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p4 >= 2200 && p4 <= 2204, p4 >= 3528 && p4 <= 3589: // Mir, JCB
		return n >= 16
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39, p4 == 3095: // Diners
		return n >= 14
	case p2 == 50, p2 >= 56 && p2 <= 69: // Maestro, Discover, UnionPay, RuPay
		return n >= 13
	}
	return false
}

// luhn reports whether the digits d end with a valid Luhn check digit.
func luhn(d string) bool {
	return len(d) > 1 && int(d[len(d)-1]-'0') == luhnDigit(d[:len(d)-1])
}

// luhnDigit returns the Luhn check digit to append to the digits d.
func luhnDigit(d string) int {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if (len(d)-1-i)%2 == 0 {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return (10 - sum%10) % 10
}

// digitsOf returns the digits of s, allowing the separators seps between
// them; ok is false if s holds anything else.
func digitsOf(s, seps string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(seps, r):
		default:
			return "", false
		}
	}
	return b.String(), true
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }
