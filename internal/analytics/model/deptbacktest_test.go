package model

import (
	"context"
	"testing"
	"time"

	"vigie"
	"vigie/internal/analytics"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/org"
)

type nopJournal struct{}

func (nopJournal) Record(context.Context, *db.Tx, vigie.Record) error { return nil }

// BenchmarkDeptBacktestDemo measures the nightly backtest of one
// département on the demo's two years of offences, with every model (the
// worker's setting: model.All(), BacktestWeeks weeks, the risk map's grid),
// and logs the figures and the rule's decision.
//
//	go test -run X -bench DeptBacktestDemo -benchtime 1x ./internal/analytics/model
func BenchmarkDeptBacktestDemo(b *testing.B) {
	for _, dept := range []string{"01", "974"} {
		b.Run(dept, func(b *testing.B) {
			d := dbtest.OpenSQLite(b)
			ctx := context.Background()
			if err := d.InTx(ctx, func(tx *db.Tx) error { return org.SeedDemo(ctx, tx, dept) }); err != nil {
				b.Fatal(err)
			}
			o := org.New(org.Config{DB: d, Journal: nopJournal{}})
			if err := o.Tree().Load(ctx); err != nil {
				b.Fatal(err)
			}
			now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
			svc := analytics.New(analytics.ServiceConfig{DB: d, Journal: nopJournal{}, Org: o, Tree: o.Tree(),
				Candidates: All(), Now: func() time.Time { return now }})
			if _, err := svc.SeedDemo(ctx, []string{dept}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				bt, err := svc.RunBacktest(ctx, dept, analytics.BacktestWeeks)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				k := bt.Key()
				b.Logf("%s: %d weeks, %d cells of %.0f m, %d offences, %s; offered %s (baseline %s)", dept, bt.Weeks, bt.Cells, bt.CellSize,
					bt.Events, bt.Duration.Round(time.Millisecond), bt.Offered, bt.Baseline)
				for _, m := range bt.Methods {
					b.Logf("  %-22s HR@5 %5.1f PAI %5.2f AUC %.3f sd %4.1f gain %+5.2f p %.3g %s", m.Name, m.HitRate[k], m.PAI[k], m.AUC,
						m.WeeklySD, m.Decision.Gain, max(m.Decision.PT, m.Decision.PW), m.Decision.Word())
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkRiskMapOffered measures a whole-département risk map (the Ain,
// week horizon) with the model its demo backtest offers (the map forecasts
// the period and the 8 previous weeks for the stability figure).
//
//	go test -run X -bench RiskMapOffered -benchtime 5x ./internal/analytics/model
func BenchmarkRiskMapOffered(b *testing.B) {
	d := dbtest.OpenSQLite(b)
	ctx := context.Background()
	if err := d.InTx(ctx, func(tx *db.Tx) error { return org.SeedDemo(ctx, tx, "01") }); err != nil {
		b.Fatal(err)
	}
	o := org.New(org.Config{DB: d, Journal: nopJournal{}})
	if err := o.Tree().Load(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	svc := analytics.New(analytics.ServiceConfig{DB: d, Journal: nopJournal{}, Org: o, Tree: o.Tree(),
		Candidates: All(), Now: func() time.Time { return now }})
	if _, err := svc.SeedDemo(ctx, []string{"01"}); err != nil {
		b.Fatal(err)
	}
	bt, err := svc.RunBacktest(ctx, "01", analytics.BacktestWeeks)
	if err != nil {
		b.Fatal(err)
	}
	units, err := o.Units(ctx, "01")
	if err != nil {
		b.Fatal(err)
	}
	var g org.Unit
	for _, u := range units {
		if u.Kind == org.Groupement {
			g = u
		}
	}
	b.ResetTimer()
	for b.Loop() {
		_, f, err := svc.RiskMap(ctx, g, analytics.ForecastOptions{Horizon: analytics.HorizonWeek})
		if err != nil || f.TooLittle || f.Model != bt.Offered {
			b.Fatalf("map: %v, model %s (offered %s)", err, f.Model, bt.Offered)
		}
	}
}
