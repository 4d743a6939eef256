package ident

import (
	"cmp"
	"slices"

	"vigie"
)

// Kind is the kind of an identifier. Its string form is stable: it is stored
// next to the value in the link tables, so never renumber or rename a kind.
type Kind string

const (
	KindPhone  Kind = "phone"  // E.164, "+33612345678"
	KindEmail  Kind = "email"  // lower case, ASCII (punycode) domain
	KindIBAN   Kind = "iban"   // compact upper case, checksum verified
	KindPlate  Kind = "plate"  // SIV "AB-123-CD" or FNI "1234 AB 56"
	KindIMEI   Kind = "imei"   // 15 digits, Luhn verified
	KindCard   Kind = "card"   // keyed hash; the number itself is never kept
	KindURL    Kind = "url"    // canonical http(s) URL
	KindDomain Kind = "domain" // registrable domain (eTLD+1), ASCII
)

// Kinds lists every kind, in the order a form would show them.
var Kinds = []Kind{KindPhone, KindEmail, KindIBAN, KindPlate, KindIMEI, KindCard, KindURL, KindDomain}

// Identifier is one identifier found in a text or typed in a field.
type Identifier struct {
	Kind Kind
	// Value is the canonical form: two cases that carry the same Value are
	// linked. For a card it is a keyed hash, never the number.
	Value string
	// Display is what an agent sees. For a card it is masked.
	Display string
	// Start and End are byte offsets of the identifier in the text given to
	// Extract (text[Start:End]); both are 0 for Normalize.
	Start, End int
}

// Config configures an Extractor.
type Config struct {
	// CardKey keys the HMAC-SHA256 that turns a card number into its Value.
	// SECURITY: it is a secret of the deployment, like a database password;
	// whoever holds it can test guesses of card numbers against stored
	// values. Changing it unlinks every card seen before. With an empty key
	// card numbers are neither extracted nor normalised.
	CardKey []byte
}

// Extractor finds and normalises identifiers. It is safe for concurrent use.
type Extractor struct {
	cardKey []byte
}

// New returns an Extractor for cfg.
func New(cfg Config) *Extractor {
	return &Extractor{cardKey: slices.Clone(cfg.CardKey)}
}

const opNormalize = "ident.Normalize"

// Normalize checks raw as an identifier of the given kind, as typed in a form
// field, and returns its canonical form. A wrong value gets a KindInvalid
// error whose message says what is wrong, fit to show next to the field.
func (x *Extractor) Normalize(kind Kind, raw string) (Identifier, error) {
	var (
		id  Identifier
		msg string
	)
	switch kind {
	case KindPhone:
		id, msg = normalizePhone(raw)
	case KindEmail:
		id, msg = normalizeEmail(raw)
	case KindIBAN:
		id, msg = normalizeIBAN(raw)
	case KindPlate:
		id, msg = normalizePlate(raw)
	case KindIMEI:
		id, msg = normalizeIMEI(raw)
	case KindCard:
		id, msg = x.normalizeCard(raw)
	case KindURL:
		id, msg = normalizeURL(raw)
	case KindDomain:
		id, msg = normalizeDomain(raw)
	default:
		return Identifier{}, vigie.Invalidf(opNormalize, "Unknown kind of identifier %q.", string(kind))
	}
	if msg != "" {
		return Identifier{}, vigie.Invalidf(opNormalize, "%s", msg)
	}
	return id, nil
}

// candidate is an identifier found by a scanner, with the priority that
// settles overlaps: when two candidates share bytes, the one with the higher
// priority wins and the other is dropped whole.
type candidate struct {
	ids      []Identifier // one span, one or more identifiers (a URL and its domain)
	start    int
	end      int
	priority int
}

// Priorities, highest first. A URL holds e-mails, phones and domains in its
// text; an IBAN holds digits that look like IMEIs or cards; a card number is
// never a phone; an e-mail's domain is not a bare domain.
const (
	prioDomain = iota
	prioPlate
	prioNumber // phone, IMEI and card share one scanner and never overlap
	prioIBAN
	prioEmail
	prioURL
)

// Extract finds the identifiers in a free text: a complaint narrative, a
// pasted e-mail. They come in the order of the text; an identifier that
// appears twice is returned twice, with its two positions.
func (x *Extractor) Extract(text string) []Identifier {
	var cands []candidate
	cands = scanURLs(text, cands)
	cands = scanEmails(text, cands)
	cands = scanIBANs(text, cands)
	cands = x.scanNumbers(text, cands)
	cands = scanPlates(text, cands)
	cands = scanDomains(text, cands)

	// Keep the highest priority first, then the earliest, then the longest.
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.priority, a.priority); c != 0 {
			return c
		}
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(b.end, a.end)
	})
	var kept []candidate
	taken := make([]bool, len(text))
	for _, c := range cands {
		if slices.Contains(taken[c.start:c.end], true) {
			continue
		}
		for i := c.start; i < c.end; i++ {
			taken[i] = true
		}
		kept = append(kept, c)
	}
	slices.SortFunc(kept, func(a, b candidate) int { return cmp.Compare(a.start, b.start) })
	var out []Identifier
	for _, c := range kept {
		for _, id := range c.ids {
			id.Start, id.End = c.start, c.end
			out = append(out, id)
		}
	}
	return out
}

// defaultExtractor serves the package functions. It has no card key, so it
// never returns card numbers.
var defaultExtractor = New(Config{})

// Extract finds identifiers in text with an Extractor without a card key.
func Extract(text string) []Identifier { return defaultExtractor.Extract(text) }

// Normalize normalises raw with an Extractor without a card key.
func Normalize(kind Kind, raw string) (Identifier, error) {
	return defaultExtractor.Normalize(kind, raw)
}
