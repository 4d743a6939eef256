package vuln

import (
	"maps"
	"runtime/debug"
	"slices"
	"testing"
)

const testDB = "testdata/osv"

func mustLoad(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := LoadOSV(dir)
	if err != nil {
		t.Fatalf("LoadOSV(%s): %v", dir, err)
	}
	return db
}

// TestCheckRealReports runs Check on reports copied from the Go
// vulnerability database (golang.org/x/vulndb, November 2026).
func TestCheckRealReports(t *testing.T) {
	db := mustLoad(t, testDB)
	tests := []struct {
		name    string
		module  string
		version string
		want    map[string]string // report ID → FixedIn
	}{
		{"stdlib of Vigie's Go", "stdlib", "go1.26.8", map[string]string{
			"GO-2026-6599": "go1.26.9", "GO-2026-6610": "go1.26.9", "GO-2026-6809": "go1.26.10"}},
		{"stdlib after the fix of two", "stdlib", "go1.26.9", map[string]string{"GO-2026-6809": "go1.26.10"}},
		{"stdlib fixed", "stdlib", "go1.26.10", map[string]string{}},
		{"stdlib first 1.26 release", "stdlib", "go1.26.0", map[string]string{
			"GO-2026-4599": "go1.26.1", "GO-2026-4970": "go1.26.5",
			"GO-2026-6599": "go1.26.9", "GO-2026-6610": "go1.26.9", "GO-2026-6809": "go1.26.10"}},
		{"stdlib release candidate inside introduced 1.26.0-0", "stdlib", "go1.26rc1", map[string]string{
			"GO-2026-4599": "go1.26.1", "GO-2026-4970": "go1.26.5",
			"GO-2026-6599": "go1.26.9", "GO-2026-6610": "go1.26.9", "GO-2026-6809": "go1.26.10"}},
		{"stdlib second release line, fix is a release candidate", "stdlib", "go1.27rc1", map[string]string{
			"GO-2026-4970": "go1.27rc2", "GO-2026-6599": "go1.27.2", "GO-2026-6610": "go1.27.2", "GO-2026-6809": "go1.27.3"}},
		{"stdlib introduced boundary is affected", "stdlib", "go1.25.0", map[string]string{
			"GO-2025-3955": "go1.25.1", "GO-2026-4970": "go1.25.12", "GO-2026-6599": "go1.26.9", "GO-2026-6610": "go1.26.9", "GO-2026-6809": "go1.26.10"}},
		{"stdlib fixed boundary is not", "stdlib", "go1.25.1", map[string]string{
			"GO-2026-4970": "go1.25.12", "GO-2026-6599": "go1.26.9", "GO-2026-6610": "go1.26.9", "GO-2026-6809": "go1.26.10"}},
		{"x/net at Vigie's version", "golang.org/x/net", "v0.62.0", map[string]string{}},
		{"x/net one release before", "golang.org/x/net", "v0.61.0", map[string]string{"GO-2026-6860": "v0.62.0"}},
		{"x/net before introduced", "golang.org/x/net", "v0.49.0", map[string]string{
			"GO-2026-6610": "v0.60.0", "GO-2026-6860": "v0.62.0"}},
		{"x/net at introduced", "golang.org/x/net", "v0.50.0", map[string]string{
			"GO-2026-4559": "v0.51.0", "GO-2026-6610": "v0.60.0", "GO-2026-6860": "v0.62.0"}},
		{"x/crypto fixed by a pseudo-version", "golang.org/x/crypto", "v0.58.0", map[string]string{
			"GO-2026-5932": "v0.58.1-0.20261009181718-2f1f834330b2"}},
		{"x/crypto before both fixes", "golang.org/x/crypto", "v0.55.0", map[string]string{
			"GO-2026-5932": "v0.58.1-0.20261009181718-2f1f834330b2", "GO-2026-6354": "v0.56.0"}},
		{"nats-server first range", "github.com/nats-io/nats-server/v2", "v2.11.0", map[string]string{
			"GO-2025-3600": "v2.11.1", "GO-2026-4826": "v2.11.15"}},
		{"nats-server before both ranges", "github.com/nats-io/nats-server/v2", "v2.1.0", map[string]string{}},
		{"nats-server second range, pre-release", "github.com/nats-io/nats-server/v2", "v2.12.0-preview.1", map[string]string{"GO-2026-4826": "v2.12.6"}},
		{"nats-server Vigie's version", "github.com/nats-io/nats-server/v2", "v2.15.2", map[string]string{}},
		{"nats-server v1 path, never fixed", "github.com/nats-io/nats-server", "v1.4.1", map[string]string{"GO-2026-4826": ""}},
		{"go-jose before the fix", "github.com/go-jose/go-jose/v4", "v4.1.3", map[string]string{"GO-2026-4945": "v4.1.4"}},
		{"go-jose Vigie's version", "github.com/go-jose/go-jose/v4", "v4.1.9", map[string]string{}},
		{"withdrawn report", "github.com/gravitational/teleport", "v1.0.0", map[string]string{}},
		{"toolchain reports do not concern binaries", "toolchain", "go1.26.8", map[string]string{}},
		{"no version", "golang.org/x/net", "", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := db.Check([]Module{{Path: tt.module, Version: tt.version}})
			got := map[string]string{}
			for _, f := range fs {
				got[f.ID] = f.FixedIn
				if f.Module != tt.module || f.Version != tt.version {
					t.Errorf("%s: module %s@%s, want %s@%s", f.ID, f.Module, f.Version, tt.module, tt.version)
				}
			}
			if len(got) != len(fs) {
				t.Errorf("%d findings for %d reports: one report reported twice", len(fs), len(got))
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("findings (ID → fixed in) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckFindingFields(t *testing.T) {
	db := mustLoad(t, testDB)
	fs := db.Check([]Module{
		{Path: "stdlib", Version: "go1.26.8"},
		{Path: "golang.org/x/net", Version: "v0.59.0"},
		{Path: "github.com/go-jose/go-jose/v4", Version: "v4.1.3"},
	})
	var order []string
	for _, f := range fs {
		order = append(order, f.Module+" "+f.ID)
	}
	wantOrder := []string{
		"github.com/go-jose/go-jose/v4 GO-2026-4945",
		"golang.org/x/net GO-2026-6610", "golang.org/x/net GO-2026-6860",
		"stdlib GO-2026-6599", "stdlib GO-2026-6610", "stdlib GO-2026-6809",
	}
	if !slices.Equal(order, wantOrder) {
		t.Fatalf("findings in order %q, want %q", order, wantOrder)
	}
	f := fs[3] // stdlib GO-2026-6599
	if f.URL != "https://pkg.go.dev/vuln/GO-2026-6599" || f.Summary == "" || len(f.Aliases) == 0 {
		t.Errorf("finding lacks URL, summary or aliases: %+v", f)
	}
	if !slices.Contains(f.Symbols, "html/template.Template.Execute") {
		t.Errorf("symbols = %q, want html/template.Template.Execute among them", f.Symbols)
	}
}

// TestCheckRanges covers OSV range rules that the Go database uses rarely.
func TestCheckRanges(t *testing.T) {
	r, err := parseReport([]byte(`{"id":"TEST-1","affected":[
	 {"package":{"ecosystem":"Go","name":"example.com/m"},"ranges":[
	  {"type":"SEMVER","events":[{"introduced":"0"}]},
	  {"type":"SEMVER","events":[{"fixed":"2.1.0"},{"introduced":"2.0.0"}]}]},
	 {"package":{"ecosystem":"Go","name":"example.com/last"},"ranges":[
	  {"type":"SEMVER","events":[{"introduced":"1.0.0"},{"last_affected":"1.2.0"}]},
	  {"type":"GIT","events":[{"introduced":"abc"}]}]},
	 {"package":{"ecosystem":"PyPI","name":"example.com/m"},"ranges":[
	  {"type":"ECOSYSTEM","events":[{"introduced":"whatever"}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	db := &DB{byModule: map[string][]*report{}}
	db.add(r)
	tests := []struct {
		module, version string
		found           bool
		fixedIn         string
	}{
		// Never fixed in one range: the fix of another range does not count.
		{"example.com/m", "v1.0.0", true, ""},
		{"example.com/m", "v2.0.5", true, ""},
		{"example.com/last", "v0.9.0", false, ""},
		{"example.com/last", "v1.0.0", true, ""},
		{"example.com/last", "v1.2.0", true, ""},
		{"example.com/last", "v1.2.1", false, ""},
		{"example.com/last", "v1.1.0+incompatible", true, ""},
	}
	for _, tt := range tests {
		fs := db.Check([]Module{{Path: tt.module, Version: tt.version}})
		if found := len(fs) == 1; found != tt.found || found && fs[0].FixedIn != tt.fixedIn {
			t.Errorf("%s@%s: findings %+v, want found=%v fixed in %q", tt.module, tt.version, fs, tt.found, tt.fixedIn)
		}
	}
}

func TestGoToSemver(t *testing.T) {
	for in, want := range map[string]string{
		"go1.26.8": "1.26.8", "go1.26": "1.26.0", "go1.27rc2": "1.27.0-rc.2", "go1.21beta1": "1.21.0-beta.1",
		"go1.26.8 X:nodwarf5": "1.26.8", "go1.26.8-corp": "1.26.8",
		"devel go1.27-abcdef": "", "": "", "go": "", "go1": "", "1.26.8": "",
	} {
		if got := goToSemver(in); got != want {
			t.Errorf("goToSemver(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"1.27.0-rc.2": "1.27rc2", "1.26.10": "1.26.10", "1.27.0": "1.27.0"} {
		if got := semverToGo(in); got != want {
			t.Errorf("semverToGo(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCheckTestBinary checks this test binary, as `vigie vuln` checks the
// server: its build information, the real reports, no error.
func TestCheckTestBinary(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information in the test binary")
	}
	mods := Modules(bi)
	if i := slices.IndexFunc(mods, func(m Module) bool { return m.Path == "stdlib" }); i < 0 || mods[i].Version != bi.GoVersion {
		t.Fatalf("modules %v lack stdlib at %s", mods, bi.GoVersion)
	}
	fs := mustLoad(t, testDB).Check(mods)
	for _, f := range fs {
		if !slices.ContainsFunc(mods, func(m Module) bool { return m.Path == f.Module && m.Version == f.Version }) {
			t.Errorf("finding %s for %s@%s, which the binary does not hold", f.ID, f.Module, f.Version)
		}
	}
	t.Logf("%s: %d findings", bi.GoVersion, len(fs))
	if bi.GoVersion == "go1.26.8" {
		var ids []string
		for _, f := range fs {
			if f.Module == "stdlib" {
				ids = append(ids, f.ID)
			}
		}
		if want := []string{"GO-2026-6599", "GO-2026-6610", "GO-2026-6809"}; !slices.Equal(ids, want) {
			t.Errorf("stdlib findings %q, want %q", ids, want)
		}
	}
}
