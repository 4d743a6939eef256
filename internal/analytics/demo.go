package analytics

import (
	"context"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"vigie/internal/db"
	"vigie/internal/org"
)

// The demo's sources are synthetic but built so that the models behave on
// them as they do on real data:
//
//   - offences follow population (communes are drawn in proportion to
//     population^1.1: towns have more than their share) and concentrate on
//     a few hot spots per commune (70 % of offences within ~120 m of one,
//     hot spots weighted 1, 1/2, 1/3...), the rest spread over the commune;
//   - near-repeat bursts: each offence starts, with a Poisson(0.4) number,
//     follow-ups within 14 days and ~150 m (what the near-repeat reasons
//     and prospective hotspotting pick up);
//   - a slow seasonal cycle (summer +20 %) and an evening peak;
//   - calls for service precede offences in the same place: half of the
//     offences have a call 30 min to 48 h before within ~80 m, plus
//     background calls in proportion to population (30 % of the offences);
//   - plate-reader (LAPI) detections precede burglaries and vehicle thefts:
//     40 % of them have a detection 0-7 days before within ~300 m, plus
//     background detections at the main hot spots of the largest communes;
//   - 5 % of offences are drug offences (police initiative), placed at the
//     top hot spots: the map leaves them out of its targets by default.
//
// Deterministic: the random source is seeded by the département code.

// DemoRate is the number of demo offences a year per inhabitant, and
// DemoMax the most a département gets over the two years.
const (
	DemoRate  = 0.004
	DemoMax   = 16000
	DemoYears = 2
)

var demoCategories = []struct {
	name string
	w    float64
}{{"burglary", 0.25}, {"vehicle_theft", 0.18}, {"theft", 0.25}, {"violence", 0.15}, {"damage", 0.12}, {"drugs", 0.05}}

type demoCommune struct {
	c      *AreaCommune
	box    [4]float64 // lon/lat bounding box
	hot    [][2]float64
	hotCum []float64
}

// DemoRecords generates the demo events of an area (a whole département)
// ending at end.
func DemoRecords(a *Area, end time.Time) []Record {
	h := fnv.New64a()
	h.Write([]byte(a.Dept))
	rng := rand.New(rand.NewPCG(h.Sum64(), 2026))
	end = end.UTC().Truncate(time.Hour)
	start := end.AddDate(-DemoYears, 0, 0)
	span := end.Sub(start)

	var cs []demoCommune
	var pop, cum float64
	var cumW []float64
	for i := range a.Communes {
		c := &a.Communes[i]
		if c.Population <= 0 || len(c.Polygons) == 0 {
			continue
		}
		dc := demoCommune{c: c, box: [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}}
		for _, p := range c.Polygons {
			for _, q := range p.Outer {
				dc.box[0], dc.box[1] = min(dc.box[0], q[0]), min(dc.box[1], q[1])
				dc.box[2], dc.box[3] = max(dc.box[2], q[0]), max(dc.box[3], q[1])
			}
		}
		nh := min(1+int(c.Population/6000), 25)
		var hc float64
		for k := range nh {
			if p, ok := dc.uniform(rng); ok {
				dc.hot = append(dc.hot, p)
				hc += 1 / float64(k+1)
				dc.hotCum = append(dc.hotCum, hc)
			}
		}
		if len(dc.hot) == 0 {
			continue
		}
		pop += float64(c.Population)
		cum += math.Pow(float64(c.Population), 1.1)
		cumW = append(cumW, cum)
		cs = append(cs, dc)
	}
	if len(cs) == 0 {
		return nil
	}
	total := min(int(pop*DemoRate*DemoYears), DemoMax)
	pick := func(cumul []float64) int {
		x := rng.Float64() * cumul[len(cumul)-1]
		lo, hi := 0, len(cumul)-1
		for lo < hi {
			m := (lo + hi) / 2
			if cumul[m] < x {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return lo
	}
	category := func() string {
		x := rng.Float64()
		for _, c := range demoCategories {
			if x < c.w {
				return c.name
			}
			x -= c.w
		}
		return "theft"
	}
	// when draws a time with the seasonal cycle and the evening peak.
	when := func() time.Time {
		for {
			t := start.Add(time.Duration(rng.Int64N(int64(span))))
			season := 1 + 0.2*math.Cos(2*math.Pi*(float64(t.YearDay())-200)/365)
			hour := 0.6 + 0.4*math.Sin(2*math.Pi*(float64(t.Hour())-12)/24)
			if rng.Float64()*1.2*1.0 < season*hour {
				return t
			}
		}
	}
	out := make([]Record, 0, total*2)
	add := func(ci int, src Source, cat string, t time.Time, lon, lat float64) {
		if t.After(end) || t.Before(start) {
			return
		}
		out = append(out, Record{Dept: a.Dept, UnitID: cs[ci].c.BrigadeID, Source: src, Category: cat, Start: t, End: t, Lon: lon, Lat: lat})
	}
	offences := 0
	for offences < total {
		ci := pick(cumW)
		dc := &cs[ci]
		cat := category()
		var p [2]float64
		switch {
		case cat == "drugs":
			p = jitter(rng, dc.hot[0], 100)
		case rng.Float64() < 0.7:
			p = jitter(rng, dc.hot[pick(dc.hotCum)], 120)
		default:
			var ok bool
			if p, ok = dc.uniform(rng); !ok {
				p = dc.hot[0]
			}
		}
		t := when()
		// The offence and its near-repeat follow-ups.
		burst := 1 + poisson(rng, 0.4)
		for k := 0; k < burst && offences < total; k++ {
			q, tk := p, t
			if k > 0 {
				q = jitter(rng, p, 150)
				tk = t.Add(time.Duration(rng.Float64() * 14 * 24 * float64(time.Hour)))
			}
			add(ci, SourceOffence, cat, tk, q[0], q[1])
			offences++
			if rng.Float64() < 0.5 {
				c := jitter(rng, q, 80)
				add(ci, SourceCall, "disturbance", tk.Add(-time.Duration((0.5+rng.Float64()*47.5)*float64(time.Hour))), c[0], c[1])
			}
			if (cat == "burglary" || cat == "vehicle_theft") && rng.Float64() < 0.4 {
				c := jitter(rng, q, 300)
				add(ci, SourceLAPI, "wanted-vehicle", tk.Add(-time.Duration(rng.Float64()*7*24*float64(time.Hour))), c[0], c[1])
			}
		}
	}
	// Background calls and plate-reader detections.
	for range total * 3 / 10 {
		ci := pick(cumW)
		p, ok := cs[ci].uniform(rng)
		if !ok {
			continue
		}
		add(ci, SourceCall, "disturbance", when(), p[0], p[1])
	}
	for range total / 10 {
		ci := pick(cumW)
		p := jitter(rng, cs[ci].hot[0], 200)
		add(ci, SourceLAPI, "wanted-vehicle", when(), p[0], p[1])
	}
	return out
}

// uniform draws a point inside the commune (rejection in its bounding box).
func (dc *demoCommune) uniform(rng *rand.Rand) ([2]float64, bool) {
	for range 30 {
		p := [2]float64{dc.box[0] + rng.Float64()*(dc.box[2]-dc.box[0]), dc.box[1] + rng.Float64()*(dc.box[3]-dc.box[1])}
		for _, pl := range dc.c.Polygons {
			if pl.Contains(p[0], p[1]) {
				return p, true
			}
		}
	}
	return [2]float64{}, false
}

// jitter moves a WGS84 point by a normal offset of sd metres on each axis.
func jitter(rng *rand.Rand, p [2]float64, sd float64) [2]float64 {
	const m = 111320.0 // metres per degree of latitude
	return [2]float64{p[0] + rng.NormFloat64()*sd/(m*math.Cos(p[1]*math.Pi/180)), p[1] + rng.NormFloat64()*sd/m}
}

func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p < l {
			return k
		}
		k++
	}
}

// SeedDemo stores the demo events of the départements depts, once per
// département (a département that already has events is left alone), each
// in a transaction of its own. It returns the number of events stored.
// Generating a département (parsing its communes, drawing its events) runs
// in a goroutine while the previous one is inserted: on two cores the
// demo's start pays for the inserts only.
func (s *Service) SeedDemo(ctx context.Context, depts []string) (int, error) {
	var todo []org.Unit
	for _, d := range depts {
		var have int
		if err := s.cfg.DB.QueryRow(ctx, `SELECT COUNT(*) FROM analytics_events WHERE dept = ?`, d).Scan(&have); err != nil {
			return 0, err
		}
		if have > 0 {
			continue
		}
		units, err := s.cfg.Org.Units(ctx, d)
		if err != nil {
			return 0, err
		}
		for _, u := range units {
			if u.Kind == org.Groupement {
				todo = append(todo, u)
			}
		}
	}
	type batch struct {
		recs []Record
		err  error
	}
	ch := make(chan batch, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(ch)
		for _, u := range todo {
			a, err := s.Area(ctx, u)
			var b batch
			if err != nil {
				b.err = err
			} else {
				b.recs = DemoRecords(a, s.cfg.Now())
			}
			select {
			case ch <- b:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	n := 0
	for b := range ch {
		if b.err != nil {
			return n, b.err
		}
		if err := s.cfg.DB.InTx(ctx, func(tx *db.Tx) error { return insertRecords(ctx, tx, b.recs, "demo", s.cfg.Now()) }); err != nil {
			return n, err
		}
		n += len(b.recs)
	}
	return n, nil
}
