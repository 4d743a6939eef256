package ident_test

import (
	"math/big"
	"strconv"
	"strings"
	"testing"

	"vigie/internal/casefile/ident"
)

// testKey is the card key of the tests; it is not a secret.
var testKey = []byte("vigie test card key, 32 bytes!!!")

func newExtractor(t testing.TB) *ident.Extractor {
	t.Helper()
	return ident.New(ident.Config{CardKey: testKey})
}

// withLuhn appends the Luhn check digit to digits. It is written apart from
// the package's own code (doubling from the right, by strings) so that a
// shared mistake cannot make both agree.
func withLuhn(t testing.TB, digits string) string {
	t.Helper()
	digits = strings.NewReplacer(" ", "", "-", "").Replace(digits)
	for check := 0; check <= 9; check++ {
		s := digits + strconv.Itoa(check)
		sum := 0
		for i := range s {
			n := int(s[len(s)-1-i] - '0')
			if i%2 == 1 {
				n = n * 2
				n = n/10 + n%10
			}
			sum += n
		}
		if sum%10 == 0 {
			return s
		}
	}
	t.Fatalf("withLuhn(%q): no check digit", digits)
	return ""
}

// withIBANCheck returns the IBAN for country and bban with its check digits
// computed with math/big (ISO 13616: 98 - (bban country "00" mod 97)).
func withIBANCheck(t testing.TB, country, bban string) string {
	t.Helper()
	var num strings.Builder
	for _, c := range bban + country + "00" {
		if c >= 'A' && c <= 'Z' {
			num.WriteString(strconv.Itoa(int(c-'A') + 10))
		} else {
			num.WriteRune(c)
		}
	}
	n, ok := new(big.Int).SetString(num.String(), 10)
	if !ok {
		t.Fatalf("withIBANCheck(%q, %q): not a number", country, bban)
	}
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return country + strconv.Itoa(int(check/10)) + strconv.Itoa(int(check%10)) + bban
}

// group writes s in groups of n separated by sep, as people type numbers.
func group(s string, n int, sep string) string {
	var parts []string
	for len(s) > n {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(append(parts, s), sep)
}

// found is what a test expects of one identifier.
type found struct {
	kind  ident.Kind
	value string
}

func summary(ids []ident.Identifier) []found {
	var out []found
	for _, id := range ids {
		out = append(out, found{id.Kind, id.Value})
	}
	return out
}
