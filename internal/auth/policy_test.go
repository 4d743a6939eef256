package auth

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

func TestPolicyMatrix(t *testing.T) {
	p := NewPolicy(nil, testTree())
	users := map[string]*vigie.User{
		"citizen":           {ID: 7, Role: vigie.RoleCitizen},
		"agent@100":         {ID: 1, Role: vigie.RoleAgent, UnitID: 100, Dept: "01"},
		"investigator@100":  {ID: 2, Role: vigie.RoleInvestigator, UnitID: 100, Dept: "01"},
		"commander@10":      {ID: 3, Role: vigie.RoleCommander, UnitID: 10, Dept: "01"},
		"commander@1":       {ID: 4, Role: vigie.RoleCommander, UnitID: 1, Dept: "01"},
		"analyst@10":        {ID: 5, Role: vigie.RoleAnalyst, UnitID: 10, Dept: "01"},
		"analyst@1":         {ID: 6, Role: vigie.RoleAnalyst, UnitID: 1, Dept: "01"},
		"security@national": {ID: 8, Role: vigie.RoleSecurity},
		"security@01":       {ID: 9, Role: vigie.RoleSecurity, Dept: "01"},
		"security@10":       {ID: 10, Role: vigie.RoleSecurity, UnitID: 10, Dept: "01"},
		"admin@national":    {ID: 11, Role: vigie.RoleAdmin},
		"admin@01":          {ID: 12, Role: vigie.RoleAdmin, Dept: "01"},
		"admin@100":         {ID: 13, Role: vigie.RoleAdmin, UnitID: 100, Dept: "01"},
		"trainer":           {ID: 14, Role: vigie.RoleTrainer, UnitID: 100, Dept: "01"},
		"agent-nounit":      {ID: 15, Role: vigie.RoleAgent},
	}
	targets := map[string]vigie.Target{
		"own":      {Dept: "01", UnitID: 100},             // the brigade 100
		"sibling":  {Dept: "01", UnitID: 101},             // another brigade of compagnie 10
		"cousin":   {Dept: "01", UnitID: 110},             // a brigade of compagnie 11
		"parent":   {Dept: "01", UnitID: 10},              // compagnie 10
		"dept":     {Dept: "01"},                          // département-wide record of 01
		"otherdep": {Dept: "02", UnitID: 200},             // a brigade of 02
		"national": {},                                    // national record
		"owned":    {Dept: "01", UnitID: 100, OwnerID: 7}, // a citizen's record in brigade 100
		"forged":   {Dept: "02", UnitID: 100},             // unit and dept disagree
		"ownedby8": {Dept: "01", UnitID: 100, OwnerID: 8}, // owned by someone else
		"nounit":   {Dept: "01", UnitID: 0, OwnerID: 0, Kind: "case"},
	}
	// allow lists, per user and permission, the targets allowed; every
	// other (user, perm, target) must be refused.
	allow := map[string]map[vigie.Perm][]string{
		"citizen": {
			vigie.PermRead:  {"owned"},
			vigie.PermWrite: {"owned"},
		},
		"agent@100": {
			vigie.PermRead:  {"own", "owned", "ownedby8"},
			vigie.PermWrite: {"own", "owned", "ownedby8"},
			vigie.PermStats: {"own", "owned", "ownedby8"},
		},
		"investigator@100": {
			vigie.PermRead:  {"own", "owned", "ownedby8"},
			vigie.PermWrite: {"own", "owned", "ownedby8"},
			vigie.PermStats: {"own", "owned", "ownedby8"},
		},
		"commander@10": {
			vigie.PermRead:  {"own", "sibling", "parent", "owned", "ownedby8"},
			vigie.PermWrite: {"own", "sibling", "parent", "owned", "ownedby8"},
			vigie.PermStats: {"own", "sibling", "parent", "owned", "ownedby8"},
		},
		"commander@1": {
			vigie.PermRead:  {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
			vigie.PermWrite: {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
			vigie.PermStats: {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
		},
		"analyst@10": {
			vigie.PermStats: {"own", "sibling", "parent", "owned", "ownedby8"},
		},
		"analyst@1": {
			vigie.PermStats: {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
		},
		"security@national": {
			vigie.PermJournalRead:   {"own", "sibling", "cousin", "parent", "dept", "otherdep", "national", "owned", "forged", "ownedby8", "nounit"},
			vigie.PermJournalExport: {"own", "sibling", "cousin", "parent", "dept", "otherdep", "national", "owned", "forged", "ownedby8", "nounit"},
			vigie.PermSecurity:      {"own", "sibling", "cousin", "parent", "dept", "otherdep", "national", "owned", "forged", "ownedby8", "nounit"},
		},
		"security@01": {
			vigie.PermJournalRead:   {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
			vigie.PermJournalExport: {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
			vigie.PermSecurity:      {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
		},
		"security@10": {
			vigie.PermJournalRead:   {"own", "sibling", "parent", "owned", "ownedby8"},
			vigie.PermJournalExport: {"own", "sibling", "parent", "owned", "ownedby8"},
			vigie.PermSecurity:      {"own", "sibling", "parent", "owned", "ownedby8"},
		},
		"admin@national": {
			vigie.PermOrgAdmin:  {"own", "sibling", "cousin", "parent", "dept", "otherdep", "national", "owned", "forged", "ownedby8", "nounit"},
			vigie.PermUserAdmin: {"own", "sibling", "cousin", "parent", "dept", "otherdep", "national", "owned", "forged", "ownedby8", "nounit"},
			vigie.PermSecurity:  {"own", "sibling", "cousin", "parent", "dept", "otherdep", "national", "owned", "forged", "ownedby8", "nounit"},
		},
		"admin@01": {
			vigie.PermOrgAdmin:  {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
			vigie.PermUserAdmin: {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
			vigie.PermSecurity:  {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
		},
		"admin@100": {
			vigie.PermOrgAdmin:  {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
			vigie.PermUserAdmin: {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
			vigie.PermSecurity:  {"own", "sibling", "cousin", "parent", "dept", "owned", "ownedby8", "nounit"},
		},
		"trainer": {
			vigie.PermTraining: {"own", "sibling", "cousin", "parent", "dept", "otherdep", "national", "owned", "forged", "ownedby8", "nounit"},
		},
	}
	perms := []vigie.Perm{vigie.PermRead, vigie.PermWrite, vigie.PermStats, vigie.PermOrgAdmin, vigie.PermUserAdmin,
		vigie.PermJournalRead, vigie.PermJournalExport, vigie.PermTraining, vigie.PermSecurity}
	for uname, u := range users {
		for _, perm := range perms {
			for tname, tg := range targets {
				want := false
				for _, a := range allow[uname][perm] {
					if a == tname {
						want = true
					}
				}
				err := p.Check(as(u), perm, tg)
				if got := err == nil; got != want {
					t.Errorf("%s %s %s: allowed = %v, want %v (err %v)", uname, perm, tname, got, want, err)
				}
				if err != nil && vigie.KindOf(err) != vigie.KindForbidden {
					t.Errorf("%s %s %s: kind %v, want forbidden", uname, perm, tname, vigie.KindOf(err))
				}
			}
		}
	}
}

func TestPolicyUnauthenticated(t *testing.T) {
	p := NewPolicy(nil, testTree())
	err := p.Check(context.Background(), vigie.PermRead, vigie.Target{Dept: "01", UnitID: 100})
	if vigie.KindOf(err) != vigie.KindUnauthenticated {
		t.Fatalf("no user: got %v, want unauthenticated", err)
	}
}

// TestPolicyGrants: explicit grants open exactly what they name, until
// they expire, and only for their permission.
func TestPolicyGrants(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		adminID := f.addUser(t, "natadmin", vigie.RoleAdmin, 0, "")
		agentID := f.addUser(t, "agent100", vigie.RoleAgent, 100, "")
		admin := &vigie.User{ID: adminID, Login: "natadmin", Role: vigie.RoleAdmin}
		agent := &vigie.User{ID: agentID, Login: "agent100", Role: vigie.RoleAgent, UnitID: 100, Dept: "01"}
		exp := f.clk.Now().Add(time.Hour)
		if _, err := f.a.Grant(as(admin), Grant{UserID: agentID, Perm: vigie.PermRead, Kind: "case", TargetID: "C-42", Reason: "joint inquiry", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.Grant(as(admin), Grant{UserID: agentID, Perm: vigie.PermStats, UnitID: 20, Reason: "regional study", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.Grant(as(admin), Grant{UserID: agentID, Perm: vigie.PermRead, Kind: "case", TargetID: "C-1", Reason: "x"}); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("grant without expiry: got %v, want invalid", err)
		}
		if _, err := f.a.Grant(as(agent), Grant{UserID: agentID, Perm: vigie.PermRead, UnitID: 200, Reason: "x", ExpiresAt: exp}); vigie.KindOf(err) != vigie.KindForbidden {
			t.Errorf("grant by an agent: got %v, want forbidden", err)
		}
		p := f.a.Policy()
		tests := []struct {
			name string
			perm vigie.Perm
			t    vigie.Target
			want bool
		}{
			{"granted case", vigie.PermRead, vigie.Target{Dept: "02", UnitID: 200, Kind: "case", ID: "C-42"}, true},
			{"other case", vigie.PermRead, vigie.Target{Dept: "02", UnitID: 200, Kind: "case", ID: "C-43"}, false},
			{"granted case, other perm", vigie.PermWrite, vigie.Target{Dept: "02", UnitID: 200, Kind: "case", ID: "C-42"}, false},
			{"unit grant, in subtree", vigie.PermStats, vigie.Target{Dept: "02", UnitID: 200}, true},
			{"unit grant, outside", vigie.PermStats, vigie.Target{Dept: "02", UnitID: 2}, false},
			{"unit grant, other perm", vigie.PermRead, vigie.Target{Dept: "02", UnitID: 200}, false},
		}
		for _, tt := range tests {
			err := p.Check(as(agent), tt.perm, tt.t)
			if got := err == nil; got != tt.want {
				t.Errorf("%s: allowed = %v, want %v (%v)", tt.name, got, tt.want, err)
			}
		}
		f.clk.Add(2 * time.Hour)
		if err := p.Check(as(agent), vigie.PermRead, vigie.Target{Dept: "02", UnitID: 200, Kind: "case", ID: "C-42"}); err == nil {
			t.Error("expired grant still allowed")
		}
		_ = ctx
	})
}

// bigTree builds a national tree: 100 départements × 10 compagnies × 3
// brigades = 3000 brigades.
func bigTree() *tree {
	t := &tree{parent: map[int64]int64{}, dept: map[int64]string{}}
	for d := int64(1); d <= 100; d++ {
		dept := fmt.Sprintf("%02d", d)
		g := d * 1000
		t.parent[g], t.dept[g] = 0, dept
		for c := int64(1); c <= 10; c++ {
			ci := g + c*10
			t.parent[ci], t.dept[ci] = g, dept
			for b := int64(1); b <= 3; b++ {
				t.parent[ci+b], t.dept[ci+b] = ci, dept
			}
		}
	}
	return t
}

// BenchmarkCheck measures the rule path (no grant lookup) over 3000
// brigades, and reports the 99th percentile of single calls.
func BenchmarkCheck(b *testing.B) {
	p := NewPolicy(nil, bigTree())
	users := []*vigie.User{
		{ID: 1, Role: vigie.RoleAgent, UnitID: 42011, Dept: "42"},
		{ID: 2, Role: vigie.RoleCommander, UnitID: 42000, Dept: "42"},
		{ID: 3, Role: vigie.RoleAnalyst, UnitID: 42010, Dept: "42"},
		{ID: 4, Role: vigie.RoleAdmin, Dept: "42"},
	}
	ctxs := make([]context.Context, len(users))
	for i, u := range users {
		ctxs[i] = as(u)
	}
	targets := []vigie.Target{{Dept: "42", UnitID: 42011}, {Dept: "42", UnitID: 42103}, {Dept: "43", UnitID: 43052}, {Dept: "42"}}
	samples := make([]time.Duration, 0, 1<<16)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		p.Check(ctxs[i%len(ctxs)], vigie.PermRead, targets[(i/4)%len(targets)])
		if len(samples) < cap(samples) {
			samples = append(samples, time.Since(t0))
		}
	}
	b.StopTimer()
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	if len(samples) > 0 {
		b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
	}
}
