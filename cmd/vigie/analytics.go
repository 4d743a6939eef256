package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"vigie"
	"vigie/internal/analytics"
	"vigie/internal/analytics/model"
)

// cmdAnalytics runs the forecasting tools on files: "vigie analytics
// backtest" scores the models week by week on past events against the count
// baselines and applies the shipping rule (analytics.DefaultRule).
func cmdAnalytics(_ context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) error {
	if len(args) == 0 || args[0] != "backtest" {
		return usageError{fmt.Errorf("say what to do: backtest")}
	}
	fs := newFlagSet("analytics backtest", stderr)
	events := fs.String("events", "", "events CSV (gzip accepted) with a time and WGS84 longitude, latitude columns")
	boundary := fs.String("boundary", "", "boundary in WGS84: GeoJSON or KML")
	cell := fs.Float64("cell", 250, "cell side in metres")
	from := fs.String("from", "", "first day of the first weekly period, YYYY-MM-DD (default: 52 weeks before the week of the last event)")
	weeks := fs.Int("weeks", 52, "number of weekly periods")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	models := fs.String("models", "all", "comma-separated models: all, counts-all, counts-<N>w, kde, prospective, etas, vigie")
	districts := fs.Bool("districts", false, "also score each named polygon of the boundary (KML Placemark) on its own")
	svg := fs.String("svg", "", "write a chart of the result to this SVG file")
	var sources sourceFlags
	fs.Var(&sources, "source", "another source for Vigie's model, NAME=FILE.csv (same columns as --events); repeatable")
	cols := analytics.Columns{}
	fs.StringVar(&cols.Time, "time-col", "", "name of the time column (default: date, occurred_at, time or datetime)")
	fs.StringVar(&cols.Lon, "lon-col", "", "name of the longitude column (default: lon, longitude or x)")
	fs.StringVar(&cols.Lat, "lat-col", "", "name of the latitude column (default: lat, latitude or y)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if *events == "" || *boundary == "" {
		return usageError{fmt.Errorf("--events and --boundary are required")}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}

	var fromDay time.Time
	if *from != "" {
		var err error
		if fromDay, err = time.Parse(time.DateOnly, *from); err != nil {
			return usageError{fmt.Errorf("--from %q: want YYYY-MM-DD", *from)}
		}
	}
	if *weeks <= 0 || *weeks > 1000 {
		return usageError{fmt.Errorf("--weeks must be between 1 and 1000")}
	}
	ms, err := model.Parse(*models)
	if err != nil {
		return usageError{err}
	}

	bf, err := os.Open(*boundary)
	if err != nil {
		return vigie.E(vigie.KindInvalid, "analytics.backtest", "The boundary file cannot be opened.", err)
	}
	b, err := analytics.ReadBoundary(bf)
	bf.Close()
	if err != nil {
		return err
	}
	g, err := analytics.NewGrid(b, analytics.ProjectionFor(b), *cell)
	if err != nil {
		return err
	}
	ef, err := os.Open(*events)
	if err != nil {
		return vigie.E(vigie.KindInvalid, "analytics.backtest", "The events file cannot be opened.", err)
	}
	evs, skipped, err := analytics.ReadEvents(ef, cols)
	ef.Close()
	if err != nil {
		return err
	}
	evs = g.Place(evs, skipped)
	var srcs []model.Source
	for _, sf := range sources {
		f, err := os.Open(sf.path)
		if err != nil {
			return vigie.E(vigie.KindInvalid, "analytics.backtest", fmt.Sprintf("The source file of %q cannot be opened.", sf.name), err)
		}
		se, sskip, err := analytics.ReadEvents(f, cols)
		f.Close()
		if err != nil {
			return err
		}
		se = g.Place(se, sskip)
		for reason, n := range sskip {
			skipped["source "+sf.name+": "+reason] += n
		}
		srcs = append(srcs, model.Source{Name: sf.name, Events: se})
	}
	if len(srcs) > 0 {
		// Vigie's model with the sources runs next to the one without, so
		// the backtest shows what they add.
		for i, m := range ms {
			if v, ok := m.(model.Vigie); ok {
				v.Sources = srcs
				ms = slices.Insert(ms, i+1, analytics.Model(v))
				break
			}
		}
	}
	if len(evs) == 0 {
		return vigie.Invalidf("analytics.backtest", "No event falls inside the boundary (%d rows skipped).", skipped.Total())
	}

	start := defaultStart(evs[len(evs)-1].Time, *weeks)
	if *from != "" {
		start = fromDay
	}
	cfg := analytics.Config{
		Models: ms,
		From:   start,
		Weeks:  *weeks,
	}
	if *districts {
		cfg.Regions = g.Regions()
	}
	if !*asJSON {
		cfg.Progress = func(done, total int) { progress(stderr, done, total) }
	}
	res, err := analytics.Backtest(evs, g, cfg)
	if err != nil {
		return err
	}
	decisions := analytics.DefaultRule.Decide(res)
	if *svg != "" {
		f, err := os.Create(*svg)
		if err != nil {
			return vigie.E(vigie.KindInvalid, "analytics.backtest", "The chart file cannot be created.", err)
		}
		werr := analytics.WriteChart(f, res, fmt.Sprintf("Backtest: %d weekly forecasts, %g m cells", res.Weeks, g.Size))
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return vigie.E(vigie.KindInternal, "analytics.backtest", "", werr)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(jsonResult(res, g, len(evs), skipped, decisions))
	}
	printResult(stdout, res, g, len(evs), skipped, decisions)
	return nil
}

// defaultStart is 52 (or weeks) whole weeks ending at the Monday of the last
// event's week, so that no partial week is scored.
func defaultStart(last time.Time, weeks int) time.Time {
	d := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
	monday := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, -7*weeks)
}

func progress(w io.Writer, done, total int) {
	const width = 30
	n := done * width / total
	fmt.Fprintf(w, "\rbacktest [%s%s] %d/%d weeks", strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
	if done == total {
		fmt.Fprintln(w)
	}
}

type jsonMethod struct {
	Name     string             `json:"name"`
	HitRate  map[string]float64 `json:"hit_rate"`
	PAI      map[string]float64 `json:"pai"`
	PEI      map[string]float64 `json:"pei"`
	AUC      float64            `json:"auc"`
	WeeklySD float64            `json:"weekly_sd"`
	Skipped  int                `json:"skipped"`
	Repeat   float64            `json:"flagged_again"` // % of 5 % cells flagged the week before too
	Paired   *jsonPaired        `json:"paired,omitempty"`
	Decision jsonDecision       `json:"decision"`
}

type jsonDecision struct {
	Offered   bool    `json:"offered"`
	Why       string  `json:"why"`
	PT        float64 `json:"p_t,omitempty"`
	PWilcoxon float64 `json:"p_wilcoxon,omitempty"`
}

type jsonRegion struct {
	Name     string             `json:"name"`
	Cells    int                `json:"cells"`
	Weeks    int                `json:"weeks"`
	Baseline string             `json:"baseline"`
	HitRate5 map[string]float64 `json:"hit_rate_5"`
	Gain     map[string]float64 `json:"gain_5"`
}

type jsonPaired struct {
	Against  string  `json:"against"`
	Weeks    int     `json:"weeks"`
	MeanDiff float64 `json:"mean_diff"`
	SD       float64 `json:"sd"`
	T        float64 `json:"t"`
}

type jsonOut struct {
	Cells      int            `json:"cells"`
	Weeks      int            `json:"weeks"`
	AreaKm2    float64        `json:"area_km2"`
	Projection string         `json:"projection"`
	From       string         `json:"from"`
	Events     int            `json:"events"`
	Skipped    map[string]int `json:"skipped"`
	Baseline   string         `json:"baseline"`
	Offered    string         `json:"offered"`
	Methods    []jsonMethod   `json:"methods"`
	Regions    []jsonRegion   `json:"regions,omitempty"`
}

func jsonResult(res *analytics.Result, g *analytics.Grid, events int, skipped analytics.Skipped, ds []analytics.Decision) jsonOut {
	out := jsonOut{
		Cells: res.Cells, Weeks: res.Weeks, AreaKm2: round(g.Area(), 1), Projection: g.Proj.Name(),
		From: res.Periods[0].Start.Format(time.DateOnly), Events: events, Skipped: skipped,
		Baseline: res.Baseline, Offered: analytics.Offered(ds), Methods: []jsonMethod{},
	}
	k5 := slices.Index(res.Coverages, analytics.KeyCoverage)
	for _, r := range res.Regions {
		jr := jsonRegion{Name: r.Name, Cells: r.Cells, Weeks: r.Weeks, Baseline: r.Baseline, HitRate5: map[string]float64{}, Gain: map[string]float64{}}
		for _, m := range r.Methods {
			jr.HitRate5[m.Name] = round(m.HitRate[k5], 2)
			jr.Gain[m.Name] = round(m.Paired.MeanDiff, 2)
		}
		out.Regions = append(out.Regions, jr)
	}
	for i, m := range res.Methods {
		jm := jsonMethod{
			Name: m.Name, HitRate: map[string]float64{}, PAI: map[string]float64{}, PEI: map[string]float64{},
			AUC: round(m.AUC, 4), WeeklySD: round(m.WeeklySD, 2), Skipped: m.Skipped, Repeat: round(100*m.Repeat, 1),
		}
		for k, c := range res.Coverages {
			key := strconv.FormatFloat(100*c, 'f', -1, 64)
			jm.HitRate[key], jm.PAI[key], jm.PEI[key] = round(m.HitRate[k], 2), round(m.PAI[k], 3), round(m.PEI[k], 4)
		}
		if res.Baseline != "" && m.Name != res.Baseline {
			p := m.Paired
			jm.Paired = &jsonPaired{p.Against, p.N, round(p.MeanDiff, 3), round(p.SD, 3), round(p.T, 3)}
		}
		d := ds[i]
		jm.Decision = jsonDecision{Offered: d.Offered, Why: d.Why, PT: round(d.PT, 6), PWilcoxon: round(d.PW, 6)}
		out.Methods = append(out.Methods, jm)
	}
	return out
}

// round keeps JSON readable; NaN (nothing scored) becomes 0 since JSON has
// no NaN, and the method's skipped count says why.
func round(x float64, digits int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func printResult(w io.Writer, res *analytics.Result, g *analytics.Grid, events int, skipped analytics.Skipped, ds []analytics.Decision) {
	fmt.Fprintf(w, "%d cells of %g m (%.1f km², %s); %d weeks from %s; %d events used",
		res.Cells, g.Size, g.Area(), g.Proj.Name(), res.Weeks, res.Periods[0].Start.Format(time.DateOnly), events)
	if res.Empty > 0 {
		fmt.Fprintf(w, "; %d weeks without events left out", res.Empty)
	}
	fmt.Fprintln(w)
	if n := skipped.Total(); n > 0 {
		reasons := make([]string, 0, len(skipped))
		for r, c := range skipped {
			reasons = append(reasons, fmt.Sprintf("%s %d", r, c))
		}
		sort.Strings(reasons)
		fmt.Fprintf(w, "%d rows skipped: %s\n", n, strings.Join(reasons, ", "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "method\t")
	for _, c := range res.Coverages {
		fmt.Fprintf(tw, "HR@%g%%\t", 100*c)
	}
	fmt.Fprint(tw, "PAI@5%\tPEI*@5%\tAUC\tsd/wk\tagain\tvs best\tt\toffered\t\n")
	k5 := -1
	for k, c := range res.Coverages {
		if c == analytics.KeyCoverage {
			k5 = k
		}
	}
	for i, m := range res.Methods {
		offered := "no"
		if ds[i].Offered {
			offered = "yes"
		}
		fmt.Fprintf(tw, "%s\t", m.Name)
		for _, h := range m.HitRate {
			fmt.Fprintf(tw, "%.1f\t", h)
		}
		fmt.Fprintf(tw, "%.2f\t%.3f\t%.3f\t%.1f\t%.0f%%\t", m.PAI[k5], m.PEI[k5], m.AUC, m.WeeklySD, 100*m.Repeat)
		if m.Name == res.Baseline {
			fmt.Fprintf(tw, "(best)\t\t%s\t\n", offered)
		} else {
			fmt.Fprintf(tw, "%+.1f\t%.1f\t%s\t\n", m.Paired.MeanDiff, m.Paired.T, offered)
		}
	}
	tw.Flush()
	r := analytics.DefaultRule
	fmt.Fprintf(w, "\nHit rate: %% of the week's events in the flagged cells, mean over weeks. Again: %% of the 5 %% cells\n"+
		"flagged the week before too. Shipping rule: a model is\n"+
		"offered only if it beats %s at 5 %% week by week (one-sided paired t and Wilcoxon tests, p < %g)\n"+
		"by at least %.1f point over at least %d weeks.\n\n", res.Baseline, r.Alpha, r.MinGain, r.MinWeeks)
	for _, d := range ds {
		fmt.Fprintf(w, "  %-22s %s\n", d.Name, d.Why)
	}
	fmt.Fprintf(w, "\nOffered: %s\n", analytics.Offered(ds))
	if len(res.Regions) > 0 {
		printRegions(w, res)
	}
}

// printRegions shows, per region, each method's hit rate at 5 % and how
// many regions each method wins against the region's best count baseline.
func printRegions(w io.Writer, res *analytics.Result) {
	k5 := slices.Index(res.Coverages, analytics.KeyCoverage)
	fmt.Fprintf(w, "\nPer region (each scored on its own top 5 %%):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "region\tcells\tweeks\t")
	for _, m := range res.Methods {
		fmt.Fprintf(tw, "%s\t", m.Name)
	}
	fmt.Fprintln(tw)
	wins := make([]int, len(res.Methods))
	scored := 0
	for _, r := range res.Regions {
		fmt.Fprintf(tw, "%s\t%d\t%d\t", r.Name, r.Cells, r.Weeks)
		if r.Weeks > 0 {
			scored++
		}
		for i, m := range r.Methods {
			if math.IsNaN(m.HitRate[k5]) {
				fmt.Fprint(tw, "-\t")
				continue
			}
			fmt.Fprintf(tw, "%.1f\t", m.HitRate[k5])
			if m.Name != r.Baseline && m.Paired.MeanDiff > 0 {
				wins[i]++
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for i, m := range res.Methods {
		if m.Name != res.Baseline {
			fmt.Fprintf(w, "  %-22s above the region's best count baseline in %d of %d regions with events\n", m.Name, wins[i], scored)
		}
	}
}

// sourceFlags is the repeatable --source NAME=FILE.
type sourceFlags []struct{ name, path string }

func (s *sourceFlags) String() string { return fmt.Sprint(len(*s), " sources") }

func (s *sourceFlags) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || path == "" || strings.ContainsAny(name, ",+") {
		return fmt.Errorf("want NAME=FILE (a name without commas or '+'), not %q", v)
	}
	for _, x := range *s {
		if x.name == name {
			return fmt.Errorf("source %q given twice", name)
		}
	}
	*s = append(*s, struct{ name, path string }{name, path})
	return nil
}
