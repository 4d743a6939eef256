package org

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// dump renders the whole organisation as text, to compare two runs.
func dump(t *testing.T, d *db.DB) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	units, err := listUnits(ctx, d, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		fmt.Fprintf(&b, "%d %s %s %d %s %s %d\n", u.ID, u.Dept, u.Kind, u.ParentID, u.Code, u.Name, u.Communes)
	}
	cs, err := listCommunes(ctx, d, "", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		fmt.Fprintf(&b, "%s %d %d\n", c.INSEE, c.BrigadeID, c.Population)
	}
	return b.String()
}

func TestSeedDemoAllPilots(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	start := time.Now()
	seed(t, d)
	t.Logf("SeedDemo of the 12 pilot départements on SQLite: %v", time.Since(start))
	ctx := context.Background()

	depts, err := listDepts(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, dp := range depts {
		codes = append(codes, dp.Code)
		if dp.Communes == 0 || dp.Assigned != dp.Communes {
			t.Errorf("département %s: %d communes, %d in a brigade; want all of them in one", dp.Code, dp.Communes, dp.Assigned)
		}
	}
	want := slices.Clone(PilotDepartements)
	sort.Strings(want)
	if !slices.Equal(codes, want) {
		t.Errorf("départements = %v, want %v", codes, want)
	}
	// Every commune of the embedded geometry is in exactly one brigade of its
	// own département (the primary key makes "at most one" hold).
	for _, code := range PilotDepartements {
		geo, err := pilotGeoJSON(code)
		if err != nil {
			t.Fatal(err)
		}
		communes, _, err := ParseCommunes(code, geo, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range communes {
			got, err := getCommune(ctx, d, c.INSEE)
			if err != nil {
				t.Errorf("commune %s: %v", c.INSEE, err)
				continue
			}
			if got.BrigadeID == 0 {
				t.Errorf("commune %s (%s) is in no brigade", c.INSEE, c.Name)
				continue
			}
			u, err := getUnit(ctx, d, got.BrigadeID)
			if err != nil || u.Kind != Brigade || u.Dept != code {
				t.Errorf("commune %s: unit %+v err %v, want a brigade of %s", c.INSEE, u, err, code)
			}
		}
	}
	// Shape of the tree: one groupement per département, compagnies under
	// it, brigades under compagnies, and a brigade named after its most
	// populous commune.
	units, err := listUnits(ctx, d, "")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]Unit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	kinds := map[string]map[Kind]int{}
	var pops []int64
	for _, u := range units {
		if kinds[u.Dept] == nil {
			kinds[u.Dept] = map[Kind]int{}
		}
		kinds[u.Dept][u.Kind]++
		if want := u.Kind.ParentKind(); want != "" && (byID[u.ParentID].Kind != want || byID[u.ParentID].Dept != u.Dept) {
			t.Errorf("unit %s (%s) hangs under %+v", u.Name, u.Kind, byID[u.ParentID])
		}
		if u.Kind == Brigade {
			var pop int64
			cs, _ := listCommunes(ctx, d, u.Dept, false)
			for _, c := range cs {
				if c.BrigadeID == u.ID {
					pop += c.Population
				}
			}
			pops = append(pops, pop)
		}
	}
	for dept, k := range kinds {
		if k[Groupement] != 1 || k[Compagnie] < 3 || k[Compagnie] > 7 || k[Brigade] < k[Compagnie] {
			t.Errorf("département %s: %v units by kind", dept, k)
		}
	}
	slices.Sort(pops)
	t.Logf("%d brigades; population p10 %d, median %d, p90 %d", len(pops), pops[len(pops)/10], pops[len(pops)/2], pops[len(pops)*9/10])
	if u := byID[mustBrigadeOf(t, d, "01053")]; u.Name != "Brigade de Bourg-en-Bresse" {
		t.Errorf("brigade of Bourg-en-Bresse is %q, want \"Brigade de Bourg-en-Bresse\"", u.Name)
	}
}

func mustBrigadeOf(t *testing.T, d *db.DB, insee string) int64 {
	t.Helper()
	c, err := getCommune(context.Background(), d, insee)
	if err != nil {
		t.Fatal(err)
	}
	return c.BrigadeID
}

func TestSeedDemoDeterministic(t *testing.T) {
	a, b := dbtest.OpenSQLite(t), dbtest.OpenSQLite(t)
	seed(t, a, "2A", "974", "69")
	seed(t, b, "2A", "974", "69")
	if da, db := dump(t, a), dump(t, b); da != db {
		t.Errorf("two runs of SeedDemo differ")
	}
	// Seeding again leaves existing départements alone.
	before := dump(t, a)
	seed(t, a, "2A")
	if after := dump(t, a); after != before {
		t.Errorf("a second SeedDemo changed a seeded département")
	}
}

func TestSeedDemoUnknown(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	err := d.InTx(context.Background(), func(tx *db.Tx) error { return SeedDemo(context.Background(), tx, "75") })
	if err == nil {
		t.Fatal("SeedDemo(75): no error, want one (75 is not a pilot)")
	}
}
