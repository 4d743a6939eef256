package waf

import (
	"encoding/xml"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
)

var rxArg = regexp.MustCompile(`"@rx ((?:[^"\\]|\\.)*)"`)

// crsPatterns returns every @rx pattern of CRS, as Vigie's operator
// compiles it (with Coraza's (?sm) flags).
func crsPatterns(t testing.TB) []string {
	t.Helper()
	var out []string
	files, _ := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	for _, f := range files {
		b, err := fs.ReadFile(coreruleset.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.ReplaceAll(string(b), "\\\n", ""), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			for _, m := range rxArg.FindAllStringSubmatch(line, -1) {
				p := "(?sm)" + strings.ReplaceAll(m[1], `\"`, `"`)
				if _, err := regexp.Compile(p); err == nil && !matchesBytes(p) {
					out = append(out, p)
				}
			}
		}
	}
	if len(out) < 200 {
		t.Fatalf("found %d CRS patterns", len(out))
	}
	return out
}

// probeInputs are attack payloads from CRS's own regression tests (every
// string of their YAML) and Vigie's corpora, in several cases.
func probeInputs(t testing.TB) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		for _, v := range []string{s, strings.ToUpper(s), strings.ToLower(s)} {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	for _, s := range []string{narrativeRomance, narrativePhishing, scamEmail, narrativeTechSupport, narrativeMarketplace, narrativeCommands, narrativeScript,
		"", "a", "\n", "é", "K", "ſelect", "\xff\xfe<script>", "2.2250738585072011e-308"} {
		add(s)
	}
	fs.WalkDir(crstests.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, _ := fs.ReadFile(crstests.FS, path)
		for _, line := range strings.Split(string(b), "\n") {
			if _, v, ok := strings.Cut(line, ": "); ok && len(v) > 2 {
				add(strings.Trim(strings.TrimSpace(v), `"'`))
			}
		}
		return nil
	})
	return out
}

// SECURITY: Vigie's @rx must answer exactly as Go's regexp does. For every
// CRS pattern and every probe, the automaton agrees with regexp, and the
// required strings are present whenever regexp matches.
func TestRxAgreesWithRegexp(t *testing.T) {
	patterns := crsPatterns(t)
	inputs := probeInputs(t)
	if testing.Short() {
		inputs = inputs[:min(len(inputs), 300)]
	}
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		d := newDFA(p)
		req := requiredOf(p)
		for _, in := range inputs {
			want := re.MatchString(in)
			if d != nil {
				if got, ok := d.match(in); ok && got != want {
					t.Fatalf("automaton says %v, regexp %v: pattern %.80q on %.80q", got, want, p, in)
				}
			}
			if want && req != nil && !containsAny(in, req) {
				t.Fatalf("required strings %q missing from a match: pattern %.80q on %.80q", req, p, in)
			}
		}
	}
}

func TestRequiredOf(t *testing.T) {
	cases := []struct {
		pattern string
		want    []string
	}{
		{`(?i)union\s+select`, []string{"SELECT"}},
		{`<script`, []string{"<SCRIPT"}},
		{`abc|abd`, []string{"ABC", "ABD"}},
		{`a(b|c)d`, []string{"ABD", "ACD"}},
		{`x*`, nil},
		{`(?:foo)?bar`, []string{"BAR"}},
		{`a|b*`, nil},
		{`\bjavascript:`, []string{"JAVASCRIPT:"}},
		{`[kK]elvin`, []string{"KELVIN"}},
	}
	for _, c := range cases {
		got := requiredOf("(?sm)" + c.pattern)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("requiredOf(%q) = %q, want %q", c.pattern, got, c.want)
		}
	}
	// Case folding: the Kelvin sign and the long s match K and S under (?i).
	if !containsAny("\u212Aelvin", requiredOf(`(?i)kelvin`)) || !containsAny("\u017Felect", requiredOf(`(?i)select`)) {
		t.Error("case folding orbit missed")
	}
}

func FuzzDFA(f *testing.F) {
	for _, s := range []string{"<script>alert(1)</script>", "1' OR '1'='1", "a\nb", "\xff", "é\n$"} {
		f.Add(`(?i)<script[^>]*>`, s)
		f.Add(`(?m)^\s*or\b`, s)
		f.Add(`\b(?:alert|prompt)\s*\(`, s)
	}
	f.Fuzz(func(t *testing.T, pattern, in string) {
		p := "(?sm)" + pattern
		re, err := regexp.Compile(p)
		if err != nil || len(pattern) > 200 {
			return
		}
		if d := newDFA(p); d != nil {
			if got, ok := d.match(in); ok && got != re.MatchString(in) {
				t.Fatalf("automaton %v, regexp %v for %q on %q", got, !got, p, in)
			}
		}
		if req := requiredOf(p); req != nil && re.MatchString(in) && !containsAny(in, req) {
			t.Fatalf("required %q missing for %q on %q", req, p, in)
		}
	})
}

func FuzzDecodeBase64Text(f *testing.F) {
	for _, s := range []string{"PHNjcmlwdD4=", "dGhpcyBpcyBmaW5l", "arnaque", "a b+c/d==", "____----", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := decodeBase64Text(s)
		if ok && (!utf8.ValidString(d) || len(d) == 0) {
			t.Fatalf("decodeBase64Text(%q) = %q", s, d)
		}
	})
}

func FuzzReadXML(f *testing.F) {
	for _, s := range []string{"texte", "a < b & c", `<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>`, "é\t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Any text, escaped in an element, is read back as it was.
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		_, text, err := readXML(strings.NewReader("<r>" + b.String() + "</r>"))
		want := strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
		if err != nil || !utf8.ValidString(s) || strings.ContainsRune(s, 0xFFFD) || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' }) >= 0 {
			return // xml.EscapeText replaces control characters
		}
		got := strings.Join(text, "")
		if want != "" && got != want {
			t.Fatalf("readXML(%q) text %q, want %q", s, got, want)
		}
		// Random bytes never make it panic.
		readXML(strings.NewReader(s))
	})
}

func TestXMLKeepsDeclarations(t *testing.T) {
	_, text, err := readXML(strings.NewReader(`<?xml version="1.0"?><!DOCTYPE c [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><c a="v"><n>&xxe;</n></c>`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(text, " "), "<!DOCTYPE c [<!ENTITY xxe SYSTEM") {
		t.Errorf("declarations lost: %q", text)
	}
}
