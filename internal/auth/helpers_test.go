package auth

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"sync"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
)

// tree is a tiny in-memory unit tree:
//
//	01: groupement 1 → compagnies 10, 11 → brigades 100, 101 (under 10), 110 (under 11)
//	02: groupement 2 → compagnie 20 → brigade 200
type tree struct {
	parent map[int64]int64
	dept   map[int64]string
}

func testTree() *tree {
	t := &tree{parent: map[int64]int64{}, dept: map[int64]string{}}
	add := func(id, parent int64, dept string) { t.parent[id], t.dept[id] = parent, dept }
	add(1, 0, "01")
	add(10, 1, "01")
	add(11, 1, "01")
	add(100, 10, "01")
	add(101, 10, "01")
	add(110, 11, "01")
	add(2, 0, "02")
	add(20, 2, "02")
	add(200, 20, "02")
	return t
}

func (t *tree) Within(unit, ancestor int64) bool {
	if ancestor == 0 {
		return false
	}
	for u, n := unit, 0; u != 0 && n < 64; u, n = t.parent[u], n+1 {
		if u == ancestor {
			return true
		}
	}
	return false
}

func (t *tree) Dept(unit int64) string { return t.dept[unit] }

func (t *tree) IsDeptRoot(unit int64) bool {
	_, ok := t.dept[unit]
	return ok && t.parent[unit] == 0
}

// fakeJournal keeps the records it is given, and writes nothing.
type fakeJournal struct {
	mu   sync.Mutex
	recs []journaled
}

type journaled struct {
	Actor string
	vigie.Record
}

func (j *fakeJournal) Record(ctx context.Context, tx *db.Tx, r vigie.Record) error {
	if tx == nil {
		panic("journal outside a transaction")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	actor := ""
	if u := vigie.UserFrom(ctx); u != nil {
		actor = u.Login
	}
	j.recs = append(j.recs, journaled{actor, r})
	return nil
}

// count returns how many records have a detail starting with prefix.
func (j *fakeJournal) count(prefix string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, r := range j.recs {
		if len(r.Detail) >= len(prefix) && r.Detail[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

// clock is a settable time for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fastArgon keeps tests quick; production cost is measured by BenchmarkHash.
var fastArgon = Argon2Params{Memory: 64, Time: 1, Threads: 1}

type fixture struct {
	a   *Auth
	d   *db.DB
	j   *fakeJournal
	clk *clock
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{d: d, j: &fakeJournal{}, clk: &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	f.a = f.newAuth(t)
	return f
}

// newAuth builds an Auth on the fixture's database (a "restart").
func (f *fixture) newAuth(t testing.TB) *Auth {
	t.Helper()
	p := NewPolicy(f.d, testTree())
	p.now = f.clk.Now
	a, err := New(context.Background(), f.d, p, f.j, slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config{Argon2: fastArgon, Now: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const demoSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// addUser creates an account from the console and returns its id.
func (f *fixture) addUser(t testing.TB, login string, role vigie.Role, unit int64, dept string) int64 {
	t.Helper()
	n := NewUser{Login: login, Name: "Test " + login, Role: role, UnitID: unit, Dept: dept, Password: "correct horse battery"}
	if role.Staff() {
		n.TOTPSecret = demoSecret
	}
	acc, _, err := f.a.CreateUser(Console(context.Background(), "test"), n)
	if err != nil {
		t.Fatalf("add %s: %v", login, err)
	}
	return acc.ID
}

func as(u *vigie.User) context.Context { return vigie.WithUser(context.Background(), u) }

func mustSub(t testing.TB) fs.FS {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}
