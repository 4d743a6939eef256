package org

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"vigie"
	"vigie/internal/db"
)

// The pilot départements' communes, population and names, copied from
// shared/geo by geodata/mkgeodata.go: the binary never reads outside files.
//
//go:embed geodata/*.gz
var geodata embed.FS

// PilotDepartements are the codes of the 12 pilot départements.
var PilotDepartements = []string{"01", "13", "29", "2A", "31", "33", "35", "38", "59", "67", "69", "974"}

func readGz(name string) ([]byte, error) {
	f, err := geodata.Open("geodata/" + name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// pilotDept is an entry of departements.json.
type pilotDept struct {
	Code        string `json:"code"`
	Region      string `json:"region"`
	Nom         string `json:"nom"`
	TypeLiaison int    `json:"typeLiaison"`
	Zone        string `json:"zone"`
}

// demoCommune is a commune with what the derivation needs.
type demoCommune struct {
	Commune
	at point // centroid, in local planar coordinates (x scaled by cos(latitude))
	w  float64
}

// SeedDemo derives a demonstration organisation for the pilot départements
// depts (all 12 when none is given): each département, its communes, one
// groupement, a handful of compagnies clustering the communes by position
// and population, and brigades of neighbouring communes of about 10,000 to
// 30,000 inhabitants, named after their most populous commune. Every commune
// of the geometry lands in exactly one brigade. The output is the same on
// every run. Départements already present are left alone. It writes no
// journal record or event: it is the initial state of a demo installation.
func SeedDemo(ctx context.Context, tx *db.Tx, depts ...string) error {
	const op = "org.SeedDemo"
	if len(depts) == 0 {
		depts = PilotDepartements
	}
	b, err := readGz("departements.json.gz")
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	var pilots []pilotDept
	if err := json.Unmarshal(b, &pilots); err != nil {
		return fmt.Errorf("%s: departements.json: %w", op, err)
	}
	popData, err := readGz("communes-population.json.gz")
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for _, code := range depts {
		i := slices.IndexFunc(pilots, func(p pilotDept) bool { return p.Code == code })
		if i < 0 {
			return vigie.Invalidf(op, "The département %q is not one of the pilot départements (%s).", code, strings.Join(PilotDepartements, ", "))
		}
		if _, err := getDept(ctx, tx, code); err == nil {
			continue
		} else if vigie.KindOf(err) != vigie.KindNotFound {
			return err
		}
		if err := seedDept(ctx, tx, pilots[i], popData); err != nil {
			return fmt.Errorf("%s %s: %w", op, code, err)
		}
	}
	return bumpVersion(ctx, tx, true)
}

func seedDept(ctx context.Context, tx *db.Tx, p pilotDept, popData []byte) error {
	geo, err := readGz("communes-" + p.Code + ".geojson.gz")
	if err != nil {
		return err
	}
	communes, _, err := ParseCommunes(p.Code, geo, popData)
	if err != nil {
		return err
	}
	d := Departement{Code: p.Code, Name: p.Nom, Region: p.Region}
	if p.Zone != "metro" {
		d.Zone = ZoneOutreMer
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if err := storeDept(ctx, tx, &d); err != nil {
		return err
	}
	cs := make([]demoCommune, len(communes))
	var lat0 float64
	for i, c := range communes {
		s, err := parseGeometry([]byte(c.Geometry))
		if err != nil {
			return err
		}
		at, _ := s.centroid()
		cs[i] = demoCommune{Commune: c, at: at, w: float64(c.Population)}
		lat0 += at.y / float64(len(communes))
		if err := upsertCommune(ctx, tx, &communes[i]); err != nil {
			return err
		}
	}
	k := math.Cos(lat0 * math.Pi / 180)
	for i := range cs {
		cs[i].at.x *= k
	}

	g := Unit{Dept: d.Code, Kind: Groupement, Code: "GGD-" + d.Code,
		Name: "Groupement de gendarmerie départementale " + deptDe(p.Nom, p.TypeLiaison)}
	if err := insertUnit(ctx, tx, &g); err != nil {
		return err
	}
	var total float64
	for _, c := range cs {
		total += c.w
	}
	// A handful of compagnies: one per ~250,000 inhabitants, 3 to 7.
	nc := min(max(int(math.Round(total/250000)), 3), 7, len(cs))
	for _, comp := range cluster(cs, nc, func(c demoCommune) float64 { return math.Sqrt(c.w + 1) }) {
		main := mostPopulous(comp)
		cu := Unit{Dept: d.Code, Kind: Compagnie, ParentID: g.ID, Code: "CIE-" + main.INSEE, Name: "Compagnie " + deName(main.Name)}
		if err := insertUnit(ctx, tx, &cu); err != nil {
			return err
		}
		for _, br := range brigades(comp) {
			main := mostPopulous(br)
			bu := Unit{Dept: d.Code, Kind: Brigade, ParentID: cu.ID, Code: "BR-" + main.INSEE, Name: "Brigade " + deName(main.Name)}
			if err := insertUnit(ctx, tx, &bu); err != nil {
				return err
			}
			for _, c := range br {
				if err := assignCommune(ctx, tx, c.INSEE, bu.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func mostPopulous(cs []demoCommune) demoCommune {
	return slices.MaxFunc(cs, func(a, b demoCommune) int {
		if c := cmp.Compare(a.w, b.w); c != 0 {
			return c
		}
		return strings.Compare(b.INSEE, a.INSEE) // the smaller code wins ties
	})
}

// brigades splits a compagnie's communes into brigades: a town of 30,000 or
// more is a brigade on its own; the rest is clustered into groups of about
// 20,000 inhabitants, and groups under 5,000 are merged into their nearest
// neighbour.
func brigades(cs []demoCommune) [][]demoCommune {
	var out [][]demoCommune
	var rest []demoCommune
	var pop float64
	for _, c := range cs {
		if c.w >= 30000 {
			out = append(out, []demoCommune{c})
		} else {
			rest = append(rest, c)
			pop += c.w
		}
	}
	if len(rest) == 0 {
		return out
	}
	n := min(max(int(math.Round(pop/20000)), 1), len(rest))
	groups := cluster(rest, n, func(c demoCommune) float64 { return c.w + 50 })
	for {
		small := -1
		for i, g := range groups {
			if len(groups) > 1 && sumPop(g) < 5000 {
				small = i
				break
			}
		}
		if small < 0 {
			break
		}
		c := centre(groups[small])
		best, bestD := -1, math.Inf(1)
		for i, g := range groups {
			if i != small {
				if d := dist2(c, centre(g)); d < bestD {
					best, bestD = i, d
				}
			}
		}
		groups[best] = append(groups[best], groups[small]...)
		groups = slices.Delete(groups, small, small+1)
	}
	return append(out, groups...)
}

func sumPop(cs []demoCommune) float64 {
	var s float64
	for _, c := range cs {
		s += c.w
	}
	return s
}

func centre(cs []demoCommune) point {
	var p point
	for _, c := range cs {
		p.x += c.at.x / float64(len(cs))
		p.y += c.at.y / float64(len(cs))
	}
	return p
}

func dist2(a, b point) float64 { return (a.x-b.x)*(a.x-b.x) + (a.y-b.y)*(a.y-b.y) }

// cluster is a deterministic weighted k-means: centres start at the
// heaviest commune, then each next one where weight × squared distance to
// the chosen centres is largest (a farthest-point start that favours
// towns), then Lloyd iterations. Empty clusters are dropped; the result is
// in a stable order (by the INSEE code of each cluster's first commune).
func cluster(cs []demoCommune, k int, weight func(demoCommune) float64) [][]demoCommune {
	if k <= 1 || len(cs) <= 1 {
		return [][]demoCommune{cs}
	}
	centres := []point{mostPopulous(cs).at}
	d2 := make([]float64, len(cs))
	for i := range d2 {
		d2[i] = math.Inf(1)
	}
	for len(centres) < k {
		last := centres[len(centres)-1]
		best, bestS := -1, -1.0
		for i, c := range cs {
			d2[i] = min(d2[i], dist2(c.at, last))
			if s := d2[i] * weight(c); s > bestS {
				best, bestS = i, s
			}
		}
		centres = append(centres, cs[best].at)
	}
	assign := make([]int, len(cs))
	for iter := 0; iter < 50; iter++ {
		moved := false
		for i, c := range cs {
			best, bestD := 0, math.Inf(1)
			for j, ce := range centres {
				if d := dist2(c.at, ce); d < bestD {
					best, bestD = j, d
				}
			}
			if assign[i] != best || iter == 0 {
				moved = moved || assign[i] != best
				assign[i] = best
			}
		}
		if !moved && iter > 0 {
			break
		}
		sum := make([]point, k)
		w := make([]float64, k)
		for i, c := range cs {
			cw := weight(c)
			sum[assign[i]].x += c.at.x * cw
			sum[assign[i]].y += c.at.y * cw
			w[assign[i]] += cw
		}
		for j := range centres {
			if w[j] > 0 {
				centres[j] = point{sum[j].x / w[j], sum[j].y / w[j]}
			}
		}
	}
	groups := make([][]demoCommune, k)
	for i, c := range cs {
		groups[assign[i]] = append(groups[assign[i]], c)
	}
	groups = slices.DeleteFunc(groups, func(g []demoCommune) bool { return len(g) == 0 })
	slices.SortFunc(groups, func(a, b []demoCommune) int { return strings.Compare(a[0].INSEE, b[0].INSEE) })
	return groups
}

// pilotGeoJSON returns the embedded communes GeoJSON of a pilot département
// (tests and the import form's example use it).
func pilotGeoJSON(code string) ([]byte, error) {
	b, err := readGz("communes-" + code + ".geojson.gz")
	if err != nil {
		return nil, vigie.E(vigie.KindNotFound, "org.pilotGeoJSON", fmt.Sprintf("No embedded geometry for département %s.", code), err)
	}
	return bytes.Clone(b), nil
}
