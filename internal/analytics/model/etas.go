package model

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"vigie/internal/analytics"
)

// ETAS is a self-exciting point process in the manner of Mohler et al.
// (2011), "Self-exciting point process modeling of crime": events arise at
// a steady background rate, and each event raises the rate nearby for a
// while (aftershocks). The conditional intensity, in events per m² per
// day, is
//
//	λ(x, t) = μ(cell of x) / A  +  Σ_{tᵢ < t}  θ · ω e^{−ω (t − tᵢ)} · N₂(x − xᵢ; σ²)
//
// with A the cell area, μ_c the background rate of cell c (events per day),
// θ the expected number of direct offspring of an event, 1/ω their mean
// delay (days) and σ their spatial spread (metres, isotropic Gaussian N₂).
// Mohler 2011 estimated background and trigger non-parametrically; this is
// the parametric form of his later work (Mohler 2014, Mohler et al. 2015),
// with a per-cell background because grids are what patrols use.
//
// Fitting: expectation–maximisation on the events of the TrainDays days
// before the period only. E-step: each event j gets the probability p_jj
// of being background (μ/λ_j) and p_ij of being the offspring of each
// earlier event i within MaxLagDays and MaxDist (trigger/λ_j). M-step:
// μ_c = Σ_{j in c} p_jj / T; ω = Σp_ij / Σp_ij·Δt; σ² = Σp_ij·Δd² / 2Σp_ij;
// θ = Σp_ij / Σ_i (1 − e^{−ω·min(MaxLag, T_end − t_i)}) (offspring that
// could have been seen before the window's end). Iterations stop when the
// log-likelihood changes by less than Tol (relative) or after MaxIter; the
// fit reports which.
//
// Approximations, documented: pairs at the same instant are not linked
// (simultaneous records are one incident, not a trigger); the Gaussian is
// truncated at MaxDist and the exponential at MaxLagDays without
// renormalising (both cut-offs are several times the fitted scales); the
// forecast counts first-generation offspring of known events only.
type ETAS struct {
	// BgBandwidth smooths the background: each event's background weight
	// p_jj is spread over the cells around it with a Gaussian of this
	// bandwidth (metres), integrated over each cell. 0 keeps the weight in
	// the event's cell. Without smoothing, a per-cell background absorbs
	// the near-repeat clustering (θ comes out low); with too much, the
	// fine pattern that makes counts hard to beat is lost.
	BgBandwidth float64
	TrainDays   int
	MaxLagDays  float64
	MaxDist     float64 // metres
	MaxIter     int
	Tol         float64
}

// DefaultETAS: one year of training, triggers up to 60 days and 750 m.
var DefaultETAS = ETAS{BgBandwidth: 0, TrainDays: 365, MaxLagDays: 60, MaxDist: 750, MaxIter: 200, Tol: 1e-6}

// minETASEvents is the least number of training events worth fitting.
const minETASEvents = 50

func (m ETAS) Name() string {
	if m.BgBandwidth > 0 {
		return fmt.Sprintf("etas-bg%gm", m.BgBandwidth)
	}
	return "etas"
}

// ETASFit is a fitted model.
type ETASFit struct {
	Mu           []float64 // background events per day, per cell
	Theta, Omega float64   // offspring per event; decay per day
	Sigma        float64   // metres
	Iter         int
	Converged    bool
	LogLik       float64
	Start, End   time.Time // training window
	Events       int
	Pairs        int
	parents      []analytics.Event
}

// Fit estimates the model from the TrainDays days before p.Start.
func (m ETAS) Fit(history []analytics.Event, p analytics.Period, g *analytics.Grid) (*ETASFit, error) {
	h := before(history, p.Start)
	start := p.Start.AddDate(0, 0, -m.TrainDays)
	if m.TrainDays <= 0 || len(h) == 0 || h[0].Time.After(start.AddDate(0, 0, m.TrainDays/2)) {
		return nil, analytics.ErrTooLittleHistory // less than half the window covered
	}
	ev := h[since(h, start):]
	if len(ev) < minETASEvents {
		return nil, analytics.ErrTooLittleHistory
	}
	n, cells := len(ev), g.Len()
	T := days(start, p.Start)
	A := g.Size * g.Size
	maxLag := time.Duration(m.MaxLagDays * float64(day))

	// Candidate parent pairs, grouped by child j (CSR): parents in cells
	// within MaxDist (plus a cell's half diagonal) and MaxLagDays.
	byCell := make([][]int32, cells)
	first := make([]int32, n+1)
	var par []int32
	var dts, d2s []float64
	reach := m.MaxDist + g.Size
	for j, e := range ev {
		first[j] = int32(len(par))
		g.Near(e.X, e.Y, reach, func(c int, _ float64) {
			list := byCell[c]
			for k := len(list) - 1; k >= 0; k-- {
				i := list[k]
				dt := e.Time.Sub(ev[i].Time)
				if dt > maxLag {
					break
				}
				if dt <= 0 {
					continue
				}
				d2 := (e.X-ev[i].X)*(e.X-ev[i].X) + (e.Y-ev[i].Y)*(e.Y-ev[i].Y)
				if d2 <= m.MaxDist*m.MaxDist {
					par = append(par, i)
					dts = append(dts, dt.Hours()/24)
					d2s = append(d2s, d2)
				}
			}
		})
		byCell[e.Cell] = append(byCell[e.Cell], int32(j))
	}
	first[n] = int32(len(par))

	// Time each event's offspring had to appear before the window closed.
	horizon := make([]float64, n)
	for i, e := range ev {
		horizon[i] = min(m.MaxLagDays, days(e.Time, p.Start))
	}

	// Background spreading kernel: for each event, the cells around it and
	// the share of a Gaussian's mass in each (CSR), renormalised to 1.
	var kFirst []int32
	var kCell []int32
	var kW []float64
	if m.BgBandwidth > 0 {
		kFirst = make([]int32, n+1)
		nd := distuv.Normal{Mu: 0, Sigma: m.BgBandwidth}
		half := g.Size / 2
		for j, e := range ev {
			kFirst[j] = int32(len(kCell))
			from := len(kW)
			var sum float64
			g.Near(e.X, e.Y, 3*m.BgBandwidth+g.Size, func(c int, _ float64) {
				cx, cy := g.Center(c)
				w := (nd.CDF(cx+half-e.X) - nd.CDF(cx-half-e.X)) * (nd.CDF(cy+half-e.Y) - nd.CDF(cy-half-e.Y))
				if w > 1e-6 {
					kCell, kW = append(kCell, int32(c)), append(kW, w)
					sum += w
				}
			})
			for k := from; k < len(kW); k++ {
				kW[k] /= sum
			}
		}
		kFirst[n] = int32(len(kCell))
	}

	f := &ETASFit{Mu: make([]float64, cells), Theta: 0.5, Omega: 0.1, Sigma: g.Size, Start: start, End: p.Start, Events: n, Pairs: len(par)}
	for _, e := range ev {
		f.Mu[e.Cell] += 0.5 / T
	}
	bg := make([]float64, cells)
	q := make([]float64, len(par)) // trigger densities, then probabilities
	const chunks = 4
	type partial struct {
		bg                 []float64
		sp, spdt, spd2, ll float64
	}
	var acc [chunks]partial
	for ci := range acc {
		acc[ci].bg = make([]float64, cells)
	}
	prev := math.Inf(-1)
	for f.Iter = 1; f.Iter <= m.MaxIter; f.Iter++ {
		norm := f.Theta * f.Omega / (2 * math.Pi * f.Sigma * f.Sigma)
		inv2s2 := 1 / (2 * f.Sigma * f.Sigma)
		// E-step in a fixed number of chunks of events, run on all CPUs and
		// summed in chunk order: the result does not depend on the machine.
		var wg sync.WaitGroup
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		for ci := range chunks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				a := &acc[ci]
				clear(a.bg)
				a.sp, a.spdt, a.spd2, a.ll = 0, 0, 0, 0
				for j := ci * n / chunks; j < (ci+1)*n/chunks; j++ {
					e := ev[j]
					b := f.Mu[e.Cell] / A
					lam := b
					for k := first[j]; k < first[j+1]; k++ {
						q[k] = norm * math.Exp(-f.Omega*dts[k]-d2s[k]*inv2s2)
						lam += q[k]
					}
					a.ll += math.Log(lam)
					if kFirst == nil {
						a.bg[e.Cell] += b / lam
					} else {
						for k := kFirst[j]; k < kFirst[j+1]; k++ {
							a.bg[kCell[k]] += kW[k] * b / lam
						}
					}
					for k := first[j]; k < first[j+1]; k++ {
						pk := q[k] / lam
						a.sp += pk
						a.spdt += pk * dts[k]
						a.spd2 += pk * d2s[k]
					}
				}
			}()
		}
		wg.Wait()
		clear(bg)
		var sp, spdt, spd2, ll float64
		for ci := range chunks {
			a := &acc[ci]
			for c, v := range a.bg {
				bg[c] += v
			}
			sp, spdt, spd2, ll = sp+a.sp, spdt+a.spdt, spd2+a.spd2, ll+a.ll
		}
		// Log-likelihood at the current parameters: Σ log λ_j − ∫λ.
		var integral float64
		for _, mu := range f.Mu {
			integral += mu * T
		}
		for _, hz := range horizon {
			integral += f.Theta * (1 - math.Exp(-f.Omega*hz))
		}
		ll -= integral
		f.LogLik = ll
		if math.Abs(ll-prev) <= m.Tol*math.Abs(ll) {
			f.Converged = true
			break
		}
		prev = ll
		// M-step.
		for c := range f.Mu {
			f.Mu[c] = bg[c] / T
		}
		if sp > 0 && spdt > 0 {
			f.Omega = min(sp/spdt, 24) // at most a mean delay of an hour
			f.Sigma = max(math.Sqrt(spd2/(2*sp)), 10)
			var exposure float64
			for _, hz := range horizon {
				exposure += 1 - math.Exp(-f.Omega*hz)
			}
			f.Theta = sp / exposure
		} else {
			f.Theta = 0
		}
	}
	if f.Iter > m.MaxIter {
		f.Iter = m.MaxIter
	}
	lo := since(ev, p.Start.Add(-maxLag))
	f.parents = ev[lo:]
	return f, nil
}

// Expected returns the expected events per cell over p: background plus
// the first-generation offspring of known events, whose spatial mass in
// each square cell is integrated exactly (product of normal CDFs).
func (f *ETASFit) Expected(p analytics.Period, g *analytics.Grid, maxDist float64) (background, triggered []float64) {
	L := days(p.Start, p.End)
	background = make([]float64, len(f.Mu))
	triggered = make([]float64, len(f.Mu))
	for c, mu := range f.Mu {
		background[c] = mu * L
	}
	if f.Theta == 0 {
		return background, triggered
	}
	norm := distuv.Normal{Mu: 0, Sigma: f.Sigma}
	half := g.Size / 2
	for _, e := range f.parents {
		a := days(e.Time, p.Start)
		w := f.Theta * (math.Exp(-f.Omega*a) - math.Exp(-f.Omega*(a+L)))
		if w < 1e-12 {
			continue
		}
		g.Near(e.X, e.Y, maxDist+g.Size, func(c int, _ float64) {
			cx, cy := g.Center(c)
			mx := norm.CDF(cx+half-e.X) - norm.CDF(cx-half-e.X)
			my := norm.CDF(cy+half-e.Y) - norm.CDF(cy-half-e.Y)
			triggered[c] += w * mx * my
		})
	}
	return background, triggered
}

func (m ETAS) Forecast(history []analytics.Event, p analytics.Period, g *analytics.Grid) ([]float64, error) {
	f, err := m.Fit(history, p, g)
	if err != nil {
		return nil, err
	}
	b, t := f.Expected(p, g, m.MaxDist)
	for c := range b {
		b[c] += t[c]
	}
	return b, nil
}

// Reasons splits each cell's expected count into its steady background and
// the aftershocks of recent nearby events.
func (m ETAS) Reasons(history []analytics.Event, p analytics.Period, g *analytics.Grid, cells []int) ([][]analytics.Reason, error) {
	if err := checkCells(cells, g); err != nil {
		return nil, err
	}
	f, err := m.Fit(history, p, g)
	if err != nil {
		return nil, err
	}
	b, t := f.Expected(p, g, m.MaxDist)
	out := make([][]analytics.Reason, len(cells))
	for i, c := range cells {
		total := b[c] + t[c]
		if total == 0 {
			continue
		}
		rb := analytics.Reason{Kind: analytics.ReasonBackground, Events: b[c], Share: b[c] / total}
		rt := analytics.Reason{Kind: analytics.ReasonTriggered, Events: t[c], Share: t[c] / total}
		if t[c] > b[c] {
			out[i] = []analytics.Reason{rt, rb}
		} else {
			out[i] = []analytics.Reason{rb, rt}
		}
	}
	return out, nil
}

func (m ETAS) Card() analytics.Card {
	return analytics.Card{
		Name:  m.Name(),
		Title: "Self-exciting point process (ETAS)",
		Method: "Events arise at a steady background rate per cell, and each event raises the rate nearby " +
			"for a while (Mohler et al. 2011). Background, number of follow-ups, their delay and spread are " +
			"fitted by expectation–maximisation on the training window only.",
		Params: []analytics.Param{
			param("background smoothing", fmt.Sprintf("%g m", m.BgBandwidth), "chosen on 2017–2018 weeks only (0: per cell)"),
			param("training window", fmt.Sprintf("%d days", m.TrainDays), "one year: enough events per cell, recent enough to follow changes"),
			param("trigger cut-offs", fmt.Sprintf("%g days, %g m", m.MaxLagDays, m.MaxDist), "several times the fitted delay and spread"),
			param("convergence", fmt.Sprintf("relative change of log-likelihood < %g, at most %d iterations", m.Tol, m.MaxIter), ""),
		},
		Data: "Recorded events (time and place) of the training window.",
		Limits: []string{
			"The background is a per-cell rate over one year: noisy where events are rare.",
			"Rounded coordinates (block level) make many events share a place; the fitted spread is then partly an artefact.",
			"Forecasts count first-generation follow-ups of known events only.",
		},
	}
}

// HorizonAware: the forecast integrates the triggered intensity over the
// period, so a shift weighs the offspring of the last days more, relative
// to the background, than a week does.
func (ETAS) HorizonAware() bool { return true }
