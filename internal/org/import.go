package org

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"vigie"
	"vigie/internal/bus"
	"vigie/internal/db"
)

// An administrator adds a département by importing data, with no change of
// code: a GeoJSON FeatureCollection of its communes (properties "code", the
// INSEE code, and "nom"; Polygon or MultiPolygon geometry, WGS84) and,
// optionally, a population file in the format of @etalab/decoupage-
// administratif's communes.json (code, nom, departement, codesPostaux,
// population). Territories are then assigned by the administrator.

// maxImportFeatures bounds an import: the largest département has under
// 1000 communes.
const maxImportFeatures = 5000

// populationEntry is one commune of the population file.
type populationEntry struct {
	Code         string   `json:"code"`
	Nom          string   `json:"nom"`
	Departement  string   `json:"departement"`
	CodesPostaux []string `json:"codesPostaux"`
	Population   int64    `json:"population"`
}

// ParseCommunes reads a département's communes from GeoJSON and an optional
// population file. Problems with the data are KindInvalid errors that name
// the feature and say what is wrong; population entries of codes that the
// geometry lacks are ignored and counted in skipped (communes merge and split
// over the years, so the two files rarely match exactly).
func ParseCommunes(dept string, geojson, population []byte) (communes []Commune, skipped int, err error) {
	const op = "org.Import"
	if !ValidDeptCode(dept) {
		return nil, 0, vigie.Invalidf(op, "The département code %q is not valid.", dept)
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Type       string          `json:"type"`
			Properties map[string]any  `json:"properties"`
			Geometry   json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(geojson, &fc); err != nil {
		return nil, 0, vigie.E(vigie.KindInvalid, op, "The communes file is not valid GeoJSON: "+jsonError(geojson, err), err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, 0, vigie.Invalidf(op, "The communes file must be a GeoJSON FeatureCollection (its type is %q).", fc.Type)
	}
	if len(fc.Features) == 0 {
		return nil, 0, vigie.Invalidf(op, "The communes file holds no commune.")
	}
	if len(fc.Features) > maxImportFeatures {
		return nil, 0, vigie.Invalidf(op, "The communes file holds %d features; a département has at most %d communes.", len(fc.Features), maxImportFeatures)
	}
	seen := map[string]int{}
	for i, f := range fc.Features {
		n := i + 1
		code, _ := f.Properties["code"].(string)
		name, _ := f.Properties["nom"].(string)
		code, name = strings.ToUpper(strings.TrimSpace(code)), strings.TrimSpace(name)
		switch {
		case code == "":
			return nil, 0, vigie.Invalidf(op, "Commune %d of the file has no \"code\" property (its INSEE code).", n)
		case !ValidINSEE(code, dept):
			return nil, 0, vigie.Invalidf(op, "Commune %d has the code %q, which is not an INSEE code of département %s (it must start with %s and have 5 characters).", n, code, dept, dept)
		case name == "":
			return nil, 0, vigie.Invalidf(op, "Commune %s has no \"nom\" property (its name).", code)
		case seen[code] != 0:
			return nil, 0, vigie.Invalidf(op, "The code %s appears twice (communes %d and %d).", code, seen[code], n)
		}
		if err := checkName(op, "commune", name); err != nil {
			return nil, 0, err
		}
		seen[code] = n
		if len(bytes.TrimSpace(f.Geometry)) == 0 || string(bytes.TrimSpace(f.Geometry)) == "null" {
			return nil, 0, vigie.Invalidf(op, "Commune %s (%s) has no geometry.", code, name)
		}
		s, err := parseGeometry(f.Geometry)
		if err != nil {
			return nil, 0, vigie.Invalidf(op, "Commune %s (%s): %s.", code, name, err.Error())
		}
		communes = append(communes, Commune{INSEE: code, Dept: dept, Name: name, Geometry: s.geoJSON()})
	}
	if len(bytes.TrimSpace(population)) == 0 {
		return communes, 0, nil
	}
	var pop []populationEntry
	if err := json.Unmarshal(population, &pop); err != nil {
		return nil, 0, vigie.E(vigie.KindInvalid, op, "The population file is not a valid JSON list of communes: "+jsonError(population, err), err)
	}
	byCode := map[string]populationEntry{}
	for _, p := range pop {
		if p.Departement != "" && p.Departement != dept {
			continue
		}
		if p.Population < 0 {
			return nil, 0, vigie.Invalidf(op, "The population of commune %s is negative.", p.Code)
		}
		byCode[strings.ToUpper(p.Code)] = p
	}
	for i := range communes {
		if p, ok := byCode[communes[i].INSEE]; ok {
			communes[i].Population = p.Population
			communes[i].PostalCodes = p.CodesPostaux
			delete(byCode, communes[i].INSEE)
		}
	}
	return communes, len(byCode), nil
}

func jsonError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case asError(err, &se):
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("syntax error on line %d.", line)
	case asError(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("the field %q should be %s, not a JSON %s.", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("expected %s, found a JSON %s.", te.Type, te.Value)
	}
	return "it cannot be read."
}

// ImportResult says what an import did.
type ImportResult struct {
	Departement Departement `json:"departement"`
	Communes    int         `json:"communes"`
	Skipped     int         `json:"skipped_population_entries"`
}

// ImportDepartement creates département d (or updates the communes of an
// existing one with the same code) from GeoJSON and population files.
func (s *Service) ImportDepartement(ctx context.Context, d Departement, geojson, population []byte) (ImportResult, error) {
	if err := d.Validate(); err != nil {
		return ImportResult{}, err
	}
	communes, skipped, err := ParseCommunes(d.Code, geojson, population)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Departement: d, Communes: len(communes), Skipped: skipped}
	err = s.change(ctx, true, func(tx *db.Tx) (vigie.Record, bus.Event, error) {
		detail := "imported"
		if _, err := getDept(ctx, tx, d.Code); vigie.KindOf(err) == vigie.KindNotFound {
			if err := storeDept(ctx, tx, &d); err != nil {
				return vigie.Record{}, bus.Event{}, err
			}
		} else if err != nil {
			return vigie.Record{}, bus.Event{}, err
		} else {
			detail = "re-imported"
		}
		for i := range communes {
			if err := upsertCommune(ctx, tx, &communes[i]); err != nil {
				return vigie.Record{}, bus.Event{}, fmt.Errorf("org: store commune %s: %w", communes[i].INSEE, err)
			}
		}
		res.Departement = d
		return vigie.Record{Object: "departement", ObjectID: d.Code, Dept: d.Code, Detail: fmt.Sprintf("%s %d communes", detail, len(communes))},
			bus.Event{Dept: d.Code, Type: "departement.imported", Subject: d.Code, Data: map[string]any{"code": d.Code, "communes": len(communes)}}, nil
	})
	return res, err
}
