package analytics

import (
	"bytes"
	"encoding/xml"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// series is a baseline's weekly hit rates plus a gain and noise.
func series(base []float64, gain, noise float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([]float64, len(base))
	for i, b := range base {
		out[i] = b + gain + noise*r.NormFloat64()
	}
	return out
}

// TestShippingRule: the rule offers a model only when it beats the best
// count baseline by more than the noise, and by enough to matter.
func TestShippingRule(t *testing.T) {
	base := series(make([]float64, 52), 31, 2.6, 1)
	noisy := make([]float64, 52) // +0.6 on average, ±6 from week to week
	for i := range noisy {
		noisy[i] = base[i] + 0.6 + 6*float64(1-2*(i%2))
	}
	few := series(base, 3, 0.5, 6)
	for i := 10; i < 52; i++ {
		few[i] = math.NaN() // skipped weeks: only 10 paired
	}
	methods := []struct {
		name   string
		weekly []float64
		offer  bool
		why    string
	}{
		{"counts-all", base, true, "Best count baseline"},
		{"clear-gain", series(base, 2, 1, 2), true, "Beats counts-all"},
		{"tiny-gain", series(base, 0.3, 0.2, 3), false, "below 0.5 point"},
		{"noisy", noisy, false, "within the week-to-week noise"},
		{"worse", series(base, -1, 1, 5), false, "Does not beat"},
		{"few-weeks", few, false, "Only 10 weeks"},
	}
	res := &Result{Baseline: "counts-all", Coverages: []float64{KeyCoverage}}
	for _, m := range methods {
		res.Methods = append(res.Methods, Method{Name: m.name, Weekly: m.weekly, Paired: pair(m.weekly, base, "counts-all")})
	}
	ds := DefaultRule.Decide(res)
	verdicts := []string{"baseline", "offered", "small-gain", "noise", "no-gain", "few-weeks"}
	for i, m := range methods {
		d := ds[i]
		if v := d.Verdict(DefaultRule); v != verdicts[i] {
			t.Errorf("%s: verdict %q, want %q", m.name, v, verdicts[i])
		}
		t.Logf("%-11s gain %+.2f sd %.2f p_t %.3g p_w %.3g: %s", d.Name, d.Gain, d.SD, d.PT, d.PW, d.Why)
		if d.Offered != m.offer || !strings.Contains(d.Why, m.why) {
			t.Errorf("%s: offered %v (%s), want %v (%q)", m.name, d.Offered, d.Why, m.offer, m.why)
		}
	}
	if got := Offered(ds); got != "clear-gain" {
		t.Errorf("Offered = %q, want clear-gain", got)
	}
	if got := Offered(ds[:1]); got != "counts-all" {
		t.Errorf("Offered with the baseline only = %q, want counts-all", got)
	}
}

// TestPValues checks both tests against values computed by hand.
func TestPValues(t *testing.T) {
	// t = 2 with 10 degrees of freedom: one-sided p = 0.036694 (tables).
	near(t, "paired t p", tTestOneSided(Paired{N: 11, MeanDiff: 2, SD: 2 * math.Sqrt(11) / 2, T: 2}), 0.036694, 1e-5)
	// Differences 1..20, all positive: W+ = 210, mean 105, sd √717.5;
	// z = (210 − 105 − 0.5)/26.7862 = 3.9013, p = 4.785e-5.
	d := make([]float64, 20)
	for i := range d {
		d[i] = float64(i + 1)
	}
	near(t, "Wilcoxon p", wilcoxonOneSided(d), 4.785e-5, 2e-7)
	// Symmetric differences: p about one half.
	near(t, "Wilcoxon p, symmetric", wilcoxonOneSided([]float64{-3, -2, -1, 1, 2, 3}), 0.5, 0.12)
	if p := wilcoxonOneSided([]float64{0, 0}); p != 1 {
		t.Errorf("Wilcoxon p of zeros = %g, want 1", p)
	}
}

// TestBacktestRegions: a region is scored on its own cells; a model
// perfect in one region and blind in the other shows it.
func TestBacktestRegions(t *testing.T) {
	g := &Grid{Size: 1, centers: make([][2]float64, 40)}
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	var events []Event
	for d := 1; d <= 21; d++ {
		events = append(events, Event{Time: day(d), Cell: 3}, Event{Time: day(d), Cell: 30})
	}
	// A model that ranks cell 3 top and cell 30 last.
	scores := make([]float64, 40)
	scores[3] = 1
	scores[30] = -1
	fixed := fixedScores{scores}
	res, err := Backtest(events, g, Config{
		Models: []Model{Counts{}, fixed}, From: day(8), Weeks: 2, Coverages: []float64{0.05, 0.5},
		Regions: []Region{{"west", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}}, {"east", []int{20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Regions) != 2 {
		t.Fatalf("regions = %d, want 2", len(res.Regions))
	}
	// Whole grid, 5 % = 2 cells: cell 3 plus one of the 38 tied zeros.
	near(t, "whole HR@5%", res.Methods[1].HitRate[0], 50, 1e-9)
	// West, 5 % = 1 cell: cell 3 alone, all of the west's events.
	near(t, "west HR@5%", res.Regions[0].Methods[1].HitRate[0], 100, 1e-9)
	// East, 50 % = 10 cells: cell 30 ranks last, caught never.
	near(t, "east HR@50%", res.Regions[1].Methods[1].HitRate[1], 0, 1e-9)
	if _, err := Backtest(events, g, Config{Models: []Model{Counts{}}, From: day(8), Weeks: 1, Regions: []Region{{"bad", []int{40}}}}); err == nil {
		t.Error("a region with a cell outside the grid was accepted")
	}
}

type fixedScores struct{ s []float64 }

func (fixedScores) Name() string                                         { return "fixed" }
func (f fixedScores) Forecast([]Event, Period, *Grid) ([]float64, error) { return f.s, nil }

// TestChicagoRegions: the districts of the KML, by Placemark name: the 22
// police districts and district 31 (O'Hare airport, three polygons).
func TestChicagoRegions(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the Chicago data")
	}
	_, g, _ := loadChicago(t)
	rs := g.Regions()
	total := 0
	for _, r := range rs {
		total += len(r.Cells)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	if len(rs) != 23 || total != g.Len() {
		t.Logf("regions: %q", names)
		t.Errorf("regions %d covering %d cells; want the 23 named districts (22 and 31, the airport) covering all %d", len(rs), total, g.Len())
	}
}

// TestWriteChart: the chart is well-formed SVG that names every method.
func TestWriteChart(t *testing.T) {
	res := &Result{Cells: 10, Weeks: 2, Baseline: "counts-all", Coverages: DefaultCoverages,
		Periods: []Period{{Start: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)}}}
	for i, name := range []string{"counts-all", "kde <&>", "vigie"} {
		m := Method{Name: name, Paired: Paired{N: 10, MeanDiff: float64(i) - 0.5, SD: 1}}
		for k := range DefaultCoverages {
			m.HitRate = append(m.HitRate, float64(10*k+i))
		}
		res.Methods = append(res.Methods, m)
	}
	var b bytes.Buffer
	if err := WriteChart(&b, res, "test"); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	d := xml.NewDecoder(&b)
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v", err)
			}
			break
		}
	}
	for _, want := range []string{"counts-all", "kde &lt;&amp;&gt;", "vigie", "<polyline"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}

// TestCardsCarryFigures: a card carries the model's description and the
// figures and decision of the backtest it is built from.
func TestCardsCarryFigures(t *testing.T) {
	g := &Grid{Size: 250, centers: make([][2]float64, 4)}
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	events := []Event{{Time: day(1), Cell: 1}, {Time: day(9), Cell: 1}, {Time: day(16), Cell: 2}}
	models := []Model{Counts{}, Counts{Weeks: 1}}
	res, err := Backtest(events, g, Config{Models: models, From: day(8), Weeks: 2})
	if err != nil {
		t.Fatal(err)
	}
	ds := DefaultRule.Decide(res)
	cards := Cards(models, res, g, ds)
	if len(cards) != 2 {
		t.Fatalf("cards = %d, want 2", len(cards))
	}
	c := cards[0]
	if c.Name != "counts-all" || c.Title == "" || len(c.Limits) == 0 || c.Metrics == nil {
		t.Fatalf("card %+v", c)
	}
	if c.Metrics.From != "2024-01-08" || c.Metrics.To != "2024-01-21" || c.Metrics.Weeks != 2 || c.Metrics.CellSize != 250 {
		t.Errorf("card period %s..%s, %d weeks, %g m", c.Metrics.From, c.Metrics.To, c.Metrics.Weeks, c.Metrics.CellSize)
	}
	if !c.Metrics.Decision.Offered || cards[1].Metrics.Decision.Offered {
		t.Errorf("decisions on the cards: %v, %v", c.Metrics.Decision, cards[1].Metrics.Decision)
	}
	rs, err := Counts{}.Reasons(events[:1], Period{day(8), day(15)}, g, []int{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rs[0][0].String(), "long-term level above median (top 25 %) (1 events since records began)"; got != want {
		t.Errorf("reason = %q, want %q", got, want)
	}
	if rs[1][0].Events != 0 {
		t.Errorf("empty cell's reason counts %g events", rs[1][0].Events)
	}
}

// alternating flags cells 0-1 on even weeks and 2-3 on odd weeks.
type alternating struct{ from time.Time }

func (alternating) Name() string { return "alternating" }
func (a alternating) Forecast(_ []Event, p Period, g *Grid) ([]float64, error) {
	s := make([]float64, g.Len())
	w := int(p.Start.Sub(a.from).Hours()) / (24 * 7)
	s[2*(w%2)], s[2*(w%2)+1] = 1, 1
	return s, nil
}

// TestRepeat: how often the same cells are flagged week after week.
func TestRepeat(t *testing.T) {
	g := &Grid{Size: 1, centers: make([][2]float64, 40)} // 5 % = 2 cells
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	var events []Event
	for d := 1; d <= 31; d++ {
		events = append(events, Event{Time: day(d), Cell: d % 7})
	}
	scores := make([]float64, 40)
	scores[5], scores[9] = 2, 1
	res, err := Backtest(events, g, Config{Models: []Model{Counts{}, fixedScores{scores}, alternating{day(8)}}, From: day(8), Weeks: 3})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "repeat of a fixed forecast", res.Methods[1].Repeat, 1, 0)
	near(t, "repeat of an alternating forecast", res.Methods[2].Repeat, 0, 0)
	if got := topCells([]float64{0, 3, math.NaN(), 3, 1}, 2); !slices.Equal(got, []int32{1, 3}) {
		t.Errorf("topCells = %v, want [1 3]", got)
	}
}
