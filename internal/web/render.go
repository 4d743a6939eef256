package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"vigie"
)

// Page templates are parsed once at start, once per language, so that the
// "t" function is bound to the language without cloning per request. Each
// area embeds its templates and calls Server.AddTemplates; a template that
// does not parse stops the server from starting.
//
// A page template defines "title" and "main"; files whose name starts with
// "_" are partials shared by the pages of their area. Pages are named
// "<area>/<file>", e.g. "org/units.html".

//go:embed templates
var ownTemplates embed.FS

func layoutFS() fs.FS {
	sub, _ := fs.Sub(ownTemplates, "templates")
	return sub
}

type pageSet struct {
	mu    sync.RWMutex
	byLan map[string]map[string]*template.Template // lang → name → template
}

// PageData is what every page template receives.
type PageData struct {
	Lang   string
	User   *vigie.User
	Nonce  string // CSP nonce for inline <script> and <style>
	Path   string
	Nav    []NavItem
	Status int
	Flash  string // a one-time message (see SetFlash)
	// FlashKind is "info", "success" or "error".
	FlashKind string
	D         any // the page's own data
}

// NavItem is an entry of the main menu, shown to the roles it lists (all
// signed-in users when Roles is empty).
type NavItem struct {
	Path  string
	Label string // English; translated at render time
	Roles []vigie.Role
}

func funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":  func(msg string) string { return T(lang, msg) },
		"tf": func(format string, args ...any) string { return Tf(lang, format, args...) },
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			t = t.In(paris)
			if lang == "en" {
				return t.Format("2 Jan 2006 15:04")
			}
			return t.Format("02/01/2006 15:04")
		},
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"hasRole": func(u *vigie.User, roles ...string) bool {
			if u == nil {
				return false
			}
			for _, r := range roles {
				if string(u.Role) == r {
					return true
				}
			}
			return false
		},
		"join":  strings.Join,
		"lower": strings.ToLower,
	}
}

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return l
}()

func newPageSet() *pageSet {
	return &pageSet{byLan: map[string]map[string]*template.Template{"fr": {}, "en": {}}}
}

// add parses the page templates of fsys (its root) for area, on top of the
// shared layout.
func (p *pageSet) add(area string, fsys fs.FS) error {
	if err := LoadMessages(fsys); err != nil {
		return err
	}
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return err
	}
	var partials, pages []string
	for _, n := range names {
		if strings.HasPrefix(n, "_") {
			partials = append(partials, n)
		} else {
			pages = append(pages, n)
		}
	}
	layout, err := fs.ReadFile(layoutFS(), "layout.html")
	if err != nil {
		return fmt.Errorf("web: layout: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for lang := range p.byLan {
		for _, page := range pages {
			t := template.New("layout").Funcs(funcs(lang))
			if _, err := t.Parse(string(layout)); err != nil {
				return fmt.Errorf("web: layout: %w", err)
			}
			files := append(append([]string{}, partials...), page)
			if _, err := t.ParseFS(fsys, files...); err != nil {
				return fmt.Errorf("web: templates of %s: %w", area, err)
			}
			p.byLan[lang][area+"/"+page] = t
		}
	}
	return nil
}

// render executes the page into a buffer first, so that a template error
// never sends half a page.
func (p *pageSet) render(w http.ResponseWriter, r *http.Request, code int, name string, data PageData) error {
	p.mu.RLock()
	t := p.byLan[data.Lang][name]
	p.mu.RUnlock()
	if t == nil {
		return fmt.Errorf("web: no page template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if code != 0 {
		w.WriteHeader(code)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
