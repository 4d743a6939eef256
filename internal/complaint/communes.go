package complaint

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Commune suggestions for the place of the facts: names, postal codes and
// INSEE codes of the communes Vigie serves, searched in memory (about
// 5,000 communes for the 12 pilot départements), refreshed every 10 minutes.

// CommuneHit is a suggestion.
type CommuneHit struct {
	INSEE       string `json:"insee"`
	Name        string `json:"name"`
	Dept        string `json:"dept"`
	PostalCodes string `json:"postal_codes"`
	Label       string `json:"label"` // "Bourg-en-Bresse (01053)": the value the form accepts
}

type communeEntry struct {
	hit  CommuneHit
	key  string // folded name
	post string
}

type communeIndex struct {
	mu      sync.Mutex
	entries []communeEntry
	loaded  time.Time
}

// fold lowercases and strips accents and separators: "Saint-Étienne" → "saint etienne".
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.ToLower(out)
	out = strings.Map(func(r rune) rune {
		if r == '-' || r == '\'' || r == '’' {
			return ' '
		}
		return r
	}, out)
	return strings.Join(strings.Fields(out), " ")
}

func (s *Service) communeEntries(ctx context.Context) ([]communeEntry, error) {
	s.communes.mu.Lock()
	defer s.communes.mu.Unlock()
	if s.communes.entries != nil && time.Since(s.communes.loaded) < 10*time.Minute {
		return s.communes.entries, nil
	}
	cs, err := s.cfg.Org.Communes(ctx, "", false)
	if err != nil {
		return nil, err
	}
	es := make([]communeEntry, 0, len(cs))
	for _, c := range cs {
		pc := strings.Join(c.PostalCodes, " ")
		es = append(es, communeEntry{hit: CommuneHit{INSEE: c.INSEE, Name: c.Name, Dept: c.Dept, PostalCodes: pc, Label: c.Name + " (" + c.INSEE + ")"},
			key: fold(c.Name), post: pc})
	}
	s.communes.entries, s.communes.loaded = es, time.Now()
	return es, nil
}

// SuggestCommunes returns up to limit communes matching q: a name (start of
// the name or of a word, accents ignored), a postal code or an INSEE code.
func (s *Service) SuggestCommunes(ctx context.Context, q string, limit int) ([]CommuneHit, error) {
	q = strings.TrimSpace(q)
	if len([]rune(q)) < 2 {
		return nil, nil
	}
	if len(q) > 80 {
		q = q[:80]
	}
	es, err := s.communeEntries(ctx)
	if err != nil {
		return nil, err
	}
	fq := fold(q)
	upper := strings.ToUpper(q)
	var first, rest []CommuneHit
	for _, e := range es {
		switch {
		case strings.HasPrefix(e.key, fq), strings.HasPrefix(e.hit.INSEE, upper), strings.HasPrefix(e.post, q) || strings.Contains(e.post, " "+q):
			first = append(first, e.hit)
		case strings.Contains(e.key, " "+fq):
			rest = append(rest, e.hit)
		}
		if len(first) >= limit {
			break
		}
	}
	out := append(first, rest...)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CommuneName returns the name of a commune by INSEE code ("" if unknown).
func (s *Service) CommuneName(ctx context.Context, insee string) string {
	es, err := s.communeEntries(ctx)
	if err != nil {
		return ""
	}
	for _, e := range es {
		if e.hit.INSEE == insee {
			return e.hit.Name
		}
	}
	return ""
}
