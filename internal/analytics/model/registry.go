package model

import (
	"strconv"
	"strings"

	"vigie"
	"vigie/internal/analytics"
)

// Short names the command accepts in --models, in the order "all" runs
// them. counts-<N>w is accepted for any N from 1 to 520.
var shortNames = []string{"counts-all", "counts-52w", "counts-4w", "kde", "prospective", "etas", "vigie"}

// All returns every model with its default setting: the count baselines
// first, then KDE, prospective hotspotting, ETAS and Vigie's model.
func All() []analytics.Model {
	ms, _ := Parse("all")
	return ms
}

// Parse reads a comma-separated list of model names ("all" for every
// model). Unknown names are an error of kind Invalid that lists the known
// ones; duplicates are kept once.
func Parse(spec string) ([]analytics.Model, error) {
	const op = "model.Parse"
	var out []analytics.Model
	seen := map[string]bool{}
	add := func(m analytics.Model) {
		if !seen[m.Name()] {
			seen[m.Name()] = true
			out = append(out, m)
		}
	}
	for _, name := range strings.Split(spec, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case "":
			continue
		case "all":
			for _, n := range shortNames {
				m, _ := byName(n)
				add(m)
			}
		default:
			m, ok := byName(name)
			if !ok {
				return nil, vigie.Invalidf(op, "Unknown model %q; known: all, %s, counts-<N>w.", truncateName(name), strings.Join(shortNames, ", "))
			}
			add(m)
		}
	}
	if len(out) == 0 {
		return nil, vigie.Invalidf(op, "No model named; known: all, %s.", strings.Join(shortNames, ", "))
	}
	return out, nil
}

func byName(name string) (analytics.Model, bool) {
	switch name {
	case "counts-all":
		return analytics.Counts{}, true
	case "kde", DefaultKDE.Name():
		return DefaultKDE, true
	case "prospective", "hotspot", DefaultProspective.Name():
		return DefaultProspective, true
	case "prospective-published", PublishedProspective.Name():
		return PublishedProspective, true
	case "kde-published", "kde-52w-200m":
		return KDE{Weeks: 52, Bandwidth: 200}, true
	case "etas":
		return DefaultETAS, true
	case "vigie":
		return DefaultVigie, true
	}
	if w, ok := strings.CutPrefix(name, "counts-"); ok {
		if n, ok := strings.CutSuffix(w, "w"); ok {
			if k, err := strconv.Atoi(n); err == nil && k >= 1 && k <= 520 && strconv.Itoa(k) == n {
				return analytics.Counts{Weeks: k}, true
			}
		}
	}
	return nil, false
}

func truncateName(s string) string {
	if len(s) > 30 {
		return s[:30] + "…"
	}
	return s
}
