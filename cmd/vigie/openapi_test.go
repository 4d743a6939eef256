package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"vigie/internal/audit"
	"vigie/internal/auth"
	"vigie/internal/org"
	"vigie/internal/web"
)

// The OpenAPI document is written by hand; these tests keep it honest:
// it must be well-formed OpenAPI 3.1 with every reference resolving, list
// exactly the /api/v1 routes that the app registers, and describe the JSON
// fields of the Go types that the handlers encode and decode.

// openAPI is the part of the document the tests read; the whole document
// is also walked as generic JSON for references.
type openAPI struct {
	OpenAPI string                                `json:"openapi"`
	Info    struct{ Title, Version string }       `json:"info"`
	Servers []struct{ URL string }                `json:"servers"`
	Tags    []struct{ Name string }               `json:"tags"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
	Comps   struct {
		Schemas         map[string]schema          `json:"schemas"`
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		Parameters      map[string]parameter       `json:"parameters"`
	} `json:"components"`
}

type operation struct {
	OperationID string                     `json:"operationId"`
	Summary     string                     `json:"summary"`
	Tags        []string                   `json:"tags"`
	Parameters  []parameter                `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
	Security    *[]map[string][]string     `json:"security"`
}

type parameter struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

type schema struct {
	Properties map[string]json.RawMessage `json:"properties"`
	Required   []string                   `json:"required"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) (*openAPI, any) {
	t.Helper()
	var doc openAPI
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	var raw any
	if err := json.Unmarshal(openAPIDoc, &raw); err != nil {
		t.Fatal(err)
	}
	return &doc, raw
}

// operations returns "METHOD /path" → operation for every operation.
func (d *openAPI) operations(t *testing.T) map[string]operation {
	t.Helper()
	ops := map[string]operation{}
	for path, item := range d.Paths {
		for key, msg := range item {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			var op operation
			if err := json.Unmarshal(msg, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			ops[strings.ToUpper(key)+" "+path] = op
		}
	}
	return ops
}

// resolve follows a local JSON pointer ("#/components/schemas/X").
func resolve(root any, ref string) (any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	cur := root
	for _, tok := range strings.Split(p, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// refs collects every "$ref" value under v.
func refs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				*out = append(*out, s)
			} else {
				refs(x, out)
			}
		}
	case []any:
		for _, x := range v {
			refs(x, out)
		}
	}
}

func TestOpenAPIDocument(t *testing.T) {
	doc, raw := loadOpenAPI(t)
	if !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(doc.OpenAPI) {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("info needs a title and a version")
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers = %+v, want one server \"/\"", doc.Servers)
	}
	for _, name := range []string{"bearerToken", "sessionCookie"} {
		if _, ok := doc.Comps.SecuritySchemes[name]; !ok {
			t.Errorf("security scheme %s is missing", name)
		}
	}

	t.Run("references resolve, components are used", func(t *testing.T) {
		var all []string
		refs(raw, &all)
		if len(all) == 0 {
			t.Fatal("no $ref found: the walk is broken")
		}
		used := map[string]bool{}
		for _, r := range all {
			if _, ok := resolve(raw, r); !ok {
				t.Errorf("$ref %q does not resolve", r)
			}
			used[r] = true
		}
		comps, _ := resolve(raw, "#/components")
		for kind, m := range comps.(map[string]any) {
			if kind == "securitySchemes" {
				continue // used by name in "security", not by $ref
			}
			for name := range m.(map[string]any) {
				if ref := "#/components/" + kind + "/" + name; !used[ref] {
					t.Errorf("%s is never referenced: stale?", ref)
				}
			}
		}
	})

	t.Run("operations", func(t *testing.T) {
		tags := map[string]bool{}
		for _, tg := range doc.Tags {
			tags[tg.Name] = true
		}
		ids := map[string]string{}
		pathParam := regexp.MustCompile(`\{([^}]+)\}`)
		for key, op := range doc.operations(t) {
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 || len(op.Responses) == 0 {
				t.Errorf("%s: needs operationId, summary, tags and responses", key)
			}
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %q used by %s and %s", op.OperationID, prev, key)
			}
			ids[op.OperationID] = key
			for _, tg := range op.Tags {
				if !tags[tg] {
					t.Errorf("%s: tag %q is not declared in the top-level tags", key, tg)
				}
			}
			// Every {name} of the path is a required path parameter, and
			// no path parameter is left over.
			path := key[strings.IndexByte(key, ' ')+1:]
			want := map[string]bool{}
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				want[m[1]] = true
			}
			got := map[string]bool{}
			for _, p := range doc.allParams(t, path, op) {
				if p.In == "path" {
					if !p.Required {
						t.Errorf("%s: path parameter %s must be required", key, p.Name)
					}
					got[p.Name] = true
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: path parameters %v, want %v", key, keys(got), keys(want))
			}
		}
	})
}

// allParams returns the parameters of an operation and of its path item,
// with references resolved.
func (d *openAPI) allParams(t *testing.T, path string, op operation) []parameter {
	t.Helper()
	var ps []parameter
	if msg, ok := d.Paths[path]["parameters"]; ok {
		if err := json.Unmarshal(msg, &ps); err != nil {
			t.Fatalf("%s parameters: %v", path, err)
		}
	}
	ps = append(ps, op.Parameters...)
	for i, p := range ps {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
			ps[i] = d.Comps.Parameters[name]
		}
	}
	return ps
}

func keys(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// routeKey turns a ServeMux pattern into the "METHOD /path" of the
// document: "{name...}" becomes "{name}" and "{$}" disappears.
func routeKey(pattern string) (string, bool) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || strings.HasPrefix(method, "/") {
		return "", false
	}
	path = strings.ReplaceAll(path, "{$}", "")
	path = regexp.MustCompile(`\{([^}.]+)\.\.\.\}`).ReplaceAllString(path, "{$1}")
	return method + " " + path, true
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	ta := newTestApp(t)
	routes := ta.web.Routes()
	if !slices.Contains(routes, "GET /api/v1/openapi.json") {
		// Until main registers it, register it here so that the app under
		// test is the app as it will run.
		registerOpenAPI(ta.web)
		routes = ta.web.Routes()
	}
	doc, _ := loadOpenAPI(t)
	documented := doc.operations(t)

	registered := map[string]bool{}
	for _, p := range routes {
		if !strings.Contains(p, "/api/v1/") {
			continue
		}
		key, ok := routeKey(p)
		if !ok {
			t.Errorf("route %q has no method: give it one so that it can be described", p)
			continue
		}
		if strings.HasPrefix(key, "HEAD ") {
			continue
		}
		registered[key] = true
		if _, ok := documented[key]; !ok {
			t.Errorf("route %q is registered but not described in openapi.json", p)
		}
	}
	if len(registered) < 20 {
		t.Fatalf("only %d /api/v1 routes registered: the app under test is not the real one", len(registered))
	}
	for key := range documented {
		if !registered[key] {
			t.Errorf("openapi.json describes %q, which no route serves (stale entry?)", key)
		}
	}

	t.Run("served", func(t *testing.T) {
		c := ta.client() // nobody signed in: the description is public
		res, err := c.Get(ta.srv.URL + "/api/v1/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
			t.Errorf("Cache-Control %q, want a max-age", cc)
		}
		if string(body) != string(openAPIDoc) {
			t.Errorf("served body differs from the embedded document")
		}
		req, _ := http.NewRequest("GET", ta.srv.URL+"/api/v1/openapi.json", nil)
		req.Header.Set("If-None-Match", res.Header.Get("ETag"))
		res, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("revalidation with the ETag: status %d, want 304", res.StatusCode)
		}
	})
}

// TestOpenAPISchemasMatchGoTypes compares the documented properties of the
// bodies with the JSON fields of the Go types the handlers encode or
// decode. For responses, a field is required exactly when Go always
// writes it (no omitempty/omitzero).
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	tests := []struct {
		schema   string
		v        any
		response bool
	}{
		{"Error", web.APIError{}, true},
		{"Account", auth.Account{}, true},
		{"AccountChange", auth.Change{}, false},
		{"Departement", org.Departement{}, true},
		{"Unit", org.Unit{}, true},
		{"UnitChange", org.UnitChange{}, false},
		{"Commune", org.Commune{}, true},
		{"ImportResult", org.ImportResult{}, true},
		{"JournalEntry", audit.Entry{}, true},
		{"JournalStatus", audit.Status{}, true},
		{"JournalCheckpoint", audit.Checkpoint{}, true},
		{"JournalVerification", audit.Report{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			s, ok := doc.Comps.Schemas[tt.schema]
			if !ok {
				t.Fatalf("schema %s is missing", tt.schema)
			}
			fields := jsonFields(reflect.TypeOf(tt.v))
			got, want := map[string]bool{}, map[string]bool{}
			for name := range s.Properties {
				got[name] = true
			}
			for name := range fields {
				want[name] = true
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("properties %v, want the JSON fields of %T: %v", keys(got), tt.v, keys(want))
			}
			if !tt.response {
				return
			}
			req, wantReq := map[string]bool{}, map[string]bool{}
			for _, name := range s.Required {
				req[name] = true
			}
			for name, omit := range fields {
				if !omit {
					wantReq[name] = true
				}
			}
			if !reflect.DeepEqual(req, wantReq) {
				t.Errorf("required %v, want the always-written fields of %T: %v", keys(req), tt.v, keys(wantReq))
			}
		})
	}
}

// jsonFields returns the JSON field names of struct type t, as
// encoding/json sees them (embedded structs flattened, "-" skipped), with
// whether each may be omitted.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				if _, shadowed := out[k]; !shadowed {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
	}
	return out
}

// TestOpenAPIValidates has a full OpenAPI 3.1 implementation check what the
// tests above do not: the shape of every object, JSON Schema keywords,
// parameter and response objects.
func TestOpenAPIValidates(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("the library does not read the document as OpenAPI 3.1")
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI 3.1: %v", err)
	}
}

// TestOpenAPIResponsesMatch calls the real app and checks that the bodies
// it answers conform to the documented schemas (JSON Schema 2020-12).
func TestOpenAPIResponsesMatch(t *testing.T) {
	ta := newTestApp(t)
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatal(err)
	}
	admin, security := ta.signIn(t, "admin"), ta.signIn(t, "securite")
	tests := []struct {
		c        *http.Client
		method   string
		template string // the documented path
		url      string
		status   int
	}{
		{admin, "GET", "/api/v1/departements", "/api/v1/departements", 200},
		{admin, "GET", "/api/v1/departements/{code}", "/api/v1/departements/2a", 200},
		{admin, "GET", "/api/v1/units", "/api/v1/units?dept=01", 200},
		{admin, "GET", "/api/v1/units/{id}", "/api/v1/units/3", 200},
		{admin, "GET", "/api/v1/route", "/api/v1/route?lon=5.2256&lat=46.2052", 200},
		{admin, "GET", "/api/v1/users", "/api/v1/users", 200},
		{admin, "GET", "/api/v1/users/{id}", "/api/v1/users/1?motif=controle-hierarchique", 200},
		{admin, "GET", "/api/v1/users/{id}", "/api/v1/users/1", 400},
		{admin, "GET", "/api/v1/units/{id}", "/api/v1/units/999999", 404},
		{admin, "GET", "/api/v1/route", "/api/v1/route", 400},
		{security, "GET", "/api/v1/audit", "/api/v1/audit?motif=audit-securite&limit=2", 200},
		{security, "GET", "/api/v1/audit/status", "/api/v1/audit/status", 200},
		{security, "GET", "/api/v1/audit/{seq}", "/api/v1/audit/1?motif=audit-securite", 200},
		{security, "GET", "/api/v1/audit", "/api/v1/audit", 400},
		{ta.client(), "GET", "/api/v1/units", "/api/v1/units", 401},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ta.srv.URL+tt.url, nil)
			res, err := tt.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			item := doc.Paths.Value(tt.template)
			if item == nil || item.GetOperation(tt.method) == nil {
				t.Fatalf("%s %s is not documented", tt.method, tt.template)
			}
			resp := item.GetOperation(tt.method).Responses.Status(tt.status)
			if resp == nil {
				t.Fatalf("status %d of %s %s is not documented", tt.status, tt.method, tt.template)
			}
			mt := resp.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil {
				t.Fatalf("response %d has no JSON schema", tt.status)
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
				t.Errorf("body does not match the documented schema: %v\n%s", err, body)
			}
		})
	}
}
