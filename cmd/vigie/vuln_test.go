package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"vigie"
	"vigie/internal/shield/vuln"
)

const testVulnDB = "../../internal/shield/vuln/testdata/osv"

func noEnv(string) string { return "" }

// osvDir writes one OSV report about module, affecting every version below
// fixed, and returns its directory.
func osvDir(t *testing.T, id, module, fixed string) string {
	t.Helper()
	dir := t.TempDir()
	report := fmt.Sprintf(`{"id":%q,"summary":"Test report\nover two lines","affected":[{"package":{"ecosystem":"Go","name":%q},
	 "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":%q}]}]}],"database_specific":{"url":"https://example.org/%s"}}`,
		id, module, fixed, id)
	if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCmdSBOM(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{nil, {"--binary", self}} {
		t.Run(strings.Join(append([]string{"sbom"}, args...), " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := cmdSBOM(context.Background(), args, &stdout, &stderr, noEnv); err != nil {
				t.Fatalf("cmdSBOM: %v", err)
			}
			var bom vuln.CycloneDX
			if err := json.Unmarshal(stdout.Bytes(), &bom); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
			}
			if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.5" || bom.Metadata.Component.Name != "vigie" {
				t.Errorf("bomFormat %q specVersion %q main %q, want CycloneDX 1.5 vigie",
					bom.BOMFormat, bom.SpecVersion, bom.Metadata.Component.Name)
			}
			var stdlib, nats bool
			for _, c := range bom.Components {
				stdlib = stdlib || c.Name == "stdlib" && strings.HasPrefix(c.PURL, "pkg:golang/stdlib@v1.")
				nats = nats || strings.HasPrefix(c.PURL, "pkg:golang/github.com/nats-io/nats-server/v2@v")
			}
			if !stdlib || !nats {
				t.Errorf("components lack stdlib (%v) or nats-server (%v)", stdlib, nats)
			}
		})
	}
}

func TestCmdSBOMErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := cmdSBOM(context.Background(), []string{"--binary", "vuln.go"}, &stdout, &stderr, noEnv)
	if k := vigie.KindOf(err); k != vigie.KindInvalid {
		t.Errorf("sbom of a source file: kind %v, want invalid (%v)", k, err)
	}
	var ue usageError
	if err := cmdSBOM(context.Background(), []string{"--nope"}, &stdout, &stderr, noEnv); !errors.As(err, &ue) {
		t.Errorf("unknown flag: %v, want a usage error", err)
	}
}

func TestCmdVuln(t *testing.T) {
	bi, _ := debug.ReadBuildInfo()
	affected := osvDir(t, "TEST-0001", "stdlib", "99.0.0")
	clean := osvDir(t, "TEST-0002", "stdlib", "1.0.0")
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		kind     vigie.Kind // KindOther: no error
		usage    bool
		contains []string
	}{
		{"affected", []string{"--db", affected}, nil, vigie.KindConflict, false,
			[]string{"ID", "FIXED IN", "TEST-0001", "stdlib", bi.GoVersion, "go99.0.0", "Test report over two lines", "not prove"}},
		{"database from the environment", nil, map[string]string{"VIGIE_VULN_DB": affected}, vigie.KindConflict, false,
			[]string{"TEST-0001"}},
		{"clean", []string{"--db", clean}, nil, vigie.KindOther, false,
			[]string{"checked against 1 reports", "not prove"}},
		{"no database", nil, nil, 0, true, nil},
		{"missing database", []string{"--db", filepath.Join(t.TempDir(), "none")}, nil, vigie.KindNotFound, false, nil},
		{"not a Go binary", []string{"--db", clean, "--binary", "vuln.go"}, nil, vigie.KindInvalid, false, nil},
		{"stray argument", []string{"--db", clean, "now"}, nil, 0, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			err := cmdVuln(context.Background(), tt.args, &stdout, &stderr, getenv)
			var ue usageError
			switch {
			case tt.usage:
				if !errors.As(err, &ue) {
					t.Fatalf("error %v, want a usage error", err)
				}
			case tt.kind == vigie.KindOther && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.kind != vigie.KindOther && vigie.KindOf(err) != tt.kind:
				t.Fatalf("error %v (kind %v), want kind %v", err, vigie.KindOf(err), tt.kind)
			}
			for _, s := range tt.contains {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, stdout.String())
				}
			}
		})
	}
}

// TestCmdVulnRealReports runs the command on this test binary and the
// reports copied from the Go vulnerability database; it must agree with
// the package, and say how many findings in its error.
func TestCmdVulnRealReports(t *testing.T) {
	bi, _ := debug.ReadBuildInfo()
	db, err := vuln.LoadOSV(testVulnDB)
	if err != nil {
		t.Fatal(err)
	}
	want := db.Check(vuln.Modules(bi))

	var stdout, stderr bytes.Buffer
	err = cmdVuln(context.Background(), []string{"--db", testVulnDB, "--json"}, &stdout, &stderr, noEnv)
	if len(want) == 0 && err != nil {
		t.Fatalf("no findings expected, got error %v", err)
	}
	if len(want) > 0 {
		if vigie.KindOf(err) != vigie.KindConflict || !strings.HasPrefix(vigie.MessageOf(err), fmt.Sprintf("%d known vulnerabilities", len(want))) {
			t.Fatalf("error %v, want conflict with %d known vulnerabilities", err, len(want))
		}
	}
	var out struct {
		Go       string         `json:"go"`
		Reports  int            `json:"reports"`
		Scope    string         `json:"scope"`
		Findings []vuln.Finding `json:"findings"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout.String())
	}
	if out.Go != bi.GoVersion || out.Reports != db.Len() || out.Scope == "" || len(out.Findings) != len(want) {
		t.Errorf("go %q reports %d scope %q findings %d; want %q %d, a scope, %d",
			out.Go, out.Reports, out.Scope, len(out.Findings), bi.GoVersion, db.Len(), len(want))
	}
	for i := range min(len(out.Findings), len(want)) {
		if out.Findings[i].ID != want[i].ID || out.Findings[i].FixedIn != want[i].FixedIn {
			t.Errorf("finding %d = %s fixed in %s, want %s fixed in %s", i, out.Findings[i].ID, out.Findings[i].FixedIn, want[i].ID, want[i].FixedIn)
		}
	}
	t.Logf("%s: %d findings in the test reports", bi.GoVersion, len(want))
}
