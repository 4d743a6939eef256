package waf

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"vigie"
	"vigie/internal/audit"
	"vigie/internal/bus"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

const patchCaseIDs = `SecRule ARGS:case "!@rx ^[0-9]+$" "id:20001,phase:2,deny,status:403,log,msg:'virtual patch: case ids are numbers'"`

func officer() context.Context {
	return vigie.WithUser(context.Background(), &vigie.User{ID: 7, Login: "securite", Role: vigie.RoleSecurity})
}

func getStatus(h http.Handler, target string) int {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = "localhost"
	r.Header.Set("Accept", "text/html")
	r.Header.Set("User-Agent", "Mozilla/5.0")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// Virtual patches: added, tested, enabled, disabled and rolled back without
// a restart; versioned; journaled; announced; picked up by other replicas.
func TestVirtualPatches(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := officer()
		_, key, _ := ed25519.GenerateKey(nil)
		journal := audit.New(d, key, nil)
		fwA, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		fwB, err := New(Config{}) // another replica
		if err != nil {
			t.Fatal(err)
		}
		a := NewPatches(d, fwA, journal, &bus.Outbox{}, nil)
		b := NewPatches(d, fwB, journal, &bus.Outbox{}, nil)
		hA, hB := fwA.Middleware(backend), fwB.Middleware(backend)

		// Refused: not compiling (with the compiler's message), wrong id
		// range, engine switches.
		for _, bad := range []string{
			`SecRule ARGS "@rx (unclosed" "id:20002,phase:2,deny"`,
			`SecRule ARGS "@rx x" "id:942100,phase:2,deny"`,
			`SecRuleEngine Off`,
			`Include /etc/passwd`,
		} {
			if _, err := a.Create(ctx, "bad", bad, "", true); vigie.KindOf(err) != vigie.KindInvalid {
				t.Errorf("Create(%q) = %v, want refused", bad, err)
			}
		}
		if _, err := a.Create(ctx, "bad", `SecRule ARGS "@rx (unclosed" "id:20002,phase:2,deny"`, "", true); err == nil || !strings.Contains(err.Error(), "missing closing )") {
			t.Errorf("the compiler's message is lost: %v", err)
		}

		// Test against a sample before enabling.
		res, err := a.Test(ctx, patchCaseIDs, Sample{Target: "/cases?case=12%27"})
		if err != nil || res.Status != 403 {
			t.Fatalf("Test = %+v, %v; want 403", res, err)
		}
		if res, _ := a.Test(ctx, patchCaseIDs, Sample{Target: "/cases?case=12"}); res.Status != 200 {
			t.Errorf("Test on a clean sample = %+v", res)
		}
		if getStatus(hA, "/cases?case=x12") != 200 {
			t.Fatal("testing changed the running rules")
		}

		p, err := a.Create(ctx, "case ids", patchCaseIDs, "incident 2026-11", true)
		if err != nil {
			t.Fatal(err)
		}
		if p.RuleID != 1 || p.Version != 1 || p.CreatedBy != "securite" {
			t.Errorf("created %+v", p)
		}
		if getStatus(hA, "/cases?case=x12") != 403 {
			t.Error("replica A did not load the patch at once")
		}
		if err := b.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if getStatus(hB, "/cases?case=x12") != 403 {
			t.Error("replica B did not load the patch")
		}

		off := false
		if _, err := a.Change(ctx, p.RuleID, "", &off, "false positive on old ids"); err != nil {
			t.Fatal(err)
		}
		b.Sync(ctx)
		if getStatus(hA, "/cases?case=x12") != 200 || getStatus(hB, "/cases?case=x12") != 200 {
			t.Error("disabling did not reach both replicas")
		}
		p3, err := a.Rollback(ctx, p.RuleID, 1, "")
		if err != nil {
			t.Fatal(err)
		}
		if p3.Version != 3 || !p3.Enabled || p3.SecLang != patchCaseIDs {
			t.Errorf("rollback gave %+v", p3)
		}
		b.Sync(ctx)
		if getStatus(hB, "/cases?case=x12") != 403 {
			t.Error("rollback did not reach replica B")
		}
		hist, err := a.History(ctx, p.RuleID)
		if err != nil || len(hist) != 3 || hist[0].Version != 3 {
			t.Fatalf("history %+v, %v", hist, err)
		}
		if _, err := a.Rollback(ctx, p.RuleID, 9, ""); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("rollback to a missing version: %v", err)
		}
		if _, err := a.History(ctx, 99); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("history of a missing patch: %v", err)
		}

		// Every change is journaled, and announced on the bus.
		var journaled, events int
		d.QueryRow(ctx, `SELECT COUNT(*) FROM audit_entry WHERE action = ? AND object = 'waf-rule' AND actor_login = 'securite'`, vigie.ActAdmin).Scan(&journaled)
		d.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE subject LIKE '%waf.rules.changed'`).Scan(&events)
		if journaled != 3 {
			t.Errorf("%d journal entries, want 3", journaled)
		}
		if events != 3 {
			t.Errorf("%d bus events, want 3", events)
		}
	})
}
