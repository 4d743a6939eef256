package model

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie"
	"vigie/internal/analytics"
)

// metres is a projection that keeps coordinates: test events are given in
// grid metres directly.
type metres struct{}

func (metres) Forward(x, y float64) (float64, float64) { return x, y }
func (metres) Name() string                            { return "metres" }

// squareGrid is a side×side metre square cut in cells of size metres.
func squareGrid(t testing.TB, side, size float64) *analytics.Grid {
	t.Helper()
	b := analytics.Boundary{Polygons: []analytics.Polygon{{Outer: analytics.Ring{{0, 0}, {side, 0}, {side, side}, {0, side}, {0, 0}}}}}
	g, err := analytics.NewGrid(b, metres{}, size)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var t0 = time.Date(2020, 1, 6, 0, 0, 0, 0, time.UTC) // a Monday

// synthetic returns two years of clustered events on a 5 km square from t0:
// a few steady hot spots plus near-repeat bursts.
func synthetic(t testing.TB, g *analytics.Grid, seed uint64) []analytics.Event {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	spots := [][2]float64{{1000, 1000}, {3800, 1200}, {2500, 3900}, {4200, 4300}}
	var evs []analytics.Event
	for d := range 730 {
		for range 6 {
			var x, y float64
			if r.Float64() < 0.7 {
				s := spots[r.IntN(len(spots))]
				x, y = s[0]+r.NormFloat64()*200, s[1]+r.NormFloat64()*200
			} else {
				x, y = r.Float64()*5000, r.Float64()*5000
			}
			tm := t0.Add(time.Duration(d)*day + time.Duration(r.IntN(86400))*time.Second)
			evs = append(evs, analytics.Event{Time: tm, Lon: x, Lat: y})
			if r.Float64() < 0.2 { // a near repeat a few days later
				evs = append(evs, analytics.Event{Time: tm.Add(time.Duration(1+r.IntN(96)) * time.Hour), Lon: x + r.NormFloat64()*80, Lat: y + r.NormFloat64()*80})
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b analytics.Event) int { return a.Time.Compare(b.Time) })
	return g.Place(evs, analytics.Skipped{})
}

// TestNoFutureLeak plants events at and after the start of the period (a
// burst in one corner that history never saw) and checks that no model's
// forecast changes: each uses only events known before the period, even
// when its caller hands it more.
func TestNoFutureLeak(t *testing.T) {
	g := squareGrid(t, 5000, 250)
	h := synthetic(t, g, 1)
	p := analytics.Period{Start: t0.AddDate(0, 0, 7*90), End: t0.AddDate(0, 0, 7*91)}
	past := h[:since(h, p.Start)]
	var future []analytics.Event
	for i := range 200 {
		future = append(future, analytics.Event{Time: p.Start.Add(time.Duration(i) * time.Hour), Lon: 4900, Lat: 100})
	}
	future = g.Place(future, analytics.Skipped{})
	leaky := append(slices.Clone(past), future...)
	leaky = append(leaky, h[len(past):]...)
	slices.SortStableFunc(leaky, func(a, b analytics.Event) int { return a.Time.Compare(b.Time) })
	for _, m := range All() {
		t.Run(m.Name(), func(t *testing.T) {
			want, err := m.Forecast(past, p, g)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Forecast(leaky, p, g)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				c := g.CellAt(4900, 100)
				t.Errorf("forecast changed when future events were added (corner cell %g → %g)", want[c], got[c])
			}
		})
	}
}

// TestTooLittleHistory: with no history, or too short a one, every model
// says so with ErrTooLittleHistory (kind Invalid) instead of an empty map.
func TestTooLittleHistory(t *testing.T) {
	g := squareGrid(t, 5000, 250)
	h := synthetic(t, g, 2)
	p := analytics.Period{Start: t0.AddDate(0, 0, 14), End: t0.AddDate(0, 0, 21)}
	for _, m := range All() {
		_, err := m.Forecast(nil, p, g)
		if !errors.Is(err, analytics.ErrTooLittleHistory) || vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("%s, no history: err = %v, want ErrTooLittleHistory", m.Name(), err)
		}
	}
	// Two weeks of history: enough to count, not to fit ETAS (a year's
	// window) or Vigie's regression (a year of features + training weeks).
	for _, m := range []analytics.Model{DefaultETAS, DefaultVigie} {
		if _, err := m.Forecast(h, p, g); !errors.Is(err, analytics.ErrTooLittleHistory) {
			t.Errorf("%s, two weeks of history: err = %v, want ErrTooLittleHistory", m.Name(), err)
		}
	}
	for _, m := range []analytics.Model{analytics.Counts{}, DefaultKDE, DefaultProspective} {
		if _, err := m.Forecast(h, p, g); err != nil {
			t.Errorf("%s, two weeks of history: %v", m.Name(), err)
		}
	}
}

// TestKDEByHand: one event on a cell's centre scores 1 there, e^(−d²/2h²)
// one cell away, and nothing beyond 3h.
func TestKDEByHand(t *testing.T) {
	g := squareGrid(t, 2000, 100)
	e := g.Place([]analytics.Event{{Time: t0, Lon: 1050, Lat: 1050}}, analytics.Skipped{})
	k := KDE{Weeks: 1, Bandwidth: 100}
	s, err := k.Forecast(e, analytics.Period{Start: t0.AddDate(0, 0, 1), End: t0.AddDate(0, 0, 8)}, g)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		x, y, want float64
	}{
		{1050, 1050, 1},
		{1150, 1050, math.Exp(-0.5)},
		{1150, 1150, math.Exp(-1)},
		{1350, 1050, math.Exp(-4.5)}, // exactly 3h: kept
		{1450, 1050, 0},
	} {
		if got := s[g.CellAt(tc.x, tc.y)]; math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("score at (%g, %g) = %g, want %g", tc.x, tc.y, got, tc.want)
		}
	}
	// Out of the window: not counted.
	if _, err := k.Forecast(e, analytics.Period{Start: t0.AddDate(0, 0, 8), End: t0.AddDate(0, 0, 15)}, g); !errors.Is(err, analytics.ErrTooLittleHistory) {
		t.Errorf("event older than the window: err = %v, want ErrTooLittleHistory", err)
	}
}

// TestProspectiveByHand: an event 2 weeks and a day old weighs 1/(1+2)
// in its cell and 1/(1+1)·1/3 one cell away; 2 cells away is beyond 150 m.
func TestProspectiveByHand(t *testing.T) {
	g := squareGrid(t, 1000, 100)
	p := analytics.Period{Start: t0.AddDate(0, 0, 15), End: t0.AddDate(0, 0, 22)}
	e := g.Place([]analytics.Event{{Time: t0, Lon: 520, Lat: 540}}, analytics.Skipped{})
	s, err := Prospective{Weeks: 4, Radius: 150}.Forecast(e, p, g)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ x, y, want float64 }{
		{550, 550, 1.0 / 3},
		{650, 550, 1.0 / 2 / 3},
		{650, 650, 1.0 / (1 + math.Sqrt2) / 3},
		{750, 550, 0},
	} {
		if got := s[g.CellAt(tc.x, tc.y)]; math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("score at (%g, %g) = %g, want %g", tc.x, tc.y, got, tc.want)
		}
	}
}

// TestETASRecoversParameters simulates a self-exciting process with known
// parameters and checks that EM finds them back.
func TestETASRecoversParameters(t *testing.T) {
	const (
		theta, omega, sigma = 0.4, 0.2, 150.0 // 0.4 offspring, mean delay 5 days, 150 m
		side                = 10000.0
		perDay              = 8.0 // background events a day
	)
	g := squareGrid(t, side, 250)
	r := rand.New(rand.NewPCG(7, 7))
	span := 400.0 // days
	var evs []analytics.Event
	var queue []analytics.Event
	for range int(perDay * span) {
		// Background in four hot blocks and a uniform rest.
		x, y := r.Float64()*side, r.Float64()*side
		if r.Float64() < 0.5 {
			x, y = 2000+r.Float64()*1000+float64(r.IntN(2))*5000, 2000+r.Float64()*1000+float64(r.IntN(2))*5000
		}
		queue = append(queue, analytics.Event{Time: t0.Add(time.Duration(r.Float64() * span * float64(day))), Lon: x, Lat: y})
	}
	for len(queue) > 0 {
		e := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		evs = append(evs, e)
		n := poisson(r, theta)
		for range n {
			c := analytics.Event{
				Time: e.Time.Add(time.Duration(r.ExpFloat64() / omega * float64(day))),
				Lon:  e.Lon + r.NormFloat64()*sigma, Lat: e.Lat + r.NormFloat64()*sigma,
			}
			if c.Time.Before(t0.Add(time.Duration(span * float64(day)))) {
				queue = append(queue, c)
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b analytics.Event) int { return a.Time.Compare(b.Time) })
	evs = g.Place(evs, analytics.Skipped{})
	p := analytics.Period{Start: t0.AddDate(0, 0, 400), End: t0.AddDate(0, 0, 407)}
	m := DefaultETAS
	m.BgBandwidth = 250
	f, err := m.Fit(evs, p, g)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("events %d pairs %d iterations %d converged %v: θ %.3f ω %.3f σ %.1f", f.Events, f.Pairs, f.Iter, f.Converged, f.Theta, f.Omega, f.Sigma)
	if !f.Converged {
		t.Errorf("EM did not converge in %d iterations", f.Iter)
	}
	near := func(what string, got, want, rel float64) {
		if math.Abs(got-want) > rel*want {
			t.Errorf("%s = %.3f, want %.3f ± %.0f %%", what, got, want, 100*rel)
		}
	}
	near("θ", f.Theta, theta, 0.15)
	near("ω", f.Omega, omega, 0.2)
	near("σ", f.Sigma, sigma, 0.15)
	var bg float64
	for _, mu := range f.Mu {
		bg += mu
	}
	near("background per day", bg, perDay, 0.15)
}

func poisson(r *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= r.Float64()
		if p < l {
			return k
		}
		k++
	}
}

// TestVigieLearnsSource: a source (say plate-reader alerts) whose alerts
// in a cell announce offences there the following week. The combined model
// must weigh it positively, catch more with it than without it, and name
// it among the reasons of a flagged cell.
func TestVigieLearnsSource(t *testing.T) {
	g := squareGrid(t, 5000, 250)
	r := rand.New(rand.NewPCG(3, 3))
	base := synthetic(t, g, 3)
	var alerts, extra []analytics.Event
	for w := range 104 {
		for range 4 { // four cells a week get alerts, then offences
			x, y := r.Float64()*5000, r.Float64()*5000
			ws := t0.AddDate(0, 0, 7*w)
			for range 3 {
				alerts = append(alerts, analytics.Event{Time: ws.Add(time.Duration(r.IntN(7*24)) * time.Hour), Lon: x, Lat: y})
			}
			for range 4 {
				extra = append(extra, analytics.Event{Time: ws.AddDate(0, 0, 7).Add(time.Duration(r.IntN(7*24)) * time.Hour), Lon: x + r.NormFloat64()*40, Lat: y + r.NormFloat64()*40})
			}
		}
	}
	sortPlace := func(e []analytics.Event) []analytics.Event {
		slices.SortStableFunc(e, func(a, b analytics.Event) int { return a.Time.Compare(b.Time) })
		return g.Place(e, analytics.Skipped{})
	}
	alerts = sortPlace(alerts)
	events := sortPlace(append(base, extra...))
	with := Vigie{TrainWeeks: 12, Lambda: 1, Sources: []Source{{Name: "plate-reader alerts", Events: alerts}}}
	without := Vigie{TrainWeeks: 12, Lambda: 1}
	res, err := analytics.Backtest(events, g, analytics.Config{
		Models: []analytics.Model{analytics.Counts{}, without, with}, From: t0.AddDate(0, 0, 7*80), Weeks: 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	hrWithout, hrWith := res.Methods[1].HitRate[3], res.Methods[2].HitRate[3]
	t.Logf("HR@5%%: counts %.1f, without source %.1f, with %.1f", res.Methods[0].HitRate[3], hrWithout, hrWith)
	if hrWith < hrWithout+3 {
		t.Errorf("HR@5%% with the source %.1f, without %.1f: the source's signal was not learnt", hrWith, hrWithout)
	}
	p := analytics.Period{Start: t0.AddDate(0, 0, 7*90), End: t0.AddDate(0, 0, 7*91)}
	f, err := with.Fit(events, p, g)
	if err != nil {
		t.Fatal(err)
	}
	if b := f.Beta[len(vigieFeatures)+1]; !(b > 0) {
		t.Errorf("weight of recent alerts = %g, want > 0 (weights %v)", b, f.Beta)
	}
	// The cell of an alert in the week before p: its reasons name the source.
	last := alerts[since(alerts, p.Start)-1]
	rs, err := with.Reasons(events, p, g, []int{last.Cell})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs[0]) == 0 || rs[0][0].Kind != analytics.ReasonSource || rs[0][0].Source != "plate-reader alerts" {
		t.Errorf("reasons of an alerted cell = %v, want the alerts first", rs[0])
	}
	t.Logf("reasons: %v", rs[0])
}

// TestReasons: each explaining model says something for a hot cell, in
// words with the numbers.
func TestReasons(t *testing.T) {
	g := squareGrid(t, 5000, 250)
	h := synthetic(t, g, 4)
	p := analytics.Period{Start: t0.AddDate(0, 0, 7*90), End: t0.AddDate(0, 0, 7*91)}
	hot := g.CellAt(1000, 1000)
	for _, m := range All() {
		ex, ok := m.(analytics.Explainer)
		if !ok {
			continue
		}
		rs, err := ex.Reasons(h, p, g, []int{hot})
		if err != nil {
			t.Fatalf("%s: %v", m.Name(), err)
		}
		if len(rs) != 1 || len(rs[0]) == 0 {
			t.Errorf("%s: no reason for a hot spot's cell", m.Name())
			continue
		}
		t.Logf("%s: %v", m.Name(), rs[0])
		if _, err := ex.Reasons(h, p, g, []int{g.Len()}); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("%s: a cell off the grid: err = %v, want kind Invalid", m.Name(), err)
		}
	}
	for _, tc := range []struct {
		r    analytics.Reason
		want string
	}{
		{analytics.Reason{Kind: analytics.ReasonNearRepeat, Events: 4, Radius: 300, Days: 14}, "4 events within 300 m in the last 14 days"},
		{analytics.Reason{Kind: analytics.ReasonLongTerm, Events: 57, Top: 2}, "long-term level high (top 2 %) (57 events since records began)"},
		{analytics.Reason{Kind: analytics.ReasonSource, Source: "plate-reader alerts", Events: 12, Radius: 250, Days: 7}, "12 plate-reader alerts within 250 m in the last 7 days"},
		{analytics.Reason{Kind: analytics.ReasonRecent, Events: 3, Days: 28}, "3 events in the cell in the last 28 days"},
		{analytics.Reason{Kind: analytics.ReasonDensity, Events: 340, Radius: 200, Days: 728, Top: 3}, "340 events within 200 m in the last 728 days; level high (top 3 %)"},
		{analytics.Reason{Kind: analytics.ReasonTriggered, Events: 0.42}, "0.4 events expected as follow-ups of recent nearby events"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v = %q, want %q", tc.r, got, tc.want)
		}
	}
}

// TestCards: every model describes itself: a title, a method, data and at
// least one known limit.
func TestCards(t *testing.T) {
	for _, m := range All() {
		c, ok := m.(analytics.Carded)
		if !ok {
			t.Errorf("%s has no card", m.Name())
			continue
		}
		card := c.Card()
		if card.Name != m.Name() || card.Title == "" || card.Method == "" || card.Data == "" || len(card.Limits) == 0 {
			t.Errorf("%s: incomplete card %+v", m.Name(), card)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		spec, want string
	}{
		{"all", "counts-all,counts-52w,counts-4w,kde-104w-100m,prospective-16w-250m,etas,vigie"},
		{"counts-all, KDE ,kde", "counts-all,kde-104w-100m"},
		{"counts-13w,vigie", "counts-13w,vigie"},
	} {
		ms, err := Parse(tc.spec)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		var names []string
		for _, m := range ms {
			names = append(names, m.Name())
		}
		if got := strings.Join(names, ","); got != tc.want {
			t.Errorf("%q = %s, want %s", tc.spec, got, tc.want)
		}
	}
	for _, bad := range []string{"", " , ", "prophet", "counts-0w", "counts-07w", "counts-999w", "counts-w"} {
		if _, err := Parse(bad); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("%q: err = %v, want kind Invalid", bad, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"all", "counts-4w,kde", "counts-", "vigie,,etas", "counts-1000000000000000000000w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := Parse(s)
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid {
				t.Fatalf("%q: error of kind %v", s, vigie.KindOf(err))
			}
			return
		}
		if len(ms) == 0 {
			t.Fatalf("%q: no model and no error", s)
		}
	})
}
