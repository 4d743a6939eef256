package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTwoReplicasBehaveAsOne runs a second Vigie on the same database (its
// own data directory for the bus, the same journal key) and checks that
// what matters lives in the database, not in one replica's memory: a
// session opened on one replica works on the other, a lock-out on one holds
// on the other, and both write one valid journal.
func TestTwoReplicasBehaveAsOne(t *testing.T) {
	if testing.Short() {
		t.Skip("two whole applications")
	}
	a := newTestApp(t)
	dirB := t.TempDir()
	// Replicas share the deployment's secret keys.
	for _, name := range []string{"journal.key", "card.key"} {
		key, err := os.ReadFile(filepath.Join(a.cfg.DataDir, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dirB, name), key, 0o600)
	}
	cfgB := *a.cfg
	cfgB.DataDir = dirB
	if err := cfgB.validate(); err != nil {
		t.Fatal(err)
	}
	b, err := openApp(context.Background(), &cfgB, slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		t.Fatalf("second replica: %v", err)
	}
	defer b.Close()
	srvB := httptest.NewServer(b.web.Handler())
	defer srvB.Close()

	// Signed in on A, the same cookie works on B (cookies ignore ports).
	c := a.signIn(t, "agent")
	res, err := c.Get(srvB.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "Camille Martin") {
		t.Errorf("session from replica A not recognised by replica B (status %d)", res.StatusCode)
	}

	// Five wrong passwords on A lock the account on B too.
	anon := a.client()
	for i := 0; i < 5; i++ {
		a.post(t, anon, "/login", url.Values{"login": {"opj"}, "password": {"wrong-password-" + time.Now().String()}})
	}
	bClient := a.client()
	req := url.Values{"login": {"opj"}, "password": {demoPassword}}
	resB := postTo(t, bClient, srvB.URL+"/login", req)
	if resB.StatusCode == 303 && strings.HasPrefix(resB.Header.Get("Location"), "/login/mfa") {
		t.Error("account locked on replica A signs in on replica B")
	}

	rep, err := b.journal.Verify(context.Background(), nil)
	if err != nil || !rep.OK {
		t.Errorf("journal written by both replicas: %+v %v", rep, err)
	}
}
