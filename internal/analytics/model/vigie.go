package model

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"gonum.org/v1/gonum/mat"

	"vigie/internal/analytics"
)

// Vigie is Vigie's combined model: a Poisson regression with a ridge
// penalty that predicts each cell's count for the period from
//
//   - long-term level: the cell's events per year over all history;
//   - the last 52 weeks and the last 4 weeks in the cell;
//   - the near-repeat score (prospective hotspotting, 8 weeks, 400 m);
//   - the neighbouring cells' long-term level (mean of the up to 8 adjacent);
//   - for each other source (calls for service, plate-reader alerts, patrol
//     reports…) when present: its events within 250 m in the last 7 days and
//     in the cell over the last 52 weeks;
//
// each as log(1 + value), standardised. It is fitted, for every forecast,
// by rolling origin on the TrainWeeks weeks before the period: for each of
// those weeks, the features as known at its start and the count inside it.
// So it uses only events before the period, and it re-learns its weights as
// the data change. Newton–Raphson (IRLS) with the penalty Lambda/2·‖β‖² on
// the standardised weights (not the intercept).
//
// A regression rather than gradient-boosted trees: six to ten features with
// a known monotone effect, weights that can be read and explained, and the
// backtest (docs/analytics.md) to say whether it earns its place.
type Vigie struct {
	TrainWeeks int
	Lambda     float64
	Sources    []Source
}

// Source is another source's events (calls for service, detections,
// patrol reports), placed on the same grid and sorted by time.
type Source struct {
	Name   string
	Events []analytics.Event
}

// DefaultVigie is the setting chosen on 2017–2018 weeks only.
var DefaultVigie = Vigie{TrainWeeks: 12, Lambda: 1}

// vigieNearRepeat is the near-repeat feature: the published prospective
// setting, recent on purpose (the long-term level has features of its own).
var vigieNearRepeat = PublishedProspective

// zeroRatio bounds the training rows with a zero count to this many per
// cell with events, per week (see Fit).
const zeroRatio = 20

// keep is a uniform number in [0, 1) fixed by (week, cell): splitmix64.
func keep(week, cell uint64) float64 {
	z := week*0x9e3779b97f4a7c15 + cell + 0x632be59bd9b4e019
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// minVigieWeeks: features need a year of history behind the first
// training week.
const minVigieWeeks = 52

// Name is "vigie", with its settings when they are not the defaults and
// "+name" for each source.
func (m Vigie) Name() string {
	n := "vigie"
	if m.TrainWeeks != DefaultVigie.TrainWeeks || m.Lambda != DefaultVigie.Lambda {
		n = fmt.Sprintf("vigie-%dw-l%g", m.TrainWeeks, m.Lambda)
	}
	for _, s := range m.Sources {
		n += "+" + s.Name
	}
	return n
}

// feature names, in column order (sources follow).
var vigieFeatures = []string{"long-term", "last 52 weeks", "last 4 weeks", "near-repeat", "neighbours"}

// raw holds one origin's feature values before the log and the scaling.
type raw struct {
	longTerm, y52, w4, nearRepeat, neighbours []float64
	nearCount                                 []float64 // events within 400 m, 8 weeks (for reasons)
	sourceRecent, sourceYear                  [][]float64
	years                                     float64
}

func (m Vigie) raw(h []analytics.Event, s time.Time, g *analytics.Grid) raw {
	h = before(h, s)
	n := g.Len()
	r := raw{years: max(days(h[0].Time, s)/365.25, 1.0/52)}
	r.longTerm = countCells(h, n)
	for c := range r.longTerm {
		r.longTerm[c] /= r.years
	}
	r.y52 = countCells(h[since(h, s.AddDate(0, 0, -364)):], n)
	r.w4 = countCells(h[since(h, s.AddDate(0, 0, -28)):], n)
	pr := vigieNearRepeat
	recent := h[since(h, s.AddDate(0, 0, -7*pr.Weeks)):]
	if sc, err := pr.Forecast(recent, analytics.Period{Start: s, End: s.AddDate(0, 0, 7)}, g); err == nil {
		r.nearRepeat = sc
	} else {
		r.nearRepeat = make([]float64, n)
	}
	r.nearCount = make([]float64, n)
	for _, e := range recent {
		ex, ey := g.Center(e.Cell)
		g.Near(ex, ey, pr.Radius, func(c int, _ float64) { r.nearCount[c]++ })
	}
	r.neighbours = make([]float64, n)
	var nb []int
	for c := range n {
		nb = g.Neighbours(nb[:0], c)
		for _, o := range nb {
			r.neighbours[c] += r.longTerm[o]
		}
		if len(nb) > 0 {
			r.neighbours[c] /= float64(len(nb))
		}
	}
	for _, src := range m.Sources {
		se := before(src.Events, s)
		rec := make([]float64, n)
		for _, e := range se[since(se, s.AddDate(0, 0, -7)):] {
			g.Near(e.X, e.Y, 250, func(c int, _ float64) { rec[c]++ })
		}
		r.sourceRecent = append(r.sourceRecent, rec)
		r.sourceYear = append(r.sourceYear, countCells(se[since(se, s.AddDate(0, 0, -364)):], n))
	}
	return r
}

// columns returns the feature columns, log(1 + value).
func (r raw) columns() [][]float64 {
	cols := [][]float64{r.longTerm, r.y52, r.w4, r.nearRepeat, r.neighbours}
	for i := range r.sourceRecent {
		cols = append(cols, r.sourceRecent[i], r.sourceYear[i])
	}
	out := make([][]float64, len(cols))
	for k, col := range cols {
		out[k] = make([]float64, len(col))
		for c, v := range col {
			out[k][c] = math.Log1p(v)
		}
	}
	return out
}

// VigieFit is a fitted regression.
type VigieFit struct {
	Names      []string
	Mean, Std  []float64 // feature scaling
	Beta       []float64 // intercept, then one weight per standardised feature
	Iter       int
	Rows       int // training rows after merging all-zero rows
	current    raw
	currentCol [][]float64
}

// Fit fits the regression on the TrainWeeks weeks before p.Start.
func (m Vigie) Fit(history []analytics.Event, p analytics.Period, g *analytics.Grid) (*VigieFit, error) {
	h := before(history, p.Start)
	if m.TrainWeeks <= 0 || len(h) == 0 ||
		h[0].Time.After(p.Start.AddDate(0, 0, -7*(m.TrainWeeks+minVigieWeeks))) {
		return nil, analytics.ErrTooLittleHistory
	}
	n := g.Len()
	names := append([]string(nil), vigieFeatures...)
	for _, s := range m.Sources {
		names = append(names, s.Name+" (7 days, 250 m)", s.Name+" (52 weeks)")
	}
	nf := len(names)

	// Training rows: (features at the start of week k, count in week k).
	// Rows whose features and count are all zero are merged into one
	// weighted row: on a large grid most cells are empty. Of the other
	// rows with a zero count, when they outnumber the cells with events by
	// more than zeroRatio to one, a fixed pseudo-random share q is kept
	// with weight 1/q (inverse-probability weighting keeps the fit's
	// estimating equations unbiased); the choice depends only on the week
	// and the cell, so forecasts are reproducible.
	// Features of every origin (the training weeks and the period itself),
	// computed on all CPUs: they are independent.
	origins := make([][][]float64, m.TrainWeeks+1)
	var current raw
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for k := range origins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := m.raw(h, p.Start.AddDate(0, 0, -7*k), g)
			origins[k] = r.columns()
			if k == 0 {
				current = r
			}
		}()
	}
	wg.Wait()

	var X []float64 // row-major, nf values per row
	var y, w []float64
	zeroW := 0.0
	for k := m.TrainWeeks; k >= 1; k-- {
		s := p.Start.AddDate(0, 0, -7*k)
		cols := origins[k]
		target := countCells(h[since(h, s):since(h, s.AddDate(0, 0, 7))], n)
		positives, zeros := 0, 0
		for c := range n {
			if target[c] > 0 {
				positives++
			} else {
				zeros++
			}
		}
		q := 1.0
		if zeros > zeroRatio*max(positives, 1) {
			q = float64(zeroRatio*max(positives, 1)) / float64(zeros)
		}
		for c := range n {
			zero := target[c] == 0
			allZero := zero
			for j := 0; allZero && j < nf; j++ {
				allZero = cols[j][c] == 0
			}
			if allZero {
				zeroW++
				continue
			}
			wt := 1.0
			if zero && q < 1 {
				if keep(uint64(s.Unix()), uint64(c)) >= q {
					continue
				}
				wt = 1 / q
			}
			for j := range nf {
				X = append(X, cols[j][c])
			}
			y, w = append(y, target[c]), append(w, wt)
		}
	}
	if zeroW > 0 {
		X, y, w = append(X, make([]float64, nf)...), append(y, 0), append(w, zeroW)
	}
	var total float64
	for i := range y {
		total += y[i]
	}
	if total == 0 {
		return nil, analytics.ErrTooLittleHistory
	}

	f := &VigieFit{Names: names, Mean: make([]float64, nf), Std: make([]float64, nf), Rows: len(y)}
	var sw float64
	for i := range y {
		sw += w[i]
		for j, v := range X[i*nf : (i+1)*nf] {
			f.Mean[j] += w[i] * v
		}
	}
	for j := range f.Mean {
		f.Mean[j] /= sw
	}
	for i := range y {
		for j, v := range X[i*nf : (i+1)*nf] {
			f.Std[j] += w[i] * (v - f.Mean[j]) * (v - f.Mean[j])
		}
	}
	for j := range f.Std {
		f.Std[j] = math.Sqrt(f.Std[j] / sw)
		if f.Std[j] == 0 {
			f.Std[j] = 1 // a constant feature: its weight stays at 0
		}
	}
	for i := range X {
		j := i % nf
		X[i] = (X[i] - f.Mean[j]) / f.Std[j]
	}
	f.Beta, f.Iter = poissonRidge(X, nf, y, w, m.Lambda, math.Log(total/sw))
	f.current, f.currentCol = current, origins[0]
	return f, nil
}

// Predict is the expected count of each cell for the period.
func (f *VigieFit) Predict() []float64 {
	n := len(f.currentCol[0])
	out := make([]float64, n)
	for c := range n {
		eta := f.Beta[0]
		for j, col := range f.currentCol {
			eta += f.Beta[j+1] * (col[c] - f.Mean[j]) / f.Std[j]
		}
		out[c] = math.Exp(eta)
	}
	return out
}

// poissonRidge maximises Σ wᵢ(yᵢηᵢ − e^ηᵢ) − λ/2‖β₁..‖² by Newton's
// method with step halving, η = β₀ + xᵢ·β. X is row-major, nf values per
// row. It returns β and the number of iterations. Each pass over the rows
// computes the objective, gradient and Hessian together, so an accepted
// step's pass serves the next iteration.
func poissonRidge(X []float64, nf int, y, w []float64, lambda, b0 float64) ([]float64, int) {
	p := nf + 1
	type eval struct {
		obj  float64
		grad []float64
		hess []float64 // upper triangle, row-major p×p
	}
	xi := make([]float64, p)
	evaluate := func(b []float64) eval {
		e := eval{grad: make([]float64, p), hess: make([]float64, p*p)}
		for i := range y {
			xi[0] = 1
			copy(xi[1:], X[i*nf:(i+1)*nf])
			eta := 0.0
			for j := range p {
				eta += b[j] * xi[j]
			}
			mu := math.Exp(eta)
			e.obj += w[i] * (y[i]*eta - mu)
			r, wt := w[i]*(y[i]-mu), w[i]*mu
			for a := range p {
				e.grad[a] += r * xi[a]
				wa := wt * xi[a]
				for c := a; c < p; c++ {
					e.hess[a*p+c] += wa * xi[c]
				}
			}
		}
		for j := 1; j < p; j++ {
			e.obj -= lambda / 2 * b[j] * b[j]
			e.grad[j] -= lambda * b[j]
			e.hess[j*p+j] += lambda
		}
		return e
	}
	beta := make([]float64, p)
	beta[0] = b0
	cur := evaluate(beta)
	next := make([]float64, p)
	iter := 0
	for iter = 1; iter <= 50; iter++ {
		var ch mat.Cholesky
		if !ch.Factorize(mat.NewSymDense(p, cur.hess)) {
			break
		}
		var step mat.VecDense
		if err := ch.SolveVecTo(&step, mat.NewVecDense(p, cur.grad)); err != nil {
			break
		}
		t, accepted := 1.0, false
		var cand eval
		for range 30 {
			for j := range p {
				next[j] = beta[j] + t*step.AtVec(j)
			}
			if cand = evaluate(next); cand.obj >= cur.obj {
				accepted = true
				break
			}
			t /= 2
		}
		if !accepted {
			break
		}
		var size float64
		for j := range p {
			size = max(size, math.Abs(next[j]-beta[j]))
		}
		copy(beta, next)
		cur = cand
		if size < 1e-6 {
			break
		}
	}
	return beta, iter
}

func (m Vigie) Forecast(history []analytics.Event, p analytics.Period, g *analytics.Grid) ([]float64, error) {
	f, err := m.Fit(history, p, g)
	if err != nil {
		return nil, err
	}
	return f.Predict(), nil
}

// Reasons lists, for each cell, the features that raise its forecast above
// an average cell's (weight × standardised excess > 0), largest first, with
// the raw values a sentence needs; Share is each one's part of the total
// raise on the log scale.
func (m Vigie) Reasons(history []analytics.Event, p analytics.Period, g *analytics.Grid, cells []int) ([][]analytics.Reason, error) {
	if err := checkCells(cells, g); err != nil {
		return nil, err
	}
	f, err := m.Fit(history, p, g)
	if err != nil {
		return nil, err
	}
	r := f.current
	topLong := analytics.TopShare(r.longTerm)
	topNb := analytics.TopShare(r.neighbours)
	topNear := analytics.TopShare(r.nearRepeat)
	out := make([][]analytics.Reason, len(cells))
	for i, c := range cells {
		type contrib struct {
			v float64
			r analytics.Reason
		}
		var cs []contrib
		var sum float64
		for j, col := range f.currentCol {
			v := f.Beta[j+1] * (col[c] - f.Mean[j]) / f.Std[j]
			if v <= 0 {
				continue
			}
			var rs analytics.Reason
			switch j {
			case 0:
				rs = analytics.Reason{Kind: analytics.ReasonLongTerm, Events: r.longTerm[c] * r.years, Top: topLong[c]}
			case 1:
				rs = analytics.Reason{Kind: analytics.ReasonRecent, Events: r.y52[c], Days: 364}
			case 2:
				rs = analytics.Reason{Kind: analytics.ReasonRecent, Events: r.w4[c], Days: 28}
			case 3:
				rs = analytics.Reason{Kind: analytics.ReasonNearRepeat, Events: r.nearCount[c], Radius: vigieNearRepeat.Radius, Days: 7 * vigieNearRepeat.Weeks, Top: topNear[c]}
			case 4:
				rs = analytics.Reason{Kind: analytics.ReasonNeighbours, Events: r.neighbours[c] * r.years, Top: topNb[c]}
			default:
				k := (j - len(vigieFeatures)) / 2
				if (j-len(vigieFeatures))%2 == 0 {
					rs = analytics.Reason{Kind: analytics.ReasonSource, Source: m.Sources[k].Name, Events: r.sourceRecent[k][c], Radius: 250, Days: 7}
				} else {
					rs = analytics.Reason{Kind: analytics.ReasonSource, Source: m.Sources[k].Name, Events: r.sourceYear[k][c], Days: 364}
				}
			}
			cs = append(cs, contrib{v, rs})
			sum += v
		}
		for k := range cs {
			for l := k + 1; l < len(cs); l++ {
				if cs[l].v > cs[k].v {
					cs[k], cs[l] = cs[l], cs[k]
				}
			}
		}
		for _, x := range cs {
			x.r.Share = x.v / sum
			out[i] = append(out[i], x.r)
		}
	}
	return out, nil
}

func (m Vigie) Card() analytics.Card {
	data := "Recorded events (time and place) before the period."
	if len(m.Sources) > 0 {
		data += " Other sources:"
		for _, s := range m.Sources {
			data += " " + s.Name + ";"
		}
	}
	return analytics.Card{
		Name:  m.Name(),
		Title: "Vigie combined model",
		Method: "A Poisson regression (ridge-penalised) of next week's count in each cell on its long-term level, " +
			"its last year and last month, recent events nearby (near-repeat), its neighbours' level and other " +
			"sources' signals, re-fitted before every forecast on the previous weeks.",
		Params: []analytics.Param{
			param("training weeks", fmt.Sprintf("%d", m.TrainWeeks), "chosen on 2017–2018 weeks only"),
			param("ridge penalty", fmt.Sprintf("%g", m.Lambda), "mild: the features are few and standardised"),
		},
		Data: data,
		Limits: []string{
			"Needs at least a year and a quarter of history.",
			"Learns from where events were recorded, which is also where police looked: the feedback loop is not removed, only not amplified by excluding police-initiated categories.",
			"Weights are re-fitted weekly: a sudden change takes a few weeks to be learnt.",
		},
	}
}
