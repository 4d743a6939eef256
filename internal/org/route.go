package org

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"vigie"
)

// geoIndex finds the commune under a point: a uniform grid of cells, each
// listing the communes whose bounding box overlaps it, then a
// point-in-polygon test on those few candidates.
type geoIndex struct {
	version int64
	cell    float64
	grid    map[[2]int32][]int32
	insee   []string
	shapes  []shape
}

const gridCell = 0.05 // degrees: a few communes per cell in France

func cellOf(x, y float64) [2]int32 {
	return [2]int32{int32(math.Floor(x / gridCell)), int32(math.Floor(y / gridCell))}
}

// buildIndex indexes the communes' geometries; communes without a readable
// geometry are skipped (they can still be routed by INSEE code).
func buildIndex(version int64, communes []Commune) *geoIndex {
	ix := &geoIndex{version: version, cell: gridCell, grid: map[[2]int32][]int32{}}
	for _, c := range communes {
		if c.Geometry == "" {
			continue
		}
		s, err := parseGeometry([]byte(c.Geometry))
		if err != nil {
			continue
		}
		i := int32(len(ix.shapes))
		ix.shapes = append(ix.shapes, s)
		ix.insee = append(ix.insee, c.INSEE)
		lo, hi := cellOf(s.box.minX, s.box.minY), cellOf(s.box.maxX, s.box.maxY)
		for cx := lo[0]; cx <= hi[0]; cx++ {
			for cy := lo[1]; cy <= hi[1]; cy++ {
				k := [2]int32{cx, cy}
				ix.grid[k] = append(ix.grid[k], i)
			}
		}
	}
	return ix
}

// find returns the INSEE code of the commune containing p. Candidates are
// tried in INSEE order, so a point on a shared border always routes the same way.
func (ix *geoIndex) find(p point) (string, bool) {
	for _, i := range ix.grid[cellOf(p.x, p.y)] {
		if ix.shapes[i].contains(p) {
			return ix.insee[i], true
		}
	}
	return "", false
}

// router holds the index, rebuilt when the communes change (geo_version).
type router struct {
	mu      sync.Mutex
	ix      *geoIndex
	checked time.Time
}

func (s *Service) index(ctx context.Context) (*geoIndex, error) {
	s.route.mu.Lock()
	defer s.route.mu.Unlock()
	if s.route.ix != nil && time.Since(s.route.checked) < time.Second {
		return s.route.ix, nil
	}
	_, gv, err := readVersion(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("org: read version: %w", err)
	}
	s.route.checked = time.Now()
	if s.route.ix != nil && s.route.ix.version == gv {
		return s.route.ix, nil
	}
	cs, err := listCommunes(ctx, s.db, "", true)
	if err != nil {
		return nil, err
	}
	s.route.ix = buildIndex(gv, cs)
	return s.route.ix, nil
}

// Route finds the commune at longitude lon, latitude lat (WGS84) and the
// brigade whose territory holds it. When the commune belongs to no brigade
// yet, the commune is returned with a KindNotFound error.
func (s *Service) Route(ctx context.Context, lon, lat float64) (Commune, Unit, error) {
	const op = "org.Route"
	if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return Commune{}, Unit{}, vigie.Invalidf(op, "The position must be a longitude between -180 and 180 and a latitude between -90 and 90, in degrees.")
	}
	ix, err := s.index(ctx)
	if err != nil {
		return Commune{}, Unit{}, err
	}
	insee, ok := ix.find(point{lon, lat})
	if !ok {
		return Commune{}, Unit{}, vigie.E(vigie.KindNotFound, op,
			fmt.Sprintf("The position %.5f, %.5f lies in no commune of the départements Vigie serves.", lat, lon), nil)
	}
	return s.RouteCommune(ctx, insee)
}

// RouteCommune returns the commune with INSEE code insee and its brigade.
func (s *Service) RouteCommune(ctx context.Context, insee string) (Commune, Unit, error) {
	const op = "org.RouteCommune"
	insee = strings.ToUpper(strings.TrimSpace(insee))
	if len(insee) != 5 {
		return Commune{}, Unit{}, vigie.Invalidf(op, "An INSEE commune code has 5 characters, for example 01053 or 2A004.")
	}
	c, err := getCommune(ctx, s.db, insee)
	if err != nil {
		return Commune{}, Unit{}, err
	}
	if c.BrigadeID == 0 {
		return c, Unit{}, vigie.E(vigie.KindNotFound, op, fmt.Sprintf("The commune %s (%s) is not yet in the territory of a brigade.", c.Name, c.INSEE), nil)
	}
	u, err := getUnit(ctx, s.db, c.BrigadeID)
	if err != nil {
		return c, Unit{}, err
	}
	return c, u, nil
}
