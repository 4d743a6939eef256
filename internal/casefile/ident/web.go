package ident

import (
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// E-mail addresses, URLs and domains.

const label = `[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?`

var (
	emailText  = regexp.MustCompile(`[\p{L}\p{N}._%+-]+@(?:` + label + `\.)+` + label)
	urlText    = regexp.MustCompile(`^(?i)https?://[^\s<>"'\x60«»{}|\\^]+`)
	domainText = regexp.MustCompile(`(?:` + label + `\.)+` + label)
)

func scanEmails(text string, cands []candidate) []candidate {
	for _, m := range findAround(text, '@', emailText, isEmailRune) {
		start, end := m[0], m[1]
		// "écrivez à jean@site.fr.Merci": drop trailing labels that are not
		// a top-level domain as written in running text.
		for end > start && !textTLD(text[start:end]) {
			end = strings.LastIndexByte(text[:end], '.')
		}
		if end <= start || !bounded(text, start, end) {
			continue
		}
		if id, msg := normalizeEmail(text[start:end]); msg == "" {
			cands = append(cands, candidate{ids: []Identifier{id}, start: start, end: end, priority: prioEmail})
		}
	}
	return cands
}

// findAround returns the matches of re in the runs of letters that hold the
// byte sep (an @ for e-mails, a dot for domains). Running the expression
// only on those few short runs, rather than from every byte of the text, is
// what keeps extraction fast.
func findAround(text string, sep byte, re *regexp.Regexp, in func(rune) bool) [][2]int {
	var out [][2]int
	for from := 0; from < len(text); {
		i := strings.IndexByte(text[from:], sep)
		if i < 0 {
			break
		}
		i += from
		start, end := i, i+1
		for start > 0 {
			r, w := utf8.DecodeLastRuneInString(text[:start])
			if !in(r) {
				break
			}
			start -= w
		}
		for end < len(text) {
			r, w := utf8.DecodeRuneInString(text[end:])
			if !in(r) {
				break
			}
			end += w
		}
		for _, m := range re.FindAllStringIndex(text[start:end], -1) {
			out = append(out, [2]int{start + m[0], start + m[1]})
		}
		from = end
	}
	return out
}

func isEmailRune(r rune) bool { return r == '@' || isLocalRune(r) }
func isDomainRune(r rune) bool {
	return r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// textTLD reports whether s ends with a top-level domain as people write one
// in running text: a TLD of the ICANN list, not capitalised ("arrivé.Il"
// starts a sentence; it is not Israel).
func textTLD(s string) bool {
	i := strings.LastIndexAny(s, ".@")
	if i < 0 {
		return false
	}
	tld := s[i+1:]
	if tld == "" || (tld != strings.ToLower(tld) && tld != strings.ToUpper(tld)) {
		return false
	}
	ascii, err := idna.Lookup.ToASCII(tld)
	if err != nil || ascii == "" {
		return false
	}
	_, icann := publicsuffix.PublicSuffix(ascii)
	return icann
}

func normalizeEmail(raw string) (Identifier, string) {
	s := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(raw), "mailto:")))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return Identifier{}, "An e-mail address is written name@domain.fr."
	}
	if len(local) > 64 || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") ||
		strings.ContainsFunc(local, func(r rune) bool { return !isLocalRune(r) }) {
		return Identifier{}, "The part of this e-mail address before the @ is not valid."
	}
	ascii, uni, msg := host(domain)
	if msg != "" {
		return Identifier{}, msg
	}
	return Identifier{Kind: KindEmail, Value: local + "@" + ascii, Display: local + "@" + displayHost(ascii, uni)}, ""
}

func isLocalRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._%+-", r)
}

// host checks a domain name and returns its ASCII (punycode) and Unicode
// forms, lower case, without a trailing dot.
func host(name string) (ascii, uni, msg string) {
	name = strings.TrimSuffix(name, ".")
	a, err := idna.Lookup.ToASCII(name)
	if err != nil || a == "" || len(a) > 253 || !strings.Contains(a, ".") {
		return "", "", "This domain name is not valid."
	}
	if _, icann := publicsuffix.PublicSuffix(a[strings.LastIndexByte(a, '.')+1:]); !icann {
		return "", "", "This domain name does not end with a known top-level domain (.fr, .com …)."
	}
	u, err := idna.Display.ToUnicode(a)
	if err != nil {
		u = a
	}
	return a, u, ""
}

// displayHost shows a host to an agent. SECURITY: an internationalised name
// is shown in both forms, "pаypal.com [xn--pypal-4ve.com]", so that a
// look-alike of a known site (a homograph) cannot pass for it.
func displayHost(ascii, uni string) string {
	if ascii == uni {
		return ascii
	}
	return uni + " [" + ascii + "]"
}

func scanURLs(text string, cands []candidate) []candidate {
	for from := 0; ; {
		i := strings.Index(text[from:], "://")
		if i < 0 {
			break
		}
		i += from
		from = i + 3
		start, end := -1, 0
		for _, s := range []int{i - 5, i - 4} { // "https", "http"
			if s >= 0 {
				if m := urlText.FindStringIndex(text[s:]); m != nil {
					start, end = s, s+trimURL(text[s:s+m[1]])
					break
				}
			}
		}
		if start < 0 {
			continue
		}
		from = max(from, end)
		if r, _ := utf8.DecodeLastRuneInString(text[:start]); start > 0 && isWordRune(r) {
			continue
		}
		if ids, msg := urlIdentifiers(text[start:end]); msg == "" {
			cands = append(cands, candidate{ids: ids, start: start, end: end, priority: prioURL})
		}
	}
	return cands
}

// trimURL returns the length of s without the punctuation that ends the
// sentence around it: "voir https://site.fr/a)." keeps "https://site.fr/a".
func trimURL(s string) int {
	for s != "" {
		r, w := utf8.DecodeLastRuneInString(s)
		switch {
		case strings.ContainsRune(".,;:!?'’", r):
		case r == ')' && strings.Count(s, "(") < strings.Count(s, ")"):
		case r == ']' && strings.Count(s, "[") < strings.Count(s, "]"):
		default:
			return len(s)
		}
		s = s[:len(s)-w]
	}
	return 0
}

// trackingParam reports whether a query parameter only tracks the visitor:
// it is dropped so that the same page shared twice links.
func trackingParam(key string) bool {
	key = strings.ToLower(key)
	return strings.HasPrefix(key, "utm_") || slices.Contains([]string{
		"fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
	}, key)
}

// urlIdentifiers returns the canonical URL and, when its host has one, its
// registrable domain.
func urlIdentifiers(raw string) ([]Identifier, string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, "A web address starts with http:// or https:// and a site name."
	}
	// SECURITY: the user part ("https://www.banque.fr@evil.example/") is
	// dropped: it may hold a password, and it is the classic disguise of a
	// phishing link; the host that is really visited is what links cases.
	name, port := u.Hostname(), u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	var ascii, uni string
	if ip := net.ParseIP(name); ip != nil {
		ascii, uni = ip.String(), ip.String()
	} else {
		var msg string
		if ascii, uni, msg = host(name); msg != "" {
			return nil, msg
		}
	}
	hostport := func(h string) string {
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		if port != "" {
			h += ":" + port
		}
		return h
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	} else if len(path) > 1 {
		path = strings.TrimRight(path, "/")
		if path == "" {
			path = "/"
		}
	}
	var params []string
	for p := range strings.SplitSeq(u.RawQuery, "&") {
		key, _, _ := strings.Cut(p, "=")
		if p != "" && !trackingParam(key) {
			params = append(params, p)
		}
	}
	slices.Sort(params)
	rest := path
	if len(params) > 0 {
		rest += "?" + strings.Join(params, "&")
	}
	ids := []Identifier{{
		Kind:    KindURL,
		Value:   u.Scheme + "://" + hostport(ascii) + rest,
		Display: u.Scheme + "://" + hostport(uni) + rest,
	}}
	if ascii != uni {
		ids[0].Display += " [" + ascii + "]"
	}
	if d, ok := registrable(ascii); ok {
		ids = append(ids, d)
	}
	return ids, ""
}

// registrable returns the registrable domain of an ASCII host (eTLD+1, with
// the private suffixes of the list: two blogs on blogspot.com are two
// domains, two pages of the same scam site are one).
func registrable(ascii string) (Identifier, bool) {
	if net.ParseIP(ascii) != nil {
		return Identifier{}, false
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(ascii)
	if err != nil {
		return Identifier{}, false
	}
	uni, err := idna.Display.ToUnicode(d)
	if err != nil {
		uni = d
	}
	return Identifier{Kind: KindDomain, Value: d, Display: displayHost(d, uni)}, true
}

func normalizeURL(raw string) (Identifier, string) {
	ids, msg := urlIdentifiers(raw)
	if msg != "" {
		return Identifier{}, msg
	}
	return ids[0], ""
}

// normalizeDomain accepts a domain name or a web address and returns its
// registrable domain.
func normalizeDomain(raw string) (Identifier, string) {
	s := strings.TrimSpace(raw)
	if strings.Contains(s, "://") {
		ids, msg := urlIdentifiers(s)
		if msg != "" {
			return Identifier{}, msg
		}
		if len(ids) < 2 {
			return Identifier{}, "This web address has no domain name."
		}
		return ids[1], ""
	}
	if strings.ContainsAny(s, "@/:?# ") {
		return Identifier{}, "A domain name is written site.fr, without @, / or spaces."
	}
	ascii, _, msg := host(s)
	if msg != "" {
		return Identifier{}, msg
	}
	d, ok := registrable(ascii)
	if !ok {
		return Identifier{}, "This is a public suffix (like .fr or .co.uk), not a site's domain."
	}
	return d, ""
}

// fileTLDs are top-level domains that are also common file extensions: a
// bare "photos.zip" in a narrative is a file, not a site.
var fileTLDs = []string{"zip", "mov"}

// scanDomains finds bare domain names ("sur leboncoin.fr"). Those inside
// e-mail addresses and links are found by their own scanners, which win.
func scanDomains(text string, cands []candidate) []candidate {
	for _, m := range findAround(text, '.', domainText, isDomainRune) {
		start, end := m[0], m[1]
		for end > start && !textTLD(text[start:end]) {
			end = strings.LastIndexByte(text[:end], '.')
		}
		if end <= start || !bounded(text, start, end) || slices.Contains(fileTLDs, text[strings.LastIndexByte(text[:end], '.')+1:end]) {
			continue
		}
		if r, _ := utf8.DecodeLastRuneInString(text[:start]); strings.ContainsRune("@.-/", r) {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(text[end:]); strings.ContainsRune("@-", r) {
			continue
		}
		if id, msg := normalizeDomain(text[start:end]); msg == "" {
			cands = append(cands, candidate{ids: []Identifier{id}, start: start, end: end, priority: prioDomain})
		}
	}
	return cands
}
