package shield

import (
	"io/fs"
	"testing"
	"time"

	"vigie/internal/web"
)

func TestTemplatesTranslated(t *testing.T) {
	sub, _ := fs.Sub(templates, "templates")
	missing, err := web.Untranslated(sub)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Errorf("no French translation: %s", m)
	}
}

func TestVulnWatch(t *testing.T) {
	if NewVulnWatch("").Summary() != nil || NewVulnWatch("/nonexistent/osv").Summary() != nil {
		t.Fatal("no database: no summary")
	}
	w := NewVulnWatch("vuln/testdata/osv")
	deadline := time.Now().Add(10 * time.Second)
	var s *VulnSummary
	for s = w.Summary(); s == nil; s = w.Summary() {
		if time.Now().After(deadline) {
			t.Fatal("the check did not finish in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s.Err != "" || s.Reports == 0 {
		t.Fatalf("summary: %+v", s)
	}
}
