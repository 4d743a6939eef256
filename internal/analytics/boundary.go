package analytics

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"vigie"
)

// Ring is a closed line of points: (lon, lat) degrees in a Boundary, metres
// once projected.
type Ring [][2]float64

// Polygon is an outer ring with holes.
type Polygon struct {
	Outer Ring
	Holes []Ring
	Name  string // the KML Placemark's name, if any
}

// Boundary is the area forecasts cover (a jurisdiction), as polygons that
// should not overlap.
type Boundary struct {
	Polygons []Polygon
}

// maxBoundaryBytes bounds what ReadBoundary accepts (security: a boundary is
// outside input).
const maxBoundaryBytes = 256 << 20

// ReadBoundary reads a GeoJSON (Polygon, MultiPolygon, GeometryCollection,
// Feature, FeatureCollection) or KML (Polygon and MultiGeometry with outer and
// inner boundaries) boundary in WGS84. The format is recognised from the
// content. Every ring is checked: at least three distinct points, finite
// degrees in range.
func ReadBoundary(r io.Reader) (Boundary, error) {
	const op = "analytics.ReadBoundary"
	data, err := io.ReadAll(io.LimitReader(r, maxBoundaryBytes+1))
	if err != nil {
		return Boundary{}, vigie.E(vigie.KindInvalid, op, "The boundary file cannot be read.", err)
	}
	if len(data) > maxBoundaryBytes {
		return Boundary{}, vigie.Invalidf(op, "The boundary file is larger than %d MB.", maxBoundaryBytes>>20)
	}
	data = bytes.TrimPrefix(bytes.TrimSpace(data), []byte("\ufeff"))
	var b Boundary
	switch {
	case len(data) > 0 && data[0] == '{':
		b, err = readGeoJSON(data)
	case len(data) > 0 && data[0] == '<':
		b, err = readKML(data)
	default:
		return Boundary{}, vigie.Invalidf(op, "The boundary file is neither GeoJSON nor KML.")
	}
	if err != nil {
		return Boundary{}, vigie.E(vigie.KindInvalid, op, "The boundary file is not valid: "+err.Error()+".", err)
	}
	if len(b.Polygons) == 0 {
		return Boundary{}, vigie.Invalidf(op, "The boundary file holds no polygon.")
	}
	for i := range b.Polygons {
		p := &b.Polygons[i]
		if p.Outer, err = checkRing(p.Outer); err != nil {
			return Boundary{}, vigie.Invalidf(op, "The boundary's polygon %d: outer ring: %v.", i+1, err)
		}
		for j := range p.Holes {
			if p.Holes[j], err = checkRing(p.Holes[j]); err != nil {
				return Boundary{}, vigie.Invalidf(op, "The boundary's polygon %d: hole %d: %v.", i+1, j+1, err)
			}
		}
	}
	return b, nil
}

// checkRing validates a ring of degrees and closes it if needed.
func checkRing(r Ring) (Ring, error) {
	for _, p := range r {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.Abs(p[0]) > 180 || math.Abs(p[1]) > 90 {
			return nil, fmt.Errorf("point (%g, %g) is not a WGS84 longitude, latitude", p[0], p[1])
		}
	}
	if len(r) > 0 && r[0] != r[len(r)-1] {
		r = append(r, r[0])
	}
	distinct := 0
	for i := 1; i < len(r); i++ {
		if r[i] != r[i-1] {
			distinct++
		}
	}
	if distinct < 3 {
		return nil, errors.New("fewer than three distinct points")
	}
	return r, nil
}

type geoJSON struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
	Geometry    *geoJSON        `json:"geometry"`
	Geometries  []*geoJSON      `json:"geometries"`
	Features    []*geoJSON      `json:"features"`
}

func readGeoJSON(data []byte) (Boundary, error) {
	var g geoJSON
	if err := json.Unmarshal(data, &g); err != nil {
		return Boundary{}, fmt.Errorf("GeoJSON: %w", err)
	}
	var b Boundary
	err := g.collect(&b, 0)
	return b, err
}

func (g *geoJSON) collect(b *Boundary, depth int) error {
	if g == nil {
		return nil
	}
	if depth > 8 {
		return errors.New("GeoJSON nested too deeply")
	}
	switch g.Type {
	case "FeatureCollection":
		for _, f := range g.Features {
			if err := f.collect(b, depth+1); err != nil {
				return err
			}
		}
	case "Feature":
		return g.Geometry.collect(b, depth+1)
	case "GeometryCollection":
		for _, x := range g.Geometries {
			if err := x.collect(b, depth+1); err != nil {
				return err
			}
		}
	case "Polygon":
		var rings [][][2]float64
		if err := json.Unmarshal(g.Coordinates, &rings); err != nil {
			return fmt.Errorf("GeoJSON Polygon coordinates: %w", err)
		}
		b.Polygons = appendPolygon(b.Polygons, rings)
	case "MultiPolygon":
		var polys [][][][2]float64
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			return fmt.Errorf("GeoJSON MultiPolygon coordinates: %w", err)
		}
		for _, rings := range polys {
			b.Polygons = appendPolygon(b.Polygons, rings)
		}
	case "Point", "MultiPoint", "LineString", "MultiLineString":
		// Not an area: ignored (a boundary file may carry labels).
	default:
		return fmt.Errorf("GeoJSON type %q is not supported", g.Type)
	}
	return nil
}

func appendPolygon(ps []Polygon, rings [][][2]float64) []Polygon {
	if len(rings) == 0 {
		return ps
	}
	p := Polygon{Outer: rings[0]}
	for _, h := range rings[1:] {
		p.Holes = append(p.Holes, h)
	}
	return append(ps, p)
}

// readKML walks the XML tokens: every Polygon element (wherever it sits:
// Placemark, MultiGeometry, Folder) gives one polygon; coordinates inside
// outerBoundaryIs make its outer ring, inside innerBoundaryIs its holes.
func readKML(data []byte) (Boundary, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var (
		b                Boundary
		cur              *Polygon
		inOuter, inInner bool
		inCoords, sawKML bool
		coords           strings.Builder
		inName           bool
		placemark        string // name of the current Placemark
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Boundary{}, fmt.Errorf("KML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "kml":
				sawKML = true
			case "Placemark":
				placemark = ""
			case "name":
				inName = true
			case "Polygon":
				if cur != nil {
					return Boundary{}, errors.New("KML: Polygon inside a Polygon")
				}
				cur = &Polygon{Name: placemark}
			case "outerBoundaryIs":
				inOuter = true
			case "innerBoundaryIs":
				inInner = true
			case "coordinates":
				inCoords = true
				coords.Reset()
			}
		case xml.CharData:
			if inName && len(placemark) < 200 {
				placemark += strings.TrimSpace(string(t))
			}
			if inCoords {
				if coords.Len()+len(t) > maxBoundaryBytes {
					return Boundary{}, errors.New("KML: coordinates too long")
				}
				coords.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "Polygon":
				if cur == nil {
					return Boundary{}, errors.New("KML: unbalanced Polygon")
				}
				if cur.Outer == nil {
					return Boundary{}, errors.New("KML: Polygon without outerBoundaryIs")
				}
				b.Polygons = append(b.Polygons, *cur)
				cur = nil
			case "name":
				inName = false
			case "outerBoundaryIs":
				inOuter = false
			case "innerBoundaryIs":
				inInner = false
			case "coordinates":
				inCoords = false
				if cur == nil || (!inOuter && !inInner) {
					continue // a Point or LineString: not an area
				}
				ring, err := parseKMLCoords(coords.String())
				if err != nil {
					return Boundary{}, err
				}
				if inOuter {
					if cur.Outer != nil {
						return Boundary{}, errors.New("KML: Polygon with two outer boundaries")
					}
					cur.Outer = ring
				} else {
					cur.Holes = append(cur.Holes, ring)
				}
			}
		}
	}
	if !sawKML {
		return Boundary{}, errors.New("not a KML document")
	}
	return b, nil
}

// parseKMLCoords reads "lon,lat[,alt] lon,lat[,alt] ...".
func parseKMLCoords(s string) (Ring, error) {
	var r Ring
	for _, tuple := range strings.Fields(s) {
		parts := strings.Split(tuple, ",")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("KML: coordinate %q is not lon,lat[,alt]", truncate(tuple))
		}
		lon, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("KML: coordinate %q is not a number", truncate(tuple))
		}
		r = append(r, [2]float64{lon, lat})
	}
	return r, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Contains reports whether the point lies inside the boundary: inside one
// polygon's outer ring and outside its holes (even-odd rule per polygon, so
// adjacent polygons do not cancel each other). Works on degrees or projected
// metres alike.
func (b Boundary) Contains(x, y float64) bool {
	for _, p := range b.Polygons {
		if p.Contains(x, y) {
			return true
		}
	}
	return false
}

// Contains reports whether the point is inside the outer ring and no hole.
func (p Polygon) Contains(x, y float64) bool {
	if !p.Outer.contains(x, y) {
		return false
	}
	for _, h := range p.Holes {
		if h.contains(x, y) {
			return false
		}
	}
	return true
}

func (r Ring) contains(x, y float64) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a[1] > y) != (b[1] > y) && x < (b[0]-a[0])*(y-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}
