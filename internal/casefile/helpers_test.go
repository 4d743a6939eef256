package casefile

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"vigie"
	"vigie/internal/audit"
	"vigie/internal/auth"
	"vigie/internal/blob"
	"vigie/internal/casefile/ident"
	"vigie/internal/casefile/triage"
	"vigie/internal/db"
	"vigie/internal/org"
	"vigie/internal/web"
)

// fixture is a real database with two départements (01 with two brigades
// under one compagnie, 2A with one), the real policy and journal, and the
// service under test.
type fixture struct {
	d                     *db.DB
	svc                   *Service
	org                   *org.Service
	j                     *audit.Journal
	g01, cie01, b01, b01b int64
	g2A, b2A              int64
	onStatus              []string
}

var testCardKey = []byte("casefile test card key, 32 byte!")

var triageBase = triage.Generate(1, 900)

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := auth.Console(context.Background(), "test")
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	f := &fixture{d: d, j: audit.New(d, key, nil)}
	f.org = org.New(org.Config{DB: d, Journal: f.j})
	must := func(u org.Unit, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	for _, dep := range []org.Departement{{Code: "01", Name: "Ain", Zone: "metro"}, {Code: "2A", Name: "Corse-du-Sud", Zone: "metro"}} {
		if _, err := f.org.CreateDepartement(ctx, dep); err != nil {
			t.Fatal(err)
		}
	}
	f.g01 = must(f.org.CreateUnit(ctx, org.Unit{Dept: "01", Kind: org.Groupement, Name: "Groupement de l'Ain", Code: "GGD-01"}))
	f.cie01 = must(f.org.CreateUnit(ctx, org.Unit{Dept: "01", Kind: org.Compagnie, ParentID: f.g01, Name: "Compagnie de Bourg", Code: "CIE-01053"}))
	f.b01 = must(f.org.CreateUnit(ctx, org.Unit{Dept: "01", Kind: org.Brigade, ParentID: f.cie01, Name: "Brigade de Bourg-en-Bresse", Code: "BR-01053"}))
	f.b01b = must(f.org.CreateUnit(ctx, org.Unit{Dept: "01", Kind: org.Brigade, ParentID: f.cie01, Name: "Brigade de Péronnas", Code: "BR-01289"}))
	f.g2A = must(f.org.CreateUnit(ctx, org.Unit{Dept: "2A", Kind: org.Groupement, Name: "Groupement de Corse-du-Sud", Code: "GGD-2A"}))
	cie2A := must(f.org.CreateUnit(ctx, org.Unit{Dept: "2A", Kind: org.Compagnie, ParentID: f.g2A, Name: "Compagnie d'Ajaccio", Code: "CIE-2A004"}))
	f.b2A = must(f.org.CreateUnit(ctx, org.Unit{Dept: "2A", Kind: org.Brigade, ParentID: cie2A, Name: "Brigade d'Ajaccio", Code: "BR-2A004"}))
	if err := f.org.Tree().Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f.svc = New(Config{DB: d, Authz: auth.NewPolicy(d, f.org.Tree()), Journal: f.j, Units: f.org, Tree: f.org.Tree(),
		Blobs: blobs, Ident: ident.New(ident.Config{CardKey: testCardKey}), Triage: triage.New(triageBase, nil),
		OnStatus: func(ctx context.Context, tx *db.Tx, complaintID int64, step string) error {
			f.onStatus = append(f.onStatus, strconv.FormatInt(complaintID, 10)+":"+step)
			return nil
		},
		// The grants table of internal/auth, written as auth.Grant does;
		// the whole-app tests (cmd/vigie) go through auth itself.
		Grant: func(ctx context.Context, tx *db.Tx, userID int64, kind, id string, until time.Time, reason string) (int64, error) {
			var gid int64
			err := tx.QueryRow(ctx, `INSERT INTO grants (user_id, perm, target_kind, target_id, unit_id, reason, granted_by,
				created_at, expires_at) VALUES (?, 'read', ?, ?, 0, ?, 0, ?, ?) RETURNING id`, userID, kind, id, reason,
				db.Millis(time.Now()), db.Millis(until)).Scan(&gid)
			return gid, err
		},
	})
	return f
}

// as returns a context acting as a member of unit with role.
func (f *fixture) as(id int64, role vigie.Role, unit int64) context.Context {
	dept := f.org.Tree().Dept(unit)
	return vigie.WithUser(context.Background(), &vigie.User{ID: id, Login: string(role) + strconv.FormatInt(id, 10),
		Name: "User " + strconv.FormatInt(id, 10), Role: role, UnitID: unit, Dept: dept, Via: "session"})
}

// addUsers adds n accounts (grants need them) and returns their ids.
func (f *fixture) addUsers(t testing.TB, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		var id int64
		if err := f.d.QueryRow(context.Background(), `INSERT INTO users (login, name, role, created_at, updated_at)
			VALUES (?, ?, 'agent', 0, 0) RETURNING id`, "u"+strconv.Itoa(i), "User "+strconv.Itoa(i)).Scan(&id); err != nil {
			t.Fatalf("add user %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// open opens a case from a complaint in unit.
func (f *fixture) open(t testing.TB, unit int64, complaintID int64, fc FromComplaint) Case {
	t.Helper()
	fc.ComplaintID, fc.UnitID, fc.Dept = complaintID, unit, f.org.Tree().Dept(unit)
	if fc.Category == "" {
		fc.Category = "online_scam"
	}
	var c Case
	err := f.d.InTx(context.Background(), func(tx *db.Tx) error {
		var err error
		c, err = f.svc.OpenFromComplaint(context.Background(), tx, fc)
		return err
	})
	if err != nil {
		t.Fatalf("OpenFromComplaint: %v", err)
	}
	return c
}

// journaled counts journal entries.
func (f *fixture) journaled(t testing.TB, action, object, objectID, motif string) int {
	t.Helper()
	var n int
	if err := f.d.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_entry WHERE action = ? AND object = ? AND object_id = ?
		AND motif = ?`, action, object, objectID, motif).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// newWeb returns a web server with the journal's and this area's pages, on
// which every request acts as user.
func newWeb(t testing.TB, f *fixture, user *vigie.User) *web.Server {
	t.Helper()
	s, err := web.New(web.Config{Addr: "127.0.0.1:0"}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.NewHandler(f.j, auth.NewPolicy(f.d, f.org.Tree())).Register(s); err != nil {
		t.Fatal(err)
	}
	if err := NewHandler(f.svc).Register(s); err != nil {
		t.Fatal(err)
	}
	s.SetAuthenticator(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(vigie.WithUser(r.Context(), user)))
		})
	})
	return s
}
