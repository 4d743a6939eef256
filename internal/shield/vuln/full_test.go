package vuln

import (
	"debug/buildinfo"
	"os"
	"runtime/debug"
	"testing"
	"time"
)

// TestFullDatabase measures LoadOSV and Check against a whole copy of the Go
// vulnerability database, which is too large to keep in testdata. It runs
// when VIGIE_TEST_VULNDB names its data/osv directory (or the module's .zip),
// on the binary named by VIGIE_TEST_VULN_BINARY, else on this test binary:
//
//	VIGIE_TEST_VULNDB=$(go env GOMODCACHE)/golang.org/x/vulndb@VERSION/data/osv \
//	VIGIE_TEST_VULN_BINARY=/tmp/vigie go test -run FullDatabase -v ./internal/shield/vuln
func TestFullDatabase(t *testing.T) {
	dir := os.Getenv("VIGIE_TEST_VULNDB")
	if dir == "" {
		t.Skip("VIGIE_TEST_VULNDB is not set")
	}
	bi, ok := debug.ReadBuildInfo()
	if bin := os.Getenv("VIGIE_TEST_VULN_BINARY"); bin != "" {
		var err error
		if bi, err = buildinfo.ReadFile(bin); err != nil {
			t.Fatal(err)
		}
	} else if !ok {
		t.Fatal("no build information")
	}
	start := time.Now()
	db := mustLoad(t, dir)
	loaded := time.Now()
	mods := Modules(bi)
	fs := db.Check(mods)
	checked := time.Now()
	if db.Len() < 1000 {
		t.Errorf("%d reports: not the whole database", db.Len())
	}
	t.Logf("%d reports (%d withdrawn) loaded in %v; %d modules of %s checked in %v: %d findings",
		db.Len(), db.Withdrawn(), loaded.Sub(start).Round(time.Millisecond), len(mods), bi.GoVersion,
		checked.Sub(loaded).Round(time.Microsecond), len(fs))
	for _, f := range fs {
		t.Logf("%s\t%s@%s\tfixed in %s\t%s", f.ID, f.Module, f.Version, f.FixedIn, f.Summary)
	}
}
