package ident_test

import (
	"strings"
	"testing"

	"vigie"
	"vigie/internal/casefile/ident"
)

func TestTestHelpersAgreeWithPublishedExamples(t *testing.T) {
	// Published examples, so that the helpers are checked against the world
	// and not only against the package.
	for _, tc := range []struct{ got, want string }{
		{withIBANCheck(t, "FR", "30006000011234567890189"), "FR7630006000011234567890189"},
		{withIBANCheck(t, "DE", "370400440532013000"), "DE89370400440532013000"},
		{withIBANCheck(t, "GB", "WEST12345698765432"), "GB82WEST12345698765432"},
		{withIBANCheck(t, "FR", "20041010050500013M02606"), "FR1420041010050500013M02606"},
		{withLuhn(t, "411111111111111"), "4111111111111111"},
		{withLuhn(t, "555555555555444"), "5555555555554444"},
		{withLuhn(t, "37828224631000"), "378282246310005"},
		{withLuhn(t, "49927398716"[:10]), "49927398716"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	x := newExtractor(t)
	imei := withLuhn(t, "35209900176148") // 352099001761481
	tests := []struct {
		kind             ident.Kind
		raw              string
		value, display   string // value "" with display "" means: only check the error
		wantErrSubstring string
	}{
		// Phones.
		{ident.KindPhone, "06 12 34 56 78", "+33612345678", "+33 6 12 34 56 78", ""},
		{ident.KindPhone, "06.12.34.56.78", "+33612345678", "", ""},
		{ident.KindPhone, "0612345678", "+33612345678", "", ""},
		{ident.KindPhone, "+33 6 12 34 56 78", "+33612345678", "", ""},
		{ident.KindPhone, "+33 (0)6 12 34 56 78", "+33612345678", "", ""},
		{ident.KindPhone, "0033 6 12 34 56 78", "+33612345678", "", ""},
		{ident.KindPhone, "01 42 68 53 00", "+33142685300", "", ""},
		{ident.KindPhone, "0692 12 34 56", "+262692123456", "", ""}, // La Réunion mobile
		{ident.KindPhone, "0262 20 12 34", "+262262201234", "", ""}, // La Réunion fixed
		{ident.KindPhone, "0590 12 34 56", "+590590123456", "", ""}, // Guadeloupe
		{ident.KindPhone, "+44 7911 123456", "+447911123456", "+44 7911 123456", ""},
		{ident.KindPhone, "+32 470 12 34 56", "+32470123456", "", ""},
		{ident.KindPhone, "12/03/2024", "", "", "not a valid phone number"},
		{ident.KindPhone, "75001", "", "", "not a valid phone number"},
		{ident.KindPhone, "732 829 320 00074", "", "", "not a valid phone number"}, // SIRET
		{ident.KindPhone, "06 12 34 56", "", "", "not a valid phone number"},
		{ident.KindPhone, "7911 123456", "", "", "not a valid phone number"}, // foreign without +
		{ident.KindPhone, "06 12 34 56 7A", "", "", "only hold digits"},
		// E-mails.
		{ident.KindEmail, "  Jean.Dupont@Example.FR ", "jean.dupont@example.fr", "jean.dupont@example.fr", ""},
		{ident.KindEmail, "mailto:contact@pâtisserie.fr", "contact@xn--ptisserie-b2a.fr", "contact@pâtisserie.fr [xn--ptisserie-b2a.fr]", ""},
		{ident.KindEmail, "jean@@example.fr", "", "", "name@domain.fr"},
		{ident.KindEmail, "jean..dupont@example.fr", "", "", "before the @"},
		{ident.KindEmail, "jean@localhost", "", "", "not valid"},
		{ident.KindEmail, "jean@example.invalidtld", "", "", "known top-level domain"},
		{ident.KindEmail, "jean.example.fr", "", "", "name@domain.fr"},
		// IBANs.
		{ident.KindIBAN, "FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189", "FR76 3000 6000 0112 3456 7890 189", ""},
		{ident.KindIBAN, "fr7630006000011234567890189", "FR7630006000011234567890189", "", ""},
		{ident.KindIBAN, "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "", ""},
		{ident.KindIBAN, "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", "", ""},
		{ident.KindIBAN, group(withIBANCheck(t, "BE", "539007547034"), 4, " "), withIBANCheck(t, "BE", "539007547034"), "", ""},
		{ident.KindIBAN, withIBANCheck(t, "NL", "ABNA0417164300"), "NL91ABNA0417164300", "", ""},
		{ident.KindIBAN, withIBANCheck(t, "ES", "21000418450200051332"), withIBANCheck(t, "ES", "21000418450200051332"), "", ""},
		{ident.KindIBAN, "FR76 3000 6000 0112 3456 7890 188", "", "", "check digits do not match"},
		{ident.KindIBAN, "FR76 3000 6000 0112 3456 7890 18", "", "", "from FR has 27 characters; this one has 26"},
		{ident.KindIBAN, "ZZ76 3000 6000 0112 3456 7890 189", "", "", "not the code of a country"},
		{ident.KindIBAN, "3000 6000 0112 3456 7890 189", "", "", "starts with two letters"},
		{ident.KindIBAN, "FR76-3000-6000*0112", "", "", "only hold letters"},
		// Plates.
		{ident.KindPlate, "AB-123-CD", "AB-123-CD", "AB-123-CD", ""},
		{ident.KindPlate, "ab123cd", "AB-123-CD", "", ""},
		{ident.KindPlate, "AB 123 CD", "AB-123-CD", "", ""},
		{ident.KindPlate, "WW-123-AB", "WW-123-AB", "", ""}, // provisional
		{ident.KindPlate, "AB-123-WW", "", "", "WW is only used at the start"},
		{ident.KindPlate, "SS-123-AB", "", "", "SS"},
		{ident.KindPlate, "AB-123-SS", "", "", "SS"},
		{ident.KindPlate, "AI-123-BC", "", "", "I, O and U"},
		{ident.KindPlate, "AB-123-CU", "", "", "I, O and U"},
		{ident.KindPlate, "AO-123-BC", "", "", "I, O and U"},
		{ident.KindPlate, "AB-000-CD", "", "", "001 to 999"},
		{ident.KindPlate, "1234 AB 56", "1234 AB 56", "1234 AB 56", ""},
		{ident.KindPlate, "123 ABC 75", "123 ABC 75", "", ""},
		{ident.KindPlate, "123abc75", "123 ABC 75", "", ""},
		{ident.KindPlate, "45 AB 2A", "45 AB 2A", "", ""},
		{ident.KindPlate, "8 XY 2b", "8 XY 2B", "", ""},
		{ident.KindPlate, "789 XY 974", "789 XY 974", "", ""},
		{ident.KindPlate, "789 XY 977", "", "", "is written AB-123-CD"},
		{ident.KindPlate, "12 AB 99", "", "", "a département"},
		{ident.KindPlate, "12 AB 00", "", "", "a département"},
		{ident.KindPlate, "12 AO 75", "", "", "I and O"},
		{ident.KindPlate, "ABC-12-DE", "", "", "is written AB-123-CD"},
		// IMEIs.
		{ident.KindIMEI, imei, imei, "35 209900 176148 1", ""},
		{ident.KindIMEI, "35-209900-176148-1", imei, "", ""},
		{ident.KindIMEI, "35209900176148", imei, "", ""},   // without its check digit
		{ident.KindIMEI, "3520990017614823", imei, "", ""}, // IMEISV: software version 23
		{ident.KindIMEI, imei[:14] + "9", "", "", "last digit does not match"},
		{ident.KindIMEI, "3520990017614", "", "", "15 digits"},
		{ident.KindIMEI, "35 2099 ABC", "", "", "only hold digits"},
		// Cards: see TestCardNeverWhole for what Value must not hold.
		{ident.KindCard, "4111 1111 1111 1111", "", "411111******1111", ""},
		{ident.KindCard, "3782 822463 10005", "", "378282*****0005", ""},
		{ident.KindCard, "4111 1111 1111 1112", "", "", "last digit does not match"},
		{ident.KindCard, "4111 1111 1111", "", "", "13 to 19 digits"},
		{ident.KindCard, withLuhn(t, "999999999999999"), "", "", "known card network"},
		{ident.KindCard, "4111-1111-1111-111x", "", "", "only hold digits"},
		// URLs.
		{ident.KindURL, "HTTPS://Www.Example.COM:443/Path/?utm_source=sms&b=2&a=1&fbclid=zz&GCLID=y#haut", "https://www.example.com/Path?a=1&b=2", "", ""},
		{ident.KindURL, "http://example.com", "http://example.com/", "", ""},
		{ident.KindURL, "http://example.com:80/", "http://example.com/", "", ""},
		{ident.KindURL, "http://boutique.example.co.uk:8080/a/b/", "http://boutique.example.co.uk:8080/a/b", "", ""},
		{ident.KindURL, "https://www.banque.fr@evil.example.com/login", "https://evil.example.com/login", "", ""},
		{ident.KindURL, "https://pâtisserie.fr/commande", "https://xn--ptisserie-b2a.fr/commande", "https://pâtisserie.fr/commande [xn--ptisserie-b2a.fr]", ""},
		{ident.KindURL, "http://192.0.2.7:8443/x", "http://192.0.2.7:8443/x", "", ""},
		{ident.KindURL, "ftp://example.com/", "", "", "starts with http"},
		{ident.KindURL, "javascript:alert(1)", "", "", "starts with http"},
		{ident.KindURL, "https://exemple.zzzz/", "", "", "known top-level domain"},
		// Domains.
		{ident.KindDomain, "www.Example.COM", "example.com", "example.com", ""},
		{ident.KindDomain, "https://shop.arnaque.co.uk/pay?id=1", "arnaque.co.uk", "", ""},
		{ident.KindDomain, "faux-site.blogspot.com", "faux-site.blogspot.com", "", ""},
		{ident.KindDomain, "pаypal.com", "xn--pypal-4ve.com", "pаypal.com [xn--pypal-4ve.com]", ""}, // Cyrillic а
		{ident.KindDomain, "co.uk", "", "", "public suffix"},
		{ident.KindDomain, "jean@example.fr", "", "", "without @"},
		{ident.KindDomain, "http://192.0.2.7/", "", "", "no domain name"},
		// Kinds.
		{ident.Kind("vin"), "VF1AB000000000000", "", "", "Unknown kind"},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind)+"/"+tc.raw, func(t *testing.T) {
			got, err := x.Normalize(tc.kind, tc.raw)
			if tc.wantErrSubstring != "" {
				if err == nil {
					t.Fatalf("Normalize(%q, %q) = %+v, want an error containing %q", tc.kind, tc.raw, got, tc.wantErrSubstring)
				}
				if k := vigie.KindOf(err); k != vigie.KindInvalid {
					t.Errorf("error kind = %v, want invalid", k)
				}
				if msg := vigie.MessageOf(err); !strings.Contains(msg, tc.wantErrSubstring) {
					t.Errorf("message = %q, want it to contain %q", msg, tc.wantErrSubstring)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%q, %q): %v", tc.kind, tc.raw, err)
			}
			if got.Kind != tc.kind {
				t.Errorf("Kind = %q, want %q", got.Kind, tc.kind)
			}
			if tc.value != "" && got.Value != tc.value {
				t.Errorf("Value = %q, want %q", got.Value, tc.value)
			}
			if tc.display != "" && got.Display != tc.display {
				t.Errorf("Display = %q, want %q", got.Display, tc.display)
			}
			// The canonical form is a fixed point (a card's Value is a hash).
			if tc.kind != ident.KindCard {
				again, err := x.Normalize(tc.kind, got.Value)
				if err != nil || again.Value != got.Value {
					t.Errorf("Normalize(Value %q) = %q, %v; want the same value", got.Value, again.Value, err)
				}
			}
		})
	}
}

func TestCardNeedsAKey(t *testing.T) {
	_, err := ident.Normalize(ident.KindCard, "4111 1111 1111 1111")
	if err == nil || !strings.Contains(vigie.MessageOf(err), "card key is not configured") {
		t.Errorf("Normalize without a key: err = %v, want the key to be required", err)
	}
	if got := ident.Extract("ma carte 4111 1111 1111 1111 a été débitée"); len(got) != 0 {
		t.Errorf("Extract without a key = %+v, want nothing (not a phone either)", got)
	}
}

func TestCardValueIsKeyed(t *testing.T) {
	a := newExtractor(t)
	b := ident.New(ident.Config{CardKey: []byte("another deployment's key")})
	ida, _ := a.Normalize(ident.KindCard, "4111111111111111")
	ida2, _ := a.Normalize(ident.KindCard, "4111 1111 1111 1111")
	idb, _ := b.Normalize(ident.KindCard, "4111111111111111")
	if ida.Value != ida2.Value {
		t.Errorf("same card, same key: %q != %q, want one value so that cases link", ida.Value, ida2.Value)
	}
	if ida.Value == idb.Value {
		t.Errorf("same card, two keys: both %q, want the value to depend on the key", ida.Value)
	}
}
