package vuln

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testBuildInfo is the build information of a made-up vigie build with
// each kind of dependency.
func testBuildInfo() *debug.BuildInfo {
	return &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "vigie/cmd/vigie",
		Main:      debug.Module{Path: "vigie", Version: "v1.4.0"},
		Deps: []*debug.Module{
			{Path: "golang.org/x/net", Version: "v0.62.0", Sum: "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
			{Path: "github.com/nats-io/nats-server/v2", Version: "v2.15.2", Sum: "h1:yLsgt2kslgymvxvjFq1WGWck5hkat2YYfbXvQ145tzU="},
			{Path: "github.com/old/lib", Version: "v3.0.0+incompatible"},
			{Path: "example.com/orig", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.0.1", Sum: "h1:BBBB"}},
			{Path: "example.com/local", Version: "v0.1.0", Replace: &debug.Module{Path: "../local"}},
		},
		Settings: []debug.BuildSetting{
			{Key: "-ldflags", Value: "-X main.secret=do-not-copy"},
			{Key: "CGO_ENABLED", Value: "0"},
			{Key: "GOARCH", Value: "amd64"},
			{Key: "GOOS", Value: "linux"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.modified", Value: "false"},
		},
	}
}

func TestSBOMGolden(t *testing.T) {
	bom := sbomAt(testBuildInfo(), time.Date(2026, 11, 25, 10, 0, 0, 0, time.FixedZone("CET", 3600)))
	got, err := json.MarshalIndent(bom, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "sbom.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("SBOM differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

func TestSBOM(t *testing.T) {
	bom := SBOM(testBuildInfo())
	data, err := json.Marshal(bom)
	if err != nil {
		t.Fatal(err)
	}
	// Read back as plain JSON, as another tool would.
	var doc struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Metadata    struct {
			Timestamp string    `json:"timestamp"`
			Component Component `json:"component"`
		} `json:"metadata"`
		Components []Component `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("SBOM is not valid JSON: %v", err)
	}
	if doc.BOMFormat != "CycloneDX" || doc.SpecVersion != "1.5" {
		t.Errorf("bomFormat %q specVersion %q, want CycloneDX 1.5", doc.BOMFormat, doc.SpecVersion)
	}
	if ts, err := time.Parse(time.RFC3339, doc.Metadata.Timestamp); err != nil || time.Since(ts) > time.Minute {
		t.Errorf("timestamp %q is not now in RFC 3339 (%v)", doc.Metadata.Timestamp, err)
	}
	mc := doc.Metadata.Component
	if mc.Name != "vigie" || mc.Version != "v1.4.0" || mc.PURL != "pkg:golang/vigie@v1.4.0" ||
		prop(mc, "go:build:vcs.revision") != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("main component %+v", mc)
	}
	if prop(mc, "go:build:-ldflags") != "" {
		t.Error("linker flags copied into the SBOM; they may hold anything")
	}

	byName := map[string]Component{}
	for _, c := range doc.Components {
		if c.Type != "library" {
			t.Errorf("%s has type %q, want library", c.Name, c.Type)
		}
		byName[c.Name] = c
	}
	tests := []struct {
		name, version, purl, h1 string
	}{
		{"golang.org/x/net", "v0.62.0", "pkg:golang/golang.org/x/net@v0.62.0", "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{"github.com/nats-io/nats-server/v2", "v2.15.2", "pkg:golang/github.com/nats-io/nats-server/v2@v2.15.2", "h1:yLsgt2kslgymvxvjFq1WGWck5hkat2YYfbXvQ145tzU="},
		{"github.com/old/lib", "v3.0.0+incompatible", "pkg:golang/github.com/old/lib@v3.0.0%2Bincompatible", ""},
		{"example.com/fork", "v1.0.1", "pkg:golang/example.com/fork@v1.0.1", "h1:BBBB"},
		{"example.com/local", "", "pkg:golang/example.com/local", ""},
		{"stdlib", "v1.26.8", "pkg:golang/stdlib@v1.26.8", ""},
	}
	if len(doc.Components) != len(tests) {
		t.Errorf("%d components, want %d", len(doc.Components), len(tests))
	}
	for _, tt := range tests {
		c, ok := byName[tt.name]
		switch {
		case !ok:
			t.Errorf("no component %s", tt.name)
		case c.Version != tt.version || c.PURL != tt.purl || !strings.HasPrefix(c.BOMRef, tt.purl) || prop(c, "go:h1") != tt.h1:
			t.Errorf("component %+v, want version %q purl %q go:h1 %q", c, tt.version, tt.purl, tt.h1)
		}
	}
	if got := prop(byName["example.com/fork"], "go:replaces"); got != "example.com/orig@v1.0.0" {
		t.Errorf("fork go:replaces = %q", got)
	}
	if got := prop(byName["stdlib"], "go:version"); got != "go1.26.8" {
		t.Errorf("stdlib go:version = %q", got)
	}
}

func TestSBOMDevelBuild(t *testing.T) {
	bi := testBuildInfo()
	bi.Main.Version = "(devel)"
	bi.GoVersion = "devel go1.27-0123abc"
	bom := SBOM(bi)
	if c := bom.Metadata.Component; c.Version != "" || c.PURL != "pkg:golang/vigie" {
		t.Errorf("devel main component %+v, want no version", c)
	}
	for _, c := range bom.Components {
		if c.Name == "stdlib" && (c.Version != "" || prop(c, "go:version") != bi.GoVersion) {
			t.Errorf("devel stdlib %+v, want no version and go:version %q", c, bi.GoVersion)
		}
	}
}

func prop(c Component, name string) string {
	for _, p := range c.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}
