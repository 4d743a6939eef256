package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Vigie speaks French by default and English on request. Messages are
// written in English in the code and templates (gettext style: the English
// text is the key); each package that renders text embeds a
// messages.fr.json catalog with the French translations, merged at start.

var catalog = struct {
	sync.RWMutex
	fr map[string]string
}{fr: map[string]string{}}

// LoadMessages merges the French catalog messages.fr.json found at the root
// of fsys, if any. It fails on a malformed catalog.
func LoadMessages(fsys fs.FS) error {
	b, err := fs.ReadFile(fsys, "messages.fr.json")
	if err != nil {
		return nil // a package may have no catalog
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("web: messages.fr.json: %w", err)
	}
	catalog.Lock()
	defer catalog.Unlock()
	for k, v := range m {
		catalog.fr[k] = v
	}
	return nil
}

// T translates msg into lang ("fr" or "en"). Unknown messages stay in English.
func T(lang, msg string) string {
	if lang == "en" {
		return msg
	}
	catalog.RLock()
	defer catalog.RUnlock()
	if s, ok := catalog.fr[msg]; ok {
		return s
	}
	return msg
}

// Tf translates a format string, then formats it.
func Tf(lang, format string, args ...any) string {
	return fmt.Sprintf(T(lang, format), args...)
}

// HasFrench reports whether msg has a French translation loaded.
func HasFrench(msg string) bool {
	catalog.RLock()
	defer catalog.RUnlock()
	_, ok := catalog.fr[msg]
	return ok
}

// Lang returns the language of the request: the "lang" cookie when set,
// else English only when the browser prefers it over French, else French.
func Lang(r *http.Request) string {
	if c, err := r.Cookie("lang"); err == nil && (c.Value == "fr" || c.Value == "en") {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "fr"):
			return "fr"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "fr"
}

var tCall = regexp.MustCompile(`\{\{-?\s*(?:t|tf)\s+"((?:[^"\\]|\\.)*)"`)

// Untranslated lists the {{t "…"}} and {{tf "…"}} strings of the *.html
// templates at the root of fsys that have no French translation, after
// loading fsys's own messages.fr.json. Each area's tests call it so that no
// English leaks into the French interface.
func Untranslated(fsys fs.FS) ([]string, error) {
	if err := LoadMessages(fsys); err != nil {
		return nil, err
	}
	if err := LoadMessages(ownMessages()); err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		for _, m := range tCall.FindAllStringSubmatch(string(b), -1) {
			msg, err := strconv.Unquote(`"` + m[1] + `"`)
			if err != nil {
				msg = m[1]
			}
			if !HasFrench(msg) {
				missing = append(missing, n+": "+msg)
			}
		}
	}
	return missing, nil
}
