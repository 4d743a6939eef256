package auth

import (
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigie"
	"vigie/internal/web"
)

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("correct horse battery", fastArgon)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not a PHC argon2id string", h)
	}
	tests := []struct {
		name, password, hash string
		ok, rehash           bool
	}{
		{"right", "correct horse battery", h, true, true},
		{"wrong", "correct horse batterY", h, false, false},
		{"empty hash", "x", "", false, false},
		{"garbage", "x", "$argon2id$v=19$m=64,t=1,p=1$$", false, false},
		{"huge memory refused", "x", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", false, false},
		{"bcrypt", "x", "$2a$10$abcdefghijklmnopqrstuv", false, false},
	}
	for _, tt := range tests {
		ok, rehash := verifyPassword(tt.password, tt.hash, DefaultArgon2)
		if ok != tt.ok || rehash != tt.rehash {
			t.Errorf("%s: ok, rehash = %v, %v; want %v, %v", tt.name, ok, rehash, tt.ok, tt.rehash)
		}
	}
	if ok, rehash := verifyPassword("correct horse battery", h, fastArgon); !ok || rehash {
		t.Errorf("same parameters: ok=%v rehash=%v, want true false", ok, rehash)
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		login, pw string
		ok        bool
	}{
		{"dupont", "short", false},
		{"dupont", "elevenchars", false},
		{"dupont", "twelve chars", true},
		{"dupont", "my dupont password", false},
		{"dupont", "DUPONT-DUPONT", false},
		{"abc", "abc is fine here", true},
		{"abcdefghijkl", "abcdefghijkl", false},
		{"x", "Azerty123456", false},
		{"x", "motdepasse123", false},
		{"x", "correct horse battery staple", true},
		{"x", strings.Repeat("é", 12), true},
		{"x", strings.Repeat("a", 257), false},
	}
	for _, tt := range tests {
		err := CheckPassword(tt.login, tt.pw)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%q, %q) = %v, want ok=%v", tt.login, tt.pw, err, tt.ok)
		}
		if err != nil && vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("CheckPassword(%q): kind %v, want invalid", tt.pw, vigie.KindOf(err))
		}
	}
}

func TestMatchTOTP(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC)
	code := func(at time.Time) string {
		c, err := totpCode(demoSecret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	step := now.Unix() / 30
	tests := []struct {
		name string
		code string
		want int64
	}{
		{"current", code(now), step},
		{"previous step", code(now.Add(-30 * time.Second)), step - 1},
		{"next step", code(now.Add(30 * time.Second)), step + 1},
		{"two steps old", code(now.Add(-60 * time.Second)), 0},
		{"spaces", code(now)[:3] + " " + code(now)[3:], step},
		{"short", "12345", 0},
		{"letters", "abcdef", 0},
	}
	for _, tt := range tests {
		if got := matchTOTP(demoSecret, tt.code, now); got != tt.want {
			t.Errorf("%s: counter %d, want %d", tt.name, got, tt.want)
		}
	}
}

func totpCode(secret string, at time.Time) (string, error) {
	return totpGenerate(secret, at)
}

func FuzzParseLoginForm(f *testing.F) {
	f.Add("login=dupont&password=correct+horse&next=%2Faccount")
	f.Add("login=&password=")
	f.Add("login=a&password=b&next=%2F%2Fevil.example")
	f.Add("next=/%5Cevil&login=x&password=y")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		lf, err := parseLoginForm(v)
		if lf.Next != "" && !web.LocalPath(lf.Next) {
			t.Errorf("next %q is not local", lf.Next)
		}
		if err == nil && (lf.Login == "" || lf.Password == "" || len(lf.Password) > 1024) {
			t.Errorf("accepted %+v", lf)
		}
		if err != nil && vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("error kind %v", vigie.KindOf(err))
		}
		if lf.Login != strings.ToLower(lf.Login) {
			t.Errorf("login %q not lower-cased", lf.Login)
		}
	})
}

func FuzzParseBearer(f *testing.F) {
	f.Add("Bearer vig_" + strings.Repeat("A", 43))
	f.Add("bearer vig_" + strings.Repeat("_", 43))
	f.Add("Bearer vig_short")
	f.Add("Basic dXNlcjpwYXNz")
	f.Add("Bearer  vig_" + strings.Repeat("z", 43) + " ")
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := parseBearer(h)
		if !ok {
			if tok != "" {
				t.Errorf("refused header returned token %q", tok)
			}
			return
		}
		if !strings.HasPrefix(tok, tokenPrefix) || len(tok) != 47 {
			t.Errorf("accepted malformed token %q", tok)
		}
		if !regexp.MustCompile(`^vig_[A-Za-z0-9_-]{43}$`).MatchString(tok) {
			t.Errorf("accepted token with odd characters %q", tok)
		}
	})
}

// TestFrenchCatalog: every text of the area's pages and every message its
// code shows to users has a French translation.
func TestFrenchCatalog(t *testing.T) {
	var texts []string
	pages, _ := filepath.Glob("templates/*.html")
	tRE := regexp.MustCompile(`\{\{t "([^"]+)"`)
	for _, p := range pages {
		b, _ := os.ReadFile(p)
		for _, m := range tRE.FindAllStringSubmatch(string(b), -1) {
			texts = append(texts, m[1])
		}
	}
	goRE := regexp.MustCompile(`(?:Invalidf\("[^"]+", |vigie\.E\(vigie\.Kind\w+, "[^"]+",\s*|web\.T\(web\.Lang\(r\), |return acc, |Label: |: )"([A-Z][^"]*[.:)a-z])"`)
	srcs, _ := filepath.Glob("*.go")
	for _, p := range srcs {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(p)
		for _, m := range goRE.FindAllStringSubmatch(string(b), -1) {
			texts = append(texts, m[1])
		}
	}
	if len(texts) < 50 {
		t.Fatalf("found only %d texts: the scan is broken", len(texts))
	}
	// The area's catalogs (its pages', sign-up's, FranceConnect's) and the
	// shared one (web.New loads it), whatever test ran before.
	if _, err := web.New(web.Config{}, slog.New(slog.DiscardHandler), nil); err != nil {
		t.Fatal(err)
	}
	for _, fsys := range []fs.FS{mustSub(t), subOf(t, signupTemplates, "templates/signup"), subOf(t, franceConnectTemplates, "templates/franceconnect")} {
		if err := web.LoadMessages(fsys); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range texts {
		if !web.HasFrench(s) {
			t.Errorf("no French for %q", s)
		}
	}
}

// BenchmarkHash measures the production cost of one password check
// (the dominant cost of a sign-in).
func BenchmarkHash(b *testing.B) {
	h, err := hashPassword("correct horse battery", DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		verifyPassword("correct horse battery", h, DefaultArgon2)
	}
}

func subOf(t testing.TB, fsys fs.FS, dir string) fs.FS {
	t.Helper()
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}
