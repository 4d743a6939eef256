package waf

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie"
)

// The firewall must not fall over: oversized, deep, malformed or slow
// requests get a clear 4xx, never a 5xx, and the backend never sees them.
func TestBadInputGetsClear4xx(t *testing.T) {
	h := testFirewall(t).Middleware(backend)
	deep := strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200)
	huge := bytes.Repeat([]byte("a"), DefaultFormLimit+10)
	cases := []struct {
		name string
		q    req
		want int
	}{
		{"form body over the limit", req{ctype: "application/x-www-form-urlencoded", target: "/complaints/new", body: append([]byte("narrative="), huge...)}, http.StatusRequestEntityTooLarge},
		{"JSON body over the limit", req{ctype: "application/json", target: "/api/v1/complaints", body: append(append([]byte(`{"narrative":"`), huge...), '"', '}')}, http.StatusRequestEntityTooLarge},
		{"deeply nested JSON", req{ctype: "application/json", target: "/api/v1/complaints", body: []byte(deep)}, http.StatusBadRequest},
		{"malformed JSON", req{ctype: "application/json", target: "/api/v1/complaints", body: []byte(`{"narrative": "abc`)}, http.StatusBadRequest},
		{"multipart without its boundary", req{ctype: "multipart/form-data; boundary=XYZ", target: "/complaints/42/attachments", body: []byte("--ABC\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--ABC--\r\n")}, http.StatusBadRequest},
		{"multipart cut short", req{ctype: "multipart/form-data; boundary=XYZ", target: "/complaints/42/attachments", body: []byte("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 ...")}, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, v, body := send(t, h, c.q)
			if code != c.want {
				t.Errorf("status %d, want %d; %s; %.200s", code, c.want, describe(v), body)
			}
			if code >= 500 {
				t.Errorf("5xx")
			}
		})
	}
}

func TestBlockedPageSaysWhyAndGivesTheRequestID(t *testing.T) {
	h := testFirewall(t).Middleware(backend)
	attack := "/complaints?q=" + "%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E"
	t.Run("page", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, attack, nil)
		r = r.WithContext(vigie.WithClient(r.Context(), vigie.Client{IP: "192.0.2.1", RequestID: "req-42"}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden {
			t.Fatalf("status %d", w.Code)
		}
		body := w.Body.String()
		for _, want := range []string{"pare-feu", "req-42", `lang="fr"`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q: %s", want, body)
			}
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("content type %q", ct)
		}
	})
	t.Run("API", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1"+attack, nil)
		r = r.WithContext(vigie.WithClient(r.Context(), vigie.Client{IP: "192.0.2.1", RequestID: "req-43"}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || !strings.Contains(w.Body.String(), `"request_id":"req-43"`) {
			t.Errorf("got %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
	})
}

func TestVerdictDescribesTheBlock(t *testing.T) {
	var got []Verdict
	var mu sync.Mutex
	fw, err := New(Config{OnVerdict: func(ctx context.Context, v Verdict) { mu.Lock(); got = append(got, v); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	h := fw.Middleware(backend)
	r := httptest.NewRequest(http.MethodGet, "/complaints?id=1%27%20OR%20%271%27%3D%271%27%20--%20", nil)
	r.Host = "localhost"
	r = r.WithContext(vigie.WithClient(r.Context(), vigie.Client{IP: "198.51.100.7", RequestID: "v-1"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	// A clean request produces no verdict.
	r2 := httptest.NewRequest(http.MethodGet, "/complaints?page=2", nil)
	r2.Host = "localhost"
	r2.Header.Set("Accept", "text/html")
	r2.Header.Set("User-Agent", "Mozilla/5.0")
	h.ServeHTTP(httptest.NewRecorder(), r2)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d verdicts, want 1: %+v", len(got), got)
	}
	v := got[0]
	if !v.Blocked || v.Status != 403 || v.ClientIP != "198.51.100.7" || v.RequestID != "v-1" || v.Method != "GET" || v.Path != "/complaints" || v.Score < 5 {
		t.Errorf("verdict %+v", v)
	}
	sqli := false
	for _, h := range v.Rules {
		if h.ID >= 942000 && h.ID < 943000 {
			sqli = true
		}
		if len(h.Data) > MaxHitData+len("…") {
			t.Errorf("matched data not cut: %d bytes", len(h.Data))
		}
	}
	if !sqli {
		t.Errorf("no SQL injection rule among %+v", v.Rules)
	}
}

func TestDetectOnlyLetsAttacksThroughAndReports(t *testing.T) {
	n := 0
	fw, err := New(Config{DetectOnly: true, OnVerdict: func(ctx context.Context, v Verdict) { n++ }})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	fw.Middleware(backend).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/?q=%3Cscript%3Ealert(1)%3C/script%3E", nil))
	if w.Code != 200 || n != 1 {
		t.Errorf("status %d, %d verdicts; want 200 and 1", w.Code, n)
	}
}

func TestConfigIsChecked(t *testing.T) {
	for _, c := range []Config{{Paranoia: 5}, {Paranoia: -1}, {InboundThreshold: -3}, {FormLimit: 10}, {Methods: `GET'"`}} {
		if _, err := New(c); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("New(%+v) = %v, want an invalid-setting error", c, err)
		}
	}
}

// A client that sends its body slowly is cut off by the server's read
// deadline: the firewall answers 408 (or the connection closes), never 5xx.
func TestSlowBodyIsRefused(t *testing.T) {
	srv := httptest.NewUnstartedServer(testFirewall(t).Middleware(backend))
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /complaints/new HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nnarrative=abc")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, _ := c.Read(buf)
	status := string(buf[:n])
	if n > 0 && !strings.HasPrefix(status, "HTTP/1.1 408") && !strings.HasPrefix(status, "HTTP/1.1 400") {
		t.Errorf("answer %q, want 408 or 400 (or a closed connection)", status)
	}
}

func TestBase64EncodedAttacksAreDecoded(t *testing.T) {
	h := testFirewall(t).Middleware(backend)
	enc := func(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }
	attacks := []req{
		{name: "query", target: "/complaints?q=" + enc(`<script>alert(document.cookie)</script>`)},
		{name: "path", target: "/" + enc(`<img src=x onerror=alert(1)>`)},
		{name: "form", ctype: "application/x-www-form-urlencoded", target: "/complaints/new", body: form("description", enc(`1' UNION SELECT login, password_hash FROM users--`))},
		{name: "JSON", ctype: "application/json", target: "/api/v1/complaints", body: []byte(`{"narrative":"` + enc(`; cat /etc/passwd`) + `"}`)},
	}
	for _, q := range attacks {
		t.Run(q.name, func(t *testing.T) {
			if code, v, _ := send(t, h, q); code != http.StatusForbidden {
				t.Errorf("status %d, want 403; %s", code, describe(v))
			}
		})
	}
	// Binary values in base64 (tokens, keys) and plain words are left alone.
	for _, s := range []string{"dGhpcyBpcyBmaW5l", "3q2+7wAAAAD/////", "arnaque", "Vigie-Demo-2026", "FR7630006000011234567890189"} {
		if d, ok := decodeBase64Text(s); ok && s != "dGhpcyBpcyBmaW5l" {
			t.Errorf("decodeBase64Text(%q) = %q, want no text", s, d)
		}
	}
	if d, ok := decodeBase64Text("dGhpcyBpcyBmaW5l"); !ok || d != "this is fine" {
		t.Errorf("decodeBase64Text = %q, %v", d, ok)
	}
}

func TestCheckAndReload(t *testing.T) {
	fw, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := fw.Middleware(backend)
	get := func(target string) int {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Host = "localhost"
		r.Header.Set("Accept", "text/html")
		r.Header.Set("User-Agent", "Mozilla/5.0")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	patch := `SecRule ARGS:case "@rx ^EVIL" "id:20001,phase:2,deny,status:403,log,msg:'virtual patch: case ids are numbers'"`
	if err := fw.Check(patch); err != nil {
		t.Fatalf("Check(valid) = %v", err)
	}
	err = fw.Check(`SecRule ARGS "@rx (unclosed" "id:20002,phase:2,deny"`)
	if vigie.KindOf(err) != vigie.KindInvalid || !strings.Contains(err.Error(), "do not compile") {
		t.Fatalf("Check(invalid) = %v, want the compiler's message", err)
	}
	if code := get("/cases?case=EVIL1"); code != 200 {
		t.Fatalf("before reload: %d", code)
	}
	if err := fw.Reload([]Rule{{ID: 1, Name: "case ids", SecLang: patch, Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	if code := get("/cases?case=EVIL1"); code != 403 {
		t.Fatalf("after reload: %d, want 403", code)
	}
	// A rule that does not compile is refused; the running set stays.
	err = fw.Reload([]Rule{{SecLang: `SecRule ARGS "@nosuchop x" "id:20003"`, Enabled: true}})
	if err == nil {
		t.Fatal("Reload accepted a broken rule")
	}
	if code := get("/cases?case=EVIL1"); code != 403 {
		t.Fatalf("after a failed reload: %d, want the patch still there (403)", code)
	}
	// Disabled rules are not loaded (roll back).
	if err := fw.Reload([]Rule{{SecLang: patch, Enabled: false}}); err != nil {
		t.Fatal(err)
	}
	if code := get("/cases?case=EVIL1"); code != 200 {
		t.Fatalf("after disabling: %d", code)
	}
	var e *vigie.Error
	if !errors.As(fw.Check(""), &e) {
		t.Error("empty rule accepted")
	}
}

// Request smuggling. Go's server reads a body framed two ways by its
// Transfer-Encoding (RFC 9112) and drops the Content-Length: what hides
// after the chunked body is a request of its own, which the firewall
// inspects like any other — it never arrives inside another request's
// body. Two different Content-Lengths get 400, and a Transfer-Encoding other
// than "chunked" gets Go's own 501 before any handler (the firewall cannot
// change that status; the request never reaches Vigie).
func TestSmugglingAttemptsAreRefused(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(testFirewall(t).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" body="+string(b))
		mu.Unlock()
	})))
	defer srv.Close()
	send := func(raw string) string {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, raw)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		return string(b)
	}
	clte := send("POST /complaints/new HTTP/1.1\r\nHost: localhost\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n0\r\n\r\nGET /admin/users HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	mu.Lock()
	got := strings.Join(seen, " | ")
	mu.Unlock()
	if got != "POST /complaints/new body= | GET /admin/users body=" {
		t.Errorf("CL.TE: backend saw %q (answer %.60q)", got, clte)
	}
	seen = nil
	for _, c := range []struct{ raw, want string }{
		{"POST /complaints/new HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\na=b", "HTTP/1.1 400"},
		{"POST /complaints/new HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\na=b\r\n0\r\n\r\n", "HTTP/1.1 501"},
	} {
		if answer := send(c.raw); !strings.HasPrefix(answer, c.want) {
			t.Errorf("%.70q: answer %.40q, want %s", c.raw, answer, c.want)
		}
	}
	if len(seen) != 0 {
		t.Errorf("backend reached: %q", seen)
	}
}
