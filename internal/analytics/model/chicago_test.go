package model

import (
	"math"
	"os"
	"testing"
	"time"

	"vigie/internal/analytics"
)

// loadChicago reads the real Chicago data of ../testdata on a 250 m grid.
func loadChicago(tb testing.TB) ([]analytics.Event, *analytics.Grid) {
	tb.Helper()
	f, err := os.Open("../testdata/chicago_police_districts.kml")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b, err := analytics.ReadBoundary(f)
	if err != nil {
		tb.Fatal(err)
	}
	g, err := analytics.NewGrid(b, analytics.ProjectionFor(b), 250)
	if err != nil {
		tb.Fatal(err)
	}
	ef, err := os.Open("../testdata/chicago_aggravated_assaults.csv.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer ef.Close()
	events, skipped, err := analytics.ReadEvents(ef, analytics.Columns{})
	if err != nil {
		tb.Fatal(err)
	}
	return g.Place(events, skipped), g
}

// TestChicagoPublishedSettings reproduces the README's figures for the
// published settings of KDE (52 weeks, 200 m) and prospective hotspotting
// (8 weeks, 400 m) on 2019: the models are the ones the literature means.
func TestChicagoPublishedSettings(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 148,636 events")
	}
	events, g := loadChicago(t)
	res, err := analytics.Backtest(events, g, analytics.Config{
		Models: []analytics.Model{analytics.Counts{}, KDE{Weeks: 52, Bandwidth: 200}, PublishedProspective},
		From:   time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), Weeks: 52,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct{ hr5, pai5 float64 }{{31.0, 6.20}, {28.0, 5.60}, {23.7, 4.74}} {
		m := res.Methods[i]
		t.Logf("%-20s HR %.1f PAI@5%% %.2f", m.Name, m.HitRate, m.PAI[3])
		if math.Abs(m.HitRate[3]-want.hr5) > 0.5 {
			t.Errorf("%s HR@5%% = %.2f, want %.1f ± 0.5", m.Name, m.HitRate[3], want.hr5)
		}
	}
}

// TestChicagoETASFit: on a real year of events, EM converges and gives a
// stable process (θ < 1: each event has less than one direct offspring).
func TestChicagoETASFit(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 148,636 events")
	}
	events, g := loadChicago(t)
	s := time.Date(2019, 6, 3, 0, 0, 0, 0, time.UTC)
	f, err := DefaultETAS.Fit(events, analytics.Period{Start: s, End: s.AddDate(0, 0, 7)}, g)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("events %d, pairs %d, iterations %d, converged %v: θ %.3f, 1/ω %.1f days, σ %.1f m, log-likelihood %.1f",
		f.Events, f.Pairs, f.Iter, f.Converged, f.Theta, 1/f.Omega, f.Sigma, f.LogLik)
	if !f.Converged || !(f.Theta > 0 && f.Theta < 1) || !(f.Omega > 0) {
		t.Errorf("fit: converged %v, θ %g, ω %g", f.Converged, f.Theta, f.Omega)
	}
}

// TestTunedDefaults re-runs the tuning on 2017–2018 and checks that the
// default settings are the ones it picks. About 3 minutes on 2 cores: set
// VIGIE_TUNE=1 to run it.
func TestTunedDefaults(t *testing.T) {
	if os.Getenv("VIGIE_TUNE") == "" {
		t.Skip("set VIGIE_TUNE=1 to re-run the 2017–2018 tuning (about 3 minutes)")
	}
	events, g := loadChicago(t)
	tuned, err := Tune(events, g, Candidates(), time.Date(2017, 1, 2, 0, 0, 0, 0, time.UTC), 104)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"kde": DefaultKDE.Name(), "prospective": DefaultProspective.Name(), "etas": DefaultETAS.Name(), "vigie": DefaultVigie.Name()}
	for _, tu := range tuned {
		for _, m := range tu.Result.Methods {
			t.Logf("%-24s HR@5%% %.2f AUC %.3f", m.Name, m.HitRate[3], m.AUC)
		}
		if got := tu.Best.Name(); got != want[tu.Family] {
			t.Errorf("%s: tuning picks %s, the default is %s", tu.Family, got, want[tu.Family])
		}
	}
}
