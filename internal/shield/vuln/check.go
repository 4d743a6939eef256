package vuln

import (
	"sort"
	"strings"

	"golang.org/x/mod/semver"
)

// Finding is a report whose vulnerable ranges contain the version of a
// module of the binary. It says nothing about reachability (see the package
// comment).
type Finding struct {
	ID      string   `json:"id"`      // GO-2026-6599
	Aliases []string `json:"aliases"` // CVE and GHSA identifiers
	Module  string   `json:"module"`  // module path, or "stdlib"
	Version string   `json:"version"` // as in the binary: v0.62.0, go1.26.8
	// FixedIn is the lowest version above Version that no range of the
	// report affects, in the same notation; "" when there is none yet.
	FixedIn string `json:"fixed_in,omitempty"`
	Summary string `json:"summary"`
	URL     string `json:"url,omitempty"`
	// Symbols are the vulnerable functions, "package.Symbol", or the bare
	// package path when the report names no symbol.
	Symbols []string `json:"symbols,omitempty"`
}

// Check returns the findings for mods (from Modules), sorted by module then
// report ID; at most one finding per module and report. Modules without a
// known version are skipped, as are reports about the "toolchain" module.
func (db *DB) Check(mods []Module) []Finding {
	var out []Finding
	for _, m := range mods {
		v := osvVersion(m)
		if v == "" {
			continue
		}
		for _, r := range db.byModule[m.Path] {
			if f, ok := match(r, m, v); ok {
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Module != out[j].Module {
			return out[i].Module < out[j].Module
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// osvVersion returns the version of m as OSV writes it (semver without "v"),
// or "" when it is unknown or not a semantic version.
func osvVersion(m Module) string {
	if m.Path == "stdlib" {
		return goToSemver(m.Version)
	}
	if m.Path == "toolchain" || !semver.IsValid(m.Version) {
		return ""
	}
	return strings.TrimPrefix(m.Version, "v")
}

// match reports whether r affects module m at OSV version v.
func match(r *report, m Module, v string) (Finding, bool) {
	var mine []affected
	hit := false
	for _, a := range r.Affected {
		if a.Package.Ecosystem != "Go" || a.Package.Name != m.Path {
			continue
		}
		mine = append(mine, a)
		if affects(a, v) {
			hit = true
		}
	}
	if !hit {
		return Finding{}, false
	}
	f := Finding{ID: r.ID, Aliases: r.Aliases, Module: m.Path, Version: m.Version,
		Summary: r.Summary, URL: r.DatabaseSpecific.URL}
	if fixed := fixedAbove(mine, v); fixed != "" {
		if m.Path == "stdlib" {
			f.FixedIn = "go" + semverToGo(fixed)
		} else {
			f.FixedIn = "v" + fixed
		}
	}
	for _, a := range mine {
		if !affects(a, v) {
			continue
		}
		for _, imp := range a.EcosystemSpecific.Imports {
			if len(imp.Symbols) == 0 {
				f.Symbols = append(f.Symbols, imp.Path)
			}
			for _, s := range imp.Symbols {
				f.Symbols = append(f.Symbols, imp.Path+"."+s)
			}
		}
	}
	return f, true
}

// affects applies OSV's range rule to each SEMVER range of a: walking the
// events in version order, "introduced" at or below v makes v affected,
// "fixed" at or below v (or "last_affected" below v) makes it not.
func affects(a affected, v string) bool {
	for _, rg := range a.Ranges {
		if rg.Type == "SEMVER" && inRange(rg.Events, v) {
			return true
		}
	}
	return false
}

func inRange(events []event, v string) bool {
	evs := append([]event(nil), events...)
	sort.SliceStable(evs, func(i, j int) bool {
		return compare(evs[i].version(), evs[j].version()) < 0
	})
	sv := "v" + v
	in := false
	for _, e := range evs {
		switch {
		case e.Introduced != "":
			if e.Introduced == "0" || semver.Compare("v"+e.Introduced, sv) <= 0 {
				in = true
			}
		case e.Fixed != "":
			if semver.Compare("v"+e.Fixed, sv) <= 0 {
				in = false
			}
		case e.LastAffected != "":
			if semver.Compare("v"+e.LastAffected, sv) < 0 {
				in = false
			}
		}
	}
	return in
}

func (e event) version() string { return e.Introduced + e.Fixed + e.LastAffected }

// compare orders OSV versions, "0" first.
func compare(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "0":
		return -1
	case b == "0":
		return 1
	}
	return semver.Compare("v"+a, "v"+b)
}

// fixedAbove returns the lowest "fixed" version above v that none of the
// ranges affects (a fix in one release line may leave another range open).
func fixedAbove(as []affected, v string) string {
	var cands []string
	for _, a := range as {
		for _, rg := range a.Ranges {
			for _, e := range rg.Events {
				if rg.Type == "SEMVER" && e.Fixed != "" && compare(e.Fixed, v) > 0 {
					cands = append(cands, e.Fixed)
				}
			}
		}
	}
	sort.Slice(cands, func(i, j int) bool { return compare(cands[i], cands[j]) < 0 })
	for _, c := range cands {
		still := false
		for _, a := range as {
			still = still || affects(a, c)
		}
		if !still {
			return c
		}
	}
	return ""
}

// goToSemver turns a Go version ("go1.26.8", "go1.26", "go1.27rc2", with
// perhaps " X:exp" or "-suffix" after it) into the OSV form ("1.26.8",
// "1.26.0", "1.27.0-rc.2"); "" when it is not one (a devel build).
func goToSemver(goVersion string) string {
	v, ok := strings.CutPrefix(goVersion, "go")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(v, " -+"); i >= 0 {
		v = v[:i]
	}
	pre := ""
	for _, tag := range []string{"rc", "beta", "alpha"} {
		if i := strings.Index(v, tag); i >= 0 {
			pre = "-" + tag + "." + v[i+len(tag):]
			v = v[:i]
			break
		}
	}
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	out := v + pre
	if !semver.IsValid("v"+out) || semver.Canonical("v"+out) != "v"+out {
		return ""
	}
	return out
}

// semverToGo is the inverse of goToSemver for display: "1.27.0-rc.2" is
// "1.27rc2"; releases are unchanged.
func semverToGo(v string) string {
	base, pre, ok := strings.Cut(v, "-")
	if !ok {
		return v
	}
	tag, n, _ := strings.Cut(pre, ".")
	if tag != "rc" && tag != "beta" && tag != "alpha" {
		return v
	}
	return strings.TrimSuffix(base, ".0") + tag + n
}
