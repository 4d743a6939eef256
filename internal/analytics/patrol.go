package analytics

import (
	"math"
	"slices"

	"vigie"
)

// PlanParams are a unit's choices for one shift.
type PlanParams struct {
	Patrols      int     `json:"patrols"`       // number of patrols (crews)
	Minutes      int     `json:"minutes"`       // shift length of each patrol
	SpeedKmh     float64 `json:"speed_kmh"`     // mean road speed between stops
	DwellMinutes int     `json:"dwell_minutes"` // time spent at each stop
	StartLon     float64 `json:"start_lon"`     // start and end point (the brigade by default)
	StartLat     float64 `json:"start_lat"`
	AvoidPlans   int     `json:"avoid_plans"` // recent plans whose cells are penalised
}

// Detour is the ratio of road distance to straight-line distance used to
// turn distances into driving times (about 1.3 on French rural networks).
const Detour = 1.3

// Validate checks the parameters, in words a user understands.
func (p PlanParams) Validate() error {
	const op = "analytics.PlanParams"
	switch {
	case p.Patrols < 1 || p.Patrols > 12:
		return vigie.Invalidf(op, "The number of patrols must be between 1 and 12.")
	case p.Minutes < 30 || p.Minutes > 720:
		return vigie.Invalidf(op, "The shift must last between 30 and 720 minutes.")
	case !(p.SpeedKmh >= 5 && p.SpeedKmh <= 130):
		return vigie.Invalidf(op, "The speed must be between 5 and 130 km/h.")
	case p.DwellMinutes < 5 || p.DwellMinutes > 180:
		return vigie.Invalidf(op, "The time at each place must be between 5 and 180 minutes.")
	case p.AvoidPlans < 0 || p.AvoidPlans > 30:
		return vigie.Invalidf(op, "The number of recent plans to avoid must be between 0 and 30.")
	}
	return nil
}

// Stop is one place a patrol visits.
type Stop struct {
	Cell    int     `json:"cell"`
	X       float64 `json:"x"`
	Y       float64 `json:"y"`
	Lon     float64 `json:"lon"`
	Lat     float64 `json:"lat"`
	Commune string  `json:"commune"`
	Score   float64 `json:"score"`
	Arrive  int     `json:"arrive"` // minutes after the start of the shift
}

// PatrolRoute is one patrol's ordered stops.
type PatrolRoute struct {
	Stops   []Stop  `json:"stops"`
	Minutes int     `json:"minutes"` // total time, back at the start point
	Km      float64 `json:"km"`
	Risk    float64 `json:"risk"` // share of the area's total score covered, percent
}

// SpreadFactor is what a cell's score is multiplied by for each of the
// recent plans that already visited it: patrols should not return to the
// same streets every night.
const SpreadFactor = 0.5

// PlanPatrols chooses and orders the cells each patrol visits so that the
// covered risk is high: a greedy insertion that, from where the patrol is,
// takes the cell with the best score per minute spent (driving there and
// staying), as long as the patrol can still return to its start point in
// time. Scores of cells visited by recent plans are discounted
// (SpreadFactor per visit), patrols do not share cells or their
// neighbours, and every cell is inside the area's territory by
// construction of the grid. Deterministic: ties go to the lower cell.
func PlanPatrols(a *Area, scores []float64, p PlanParams, startX, startY float64, visited map[int]int) []PatrolRoute {
	g := a.Grid
	var total float64
	for _, s := range scores {
		total += s
	}
	value := make([]float64, len(scores))
	var cand []int
	for c, s := range scores {
		if s <= 0 {
			continue
		}
		value[c] = s * math.Pow(SpreadFactor, float64(visited[c]))
		cand = append(cand, c)
	}
	// The best few hundred cells are enough candidates for a shift.
	slices.SortStableFunc(cand, func(x, y int) int {
		switch {
		case value[x] > value[y]:
			return -1
		case value[x] < value[y]:
			return 1
		}
		return x - y
	})
	cand = cand[:min(len(cand), 300)]
	taken := map[int]bool{}
	metresPerMin := p.SpeedKmh * 1000 / 60
	travel := func(x0, y0, x1, y1 float64) float64 {
		return math.Hypot(x1-x0, y1-y0) * Detour / metresPerMin
	}
	type state struct {
		x, y, t float64
		open    bool
	}
	routes := make([]PatrolRoute, p.Patrols)
	st := make([]state, p.Patrols)
	for i := range st {
		st[i] = state{x: startX, y: startY, open: true}
	}
	dwell := float64(p.DwellMinutes)
	// Round robin: each patrol in turn takes its best next place, so that
	// the first patrol does not take all the best ones.
	for open := true; open; {
		open = false
		for i := range routes {
			s := &st[i]
			if !s.open {
				continue
			}
			best, bestV, bestT := -1, 0.0, 0.0
			for _, c := range cand {
				if taken[c] {
					continue
				}
				x, y := g.Center(c)
				go1 := travel(s.x, s.y, x, y)
				back := travel(x, y, startX, startY)
				if s.t+go1+dwell+back > float64(p.Minutes) {
					continue
				}
				if v := value[c] / (go1 + dwell); v > bestV {
					best, bestV, bestT = c, v, go1
				}
			}
			if best < 0 {
				s.open = false
				continue
			}
			open = true
			x, y := g.Center(best)
			s.t += bestT + dwell
			s.x, s.y = x, y
			lon, lat := a.Inverse(x, y)
			routes[i].Stops = append(routes[i].Stops, Stop{Cell: best, X: x, Y: y, Lon: lon, Lat: lat, Commune: a.CellCommune[best], Score: scores[best]})
			if total > 0 {
				routes[i].Risk += 100 * scores[best] / total
			}
			// The cell and its neighbours are taken: patrols spread out.
			taken[best] = true
			for _, n := range g.Neighbours(nil, best) {
				taken[n] = true
			}
		}
	}
	// Order each patrol's places by 2-opt (shorter drive, same places),
	// then set arrival times, distance and total time.
	for i := range routes {
		r := &routes[i]
		twoOpt(r.Stops, startX, startY)
		cx, cy, t, km := startX, startY, 0.0, 0.0
		for k := range r.Stops {
			s := &r.Stops[k]
			t += travel(cx, cy, s.X, s.Y)
			km += math.Hypot(s.X-cx, s.Y-cy) * Detour / 1000
			s.Arrive = int(math.Round(t))
			t += dwell
			cx, cy = s.X, s.Y
		}
		t += travel(cx, cy, startX, startY)
		km += math.Hypot(startX-cx, startY-cy) * Detour / 1000
		r.Minutes = int(math.Round(t))
		r.Km = math.Round(km*10) / 10
	}
	return routes
}

// twoOpt shortens a tour that starts and ends at (x0, y0) by reversing
// segments while that shortens it (the classic 2-opt local search).
func twoOpt(stops []Stop, x0, y0 float64) {
	pt := func(i int) (float64, float64) {
		if i < 0 || i >= len(stops) {
			return x0, y0
		}
		return stops[i].X, stops[i].Y
	}
	d := func(i, j int) float64 {
		ax, ay := pt(i)
		bx, by := pt(j)
		return math.Hypot(ax-bx, ay-by)
	}
	for improved := true; improved; {
		improved = false
		for i := 0; i < len(stops)-1; i++ {
			for j := i + 1; j < len(stops); j++ {
				// edges (i-1, i) and (j, j+1) become (i-1, j) and (i, j+1)
				if d(i-1, j)+d(i, j+1) < d(i-1, i)+d(j, j+1)-1e-6 {
					slices.Reverse(stops[i : j+1])
					improved = true
				}
			}
		}
	}
}
