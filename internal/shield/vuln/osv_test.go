package vuln

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vigie"
)

func TestLoadOSV(t *testing.T) {
	db := mustLoad(t, testDB)
	files, _ := filepath.Glob(filepath.Join(testDB, "*.json"))
	if db.Len() != len(files) || db.Withdrawn() != 1 {
		t.Errorf("Len, Withdrawn = %d, %d; want %d, 1", db.Len(), db.Withdrawn(), len(files))
	}
}

const goodReport = `{"id":"GO-2099-0001","summary":"s","affected":[{"package":{"ecosystem":"Go","name":"example.com/m"},
 "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]}]}`

// writeTree writes files (slash paths → content) under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadOSVLayouts(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"flat directory", map[string]string{"a.json": goodReport}},
		{"nested directories", map[string]string{"x/y/a.json": goodReport, "README.md": "not json"}},
		{"copy of golang.org/x/vulndb: only data/osv is read", map[string]string{
			"data/osv/GO-2099-0001.json": goodReport, "internal/testdata/config.json": `{"not":"osv"}`}},
		{"govulncheck file:// layout: only ID is read", map[string]string{
			"ID/GO-2099-0001.json": goodReport, "index/db.json": `{"modified":"2026-11-05T00:00:00Z"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := mustLoad(t, writeTree(t, tt.files))
			if db.Len() != 1 {
				t.Errorf("Len = %d, want 1", db.Len())
			}
			if fs := db.Check([]Module{{Path: "example.com/m", Version: "v1.2.2"}}); len(fs) != 1 || fs[0].FixedIn != "v1.2.3" {
				t.Errorf("Check = %+v, want GO-2099-0001 fixed in v1.2.3", fs)
			}
		})
	}
}

func TestLoadOSVZip(t *testing.T) {
	// The module cache's zip of golang.org/x/vulndb prefixes every path.
	p := filepath.Join(t.TempDir(), "vulndb.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, content := range map[string]string{
		"golang.org/x/vulndb@v0.0.0/data/osv/GO-2099-0001.json":   goodReport,
		"golang.org/x/vulndb@v0.0.0/cmd/worker/testdata/bad.json": `{`,
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if db := mustLoad(t, p); db.Len() != 1 {
		t.Errorf("Len = %d, want 1", db.Len())
	}
}

func TestLoadOSVErrors(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		kind     vigie.Kind
		inFile   string // the message names this file
		mentions string
	}{
		{"not JSON", map[string]string{"ok.json": goodReport, "bad.json": `{"id":`}, vigie.KindInvalid, "bad.json", "not OSV JSON"},
		{"two values", map[string]string{"bad.json": goodReport + goodReport}, vigie.KindInvalid, "bad.json", "more than one"},
		{"no id", map[string]string{"bad.json": `{"summary":"x"}`}, vigie.KindInvalid, "bad.json", `no "id"`},
		{"bad version", map[string]string{"bad.json": strings.Replace(goodReport, `"1.2.3"`, `"1.x"`, 1)},
			vigie.KindInvalid, "bad.json", `"1.x" is not a semantic version`},
		{"version with v", map[string]string{"bad.json": strings.Replace(goodReport, `"1.2.3"`, `"v1.2.3"`, 1)},
			vigie.KindInvalid, "bad.json", "not a semantic version"},
		{"event with two bounds", map[string]string{"bad.json": strings.Replace(goodReport, `{"fixed":"1.2.3"}`, `{"fixed":"1.2.3","introduced":"1.0.0"}`, 1)},
			vigie.KindInvalid, "bad.json", "exactly one"},
		{"no package name", map[string]string{"bad.json": strings.Replace(goodReport, `"name":"example.com/m"`, `"name":""`, 1)},
			vigie.KindInvalid, "bad.json", "no package name"},
		{"duplicate id", map[string]string{"a.json": goodReport, "b.json": goodReport}, vigie.KindInvalid, "b.json", "also in a.json"},
		{"too large", map[string]string{"big.json": `{"id":"X","details":"` + strings.Repeat("a", maxReportSize) + `"}`},
			vigie.KindInvalid, "big.json", "larger than"},
		{"empty", map[string]string{"README": "no reports"}, vigie.KindInvalid, "", "No OSV report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			_, err := LoadOSV(dir)
			if err == nil {
				t.Fatal("LoadOSV succeeded, want an error")
			}
			if k := vigie.KindOf(err); k != tt.kind {
				t.Errorf("kind %v, want %v (%v)", k, tt.kind, err)
			}
			msg := vigie.MessageOf(err)
			if !strings.Contains(msg, filepath.Join(dir, tt.inFile)) || !strings.Contains(msg, tt.mentions) {
				t.Errorf("message %q should name %s and say %q", msg, tt.inFile, tt.mentions)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, err := LoadOSV(filepath.Join(t.TempDir(), "nowhere"))
		if k := vigie.KindOf(err); k != vigie.KindNotFound {
			t.Errorf("kind %v, want not found (%v)", k, err)
		}
	})
	t.Run("a file that is not a zip", func(t *testing.T) {
		p := filepath.Join(writeTree(t, map[string]string{"db.json": goodReport}), "db.json")
		_, err := LoadOSV(p)
		if k := vigie.KindOf(err); k != vigie.KindInvalid {
			t.Errorf("kind %v, want invalid (%v)", k, err)
		}
	})
}

// FuzzParseReport: any input gives a report or an error, never a panic,
// and a report that parses can be matched against any version.
func FuzzParseReport(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testDB, "*.json"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "v1.26.8")
	}
	f.Add([]byte(goodReport), "v1.2.3")
	f.Add([]byte(`{"id":"X","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[]}]}]}`), "v0.0.0")
	f.Fuzz(func(t *testing.T, data []byte, version string) {
		r, err := parseReport(data)
		if err != nil {
			return
		}
		if r.ID == "" {
			t.Fatal("report without id accepted")
		}
		db := &DB{byModule: map[string][]*report{}}
		db.add(r)
		for _, a := range r.Affected {
			for _, v := range []string{version, "go1.26.8"} {
				db.Check([]Module{{Path: a.Package.Name, Version: v}})
			}
		}
	})
}
