package analytics

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// evaluator scores forecasts against one period's actual counts per cell.
//
// Cells are flagged from the highest score down until the share of the area
// is reached; the number of flagged cells k = share × cells may be
// fractional. Ties at the coverage boundary are split fractionally: when a
// group of g cells with the same score straddles the boundary with r cells
// left to flag, each counts for r/g of its events (the expected hits of
// picking r of them at random). So the hit-rate curve is piecewise linear
// between score groups, and its area is exact by trapezoids.
type evaluator struct {
	n       int
	actual  []float64
	total   float64
	bestCum []float64 // bestCum[k]: events in the k busiest cells
	order   []int
	cells   []float64 // curve breakpoints: cells flagged so far
	hits    []float64 // and events caught so far
}

func newEvaluator(n int) *evaluator {
	return &evaluator{n: n, bestCum: make([]float64, n+1), order: make([]int, n)}
}

func (ev *evaluator) setActual(counts []float64) {
	ev.actual = counts
	sorted := slices.Clone(counts)
	slices.SortFunc(sorted, func(a, b float64) int { return cmp.Compare(b, a) })
	ev.total = 0
	for i, c := range sorted {
		ev.total += c
		ev.bestCum[i+1] = ev.total
	}
}

// best is the most events any choice of k (fractional) cells can catch.
func (ev *evaluator) best(k float64) float64 {
	i := int(k)
	if i >= ev.n {
		return ev.total
	}
	return ev.bestCum[i] + (k-float64(i))*(ev.bestCum[i+1]-ev.bestCum[i])
}

// score returns the hit rate (share, 0..1) and PEI* at each coverage, and the
// area under the hit-rate curve.
func (ev *evaluator) score(scores []float64, coverages []float64) (hr, pei []float64, auc float64) {
	key := func(i int) float64 {
		if math.IsNaN(scores[i]) {
			return math.Inf(-1)
		}
		return scores[i]
	}
	for i := range ev.order {
		ev.order[i] = i
	}
	slices.SortFunc(ev.order, func(a, b int) int { return cmp.Compare(key(b), key(a)) })
	ev.cells, ev.hits = append(ev.cells[:0], 0), append(ev.hits[:0], 0)
	var cells, hits float64
	for i := 0; i < ev.n; {
		j := i
		for j < ev.n && key(ev.order[j]) == key(ev.order[i]) {
			hits += ev.actual[ev.order[j]]
			j++
		}
		cells += float64(j - i)
		ev.cells, ev.hits = append(ev.cells, cells), append(ev.hits, hits)
		i = j
	}
	for j := 1; j < len(ev.cells); j++ {
		auc += (ev.cells[j] - ev.cells[j-1]) * (ev.hits[j] + ev.hits[j-1]) / 2
	}
	auc /= float64(ev.n) * ev.total
	hr = make([]float64, len(coverages))
	pei = make([]float64, len(coverages))
	for c, share := range coverages {
		k := share * float64(ev.n)
		j := sort.SearchFloat64s(ev.cells, k) // first breakpoint ≥ k
		h := ev.hits[len(ev.hits)-1]
		if j < len(ev.cells) {
			if j == 0 {
				h = 0
			} else {
				f := (k - ev.cells[j-1]) / (ev.cells[j] - ev.cells[j-1])
				h = ev.hits[j-1] + f*(ev.hits[j]-ev.hits[j-1])
			}
		}
		hr[c] = h / ev.total
		pei[c] = h / ev.best(k)
	}
	return hr, pei, auc
}
