package waf

import (
	"io/fs"
	"testing"

	"vigie/internal/web"
)

func TestTemplatesTranslated(t *testing.T) {
	sub, _ := fs.Sub(templates, "templates")
	missing, err := web.Untranslated(sub)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Errorf("no French for %q", m)
	}
}
