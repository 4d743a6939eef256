package org

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// bigTree stores one groupement, 30 compagnies and n brigades, and returns
// the ids: groupement, compagnies, brigades.
func bigTree(t testing.TB, d *db.DB, n int) (int64, []int64, []int64) {
	t.Helper()
	ctx := context.Background()
	var g int64
	var comps, brigs []int64
	err := d.InTx(ctx, func(tx *db.Tx) error {
		if err := storeDept(ctx, tx, &Departement{Code: "01", Name: "Ain", Zone: ZoneMetro, TimeZone: "Europe/Paris"}); err != nil {
			return err
		}
		u := Unit{Dept: "01", Kind: Groupement, Name: "G", Code: "G"}
		if err := insertUnit(ctx, tx, &u); err != nil {
			return err
		}
		g = u.ID
		for i := range 30 {
			c := Unit{Dept: "01", Kind: Compagnie, ParentID: g, Name: "C", Code: fmt.Sprint("C", i)}
			if err := insertUnit(ctx, tx, &c); err != nil {
				return err
			}
			comps = append(comps, c.ID)
		}
		for i := range n {
			b := Unit{Dept: "01", Kind: Brigade, ParentID: comps[i%30], Name: "B", Code: fmt.Sprint("B", i)}
			if err := insertUnit(ctx, tx, &b); err != nil {
				return err
			}
			brigs = append(brigs, b.ID)
		}
		return bumpVersion(ctx, tx, false)
	})
	if err != nil {
		t.Fatal(err)
	}
	return g, comps, brigs
}

func TestTree(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		g, comps, brigs := bigTree(t, d, 90)
		s := New(Config{DB: d, Journal: &memJournal{}})
		tr := s.Tree()
		tests := []struct {
			unit, ancestor int64
			want           bool
		}{
			{brigs[0], brigs[0], true},
			{brigs[0], comps[0], true},
			{brigs[0], g, true},
			{brigs[0], comps[1], false},
			{brigs[1], comps[1], true},
			{comps[0], brigs[0], false},
			{g, comps[0], false},
			{999999, 999999, false}, // an unknown unit is within nothing
			{brigs[0], 0, false},
			{0, 0, false},
		}
		for _, tt := range tests {
			if got := tr.Within(tt.unit, tt.ancestor); got != tt.want {
				t.Errorf("Within(%d, %d) = %v, want %v", tt.unit, tt.ancestor, got, tt.want)
			}
		}
		if got := tr.Dept(brigs[5]); got != "01" {
			t.Errorf("Dept = %q, want 01", got)
		}
		if got := tr.Kind(comps[2]); got != Compagnie {
			t.Errorf("Kind = %q, want compagnie", got)
		}
		if got := tr.Below(comps[0]); len(got) != 1+3 || got[0] != comps[0] {
			t.Errorf("Below(compagnie) = %v, want it and its 3 brigades", got)
		}

		// A change through this replica's service shows at once; another
		// replica (another Tree) sees it after its version check.
		other := NewTree(d, nil)
		if err := other.Load(ctx); err != nil {
			t.Fatal(err)
		}
		moved := brigs[0]
		if _, err := s.UpdateUnit(ctx, moved, UnitChange{ParentID: &comps[1]}); err != nil {
			t.Fatal(err)
		}
		if !tr.Within(moved, comps[1]) || tr.Within(moved, comps[0]) {
			t.Errorf("this replica's tree did not follow the move")
		}
		if !other.Within(moved, comps[0]) {
			t.Errorf("the other replica changed before checking its version")
		}
		if err := other.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !other.Within(moved, comps[1]) {
			t.Errorf("the other replica did not reload after the version changed")
		}
	})
}

// BenchmarkWithin measures the authorization question "is this brigade
// within that compagnie?" over a tree of 3000 brigades, and reports the
// 99th percentile of single calls.
func BenchmarkWithin(b *testing.B) {
	d := dbtest.OpenSQLite(b)
	_, comps, brigs := bigTree(b, d, 3000)
	tr := NewTree(d, nil)
	start := time.Now()
	if err := tr.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	var hits int
	i := 0
	for b.Loop() {
		if tr.Within(brigs[i%len(brigs)], comps[i%len(comps)]) {
			hits++
		}
		i++
	}
	// Percentiles of single decisions (timer resolution bounds the low end).
	lat := make([]time.Duration, 100000)
	for j := range lat {
		t0 := time.Now()
		tr.Within(brigs[j%len(brigs)], comps[(j*7)%len(comps)])
		lat[j] = time.Since(t0)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns")
	b.ReportMetric(float64(load.Microseconds()), "load-µs")
	if hits == 0 {
		b.Fatal("no brigade was within its compagnie")
	}
}
