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
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"vigie"
	"vigie/internal/analytics"
)

// cmdAnalytics runs the forecasting tools on files: "vigie analytics
// backtest" scores the count baselines week by week on past events.
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
	if len(evs) == 0 {
		return vigie.Invalidf("analytics.backtest", "No event falls inside the boundary (%d rows skipped).", skipped.Total())
	}

	start := defaultStart(evs[len(evs)-1].Time, *weeks)
	if *from != "" {
		start = fromDay
	}
	cfg := analytics.Config{
		Models: []analytics.Model{analytics.Counts{}, analytics.Counts{Weeks: 52}, analytics.Counts{Weeks: 4}},
		From:   start,
		Weeks:  *weeks,
	}
	if !*asJSON {
		cfg.Progress = func(done, total int) { progress(stderr, done, total) }
	}
	res, err := analytics.Backtest(evs, g, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(jsonResult(res, g, len(evs), skipped))
	}
	printResult(stdout, res, g, len(evs), skipped)
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
	Paired   *jsonPaired        `json:"paired,omitempty"`
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
	Methods    []jsonMethod   `json:"methods"`
}

func jsonResult(res *analytics.Result, g *analytics.Grid, events int, skipped analytics.Skipped) jsonOut {
	out := jsonOut{
		Cells: res.Cells, Weeks: res.Weeks, AreaKm2: round(g.Area(), 1), Projection: g.Proj.Name(),
		From: res.Periods[0].Start.Format(time.DateOnly), Events: events, Skipped: skipped,
		Baseline: res.Baseline, Methods: []jsonMethod{},
	}
	for _, m := range res.Methods {
		jm := jsonMethod{
			Name: m.Name, HitRate: map[string]float64{}, PAI: map[string]float64{}, PEI: map[string]float64{},
			AUC: round(m.AUC, 4), WeeklySD: round(m.WeeklySD, 2), Skipped: m.Skipped,
		}
		for k, c := range res.Coverages {
			key := strconv.FormatFloat(100*c, 'f', -1, 64)
			jm.HitRate[key], jm.PAI[key], jm.PEI[key] = round(m.HitRate[k], 2), round(m.PAI[k], 3), round(m.PEI[k], 4)
		}
		if res.Baseline != "" && m.Name != res.Baseline {
			p := m.Paired
			jm.Paired = &jsonPaired{p.Against, p.N, round(p.MeanDiff, 3), round(p.SD, 3), round(p.T, 3)}
		}
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

func printResult(w io.Writer, res *analytics.Result, g *analytics.Grid, events int, skipped analytics.Skipped) {
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
	fmt.Fprint(tw, "PAI@5%\tPEI*@5%\tAUC\tsd/wk\tvs best\tt\t\n")
	k5 := -1
	for k, c := range res.Coverages {
		if c == analytics.KeyCoverage {
			k5 = k
		}
	}
	for _, m := range res.Methods {
		fmt.Fprintf(tw, "%s\t", m.Name)
		for _, h := range m.HitRate {
			fmt.Fprintf(tw, "%.1f\t", h)
		}
		fmt.Fprintf(tw, "%.2f\t%.3f\t%.3f\t%.1f\t", m.PAI[k5], m.PEI[k5], m.AUC, m.WeeklySD)
		if m.Name == res.Baseline {
			fmt.Fprint(tw, "(best)\t\t\n")
		} else {
			fmt.Fprintf(tw, "%+.1f\t%.1f\t\n", m.Paired.MeanDiff, m.Paired.T)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nHit rate: %% of the week's events in the flagged cells, mean over weeks. A model beats %s\n"+
		"only if its mean weekly difference exceeds the week-to-week noise (|t| well above 2).\n", res.Baseline)
}
