package analytics

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"vigie"
)

// Source is where a stored event comes from.
type Source string

const (
	SourceOffence Source = "offence" // recorded offence
	SourceCall    Source = "call"    // call for service
	SourceLAPI    Source = "lapi"    // plate-reader (LAPI) detection or alert
	SourcePatrol  Source = "patrol"  // patrol report: where a patrol went
)

// Sources lists the sources in the order the map's layers show them.
var Sources = []Source{SourceOffence, SourceCall, SourceLAPI, SourcePatrol}

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	for _, x := range Sources {
		if s == x {
			return true
		}
	}
	return false
}

// PoliceInitiative lists categories recorded mainly on police initiative:
// patrols create them, so forecasting them sends patrols back where they
// already were (feedback loop). The risk map leaves them out of its targets
// unless asked.
var PoliceInitiative = map[string]bool{"drugs": true, "stupefiants": true, "weapons": true, "immigration": true}

// Record is one stored source event: a place and a time window, a source
// and a category. It names no person, by construction.
type Record struct {
	ID       int64
	Dept     string
	UnitID   int64
	Source   Source
	Category string
	Start    time.Time
	End      time.Time // equal to Start for an instant
	Lon, Lat float64
	PlanID   int64
}

// Reasons an imported row is refused, on top of those of ReadEvents.
const (
	SkipBadSource   = "unknown source"
	SkipBadCategory = "bad category"
	SkipBadWindow   = "end before start"
	SkipFuture      = "time in the future"
	SkipOutsideUnit = "outside the unit's territory"
)

// maxImportRows bounds one import (memory, and the time of one request).
const maxImportRows = 200000

// ParseRecords reads source events from a CSV file (header row; columns
// time/date/occurred_at or start, optional end, lon/longitude,
// lat/latitude, optional source and category) or a GeoJSON
// FeatureCollection of Points whose properties carry the same names. The
// format is recognised by the first non-blank byte ("{" for GeoJSON).
// source applies to rows that do not name one ("" means the row must).
// Rows that cannot be used are counted in Skipped by reason; the error is
// for a file that cannot be read at all.
func ParseRecords(r io.Reader, source Source, now time.Time) ([]Record, Skipped, error) {
	br := bufio.NewReader(r)
	for {
		b, err := br.Peek(1)
		if err != nil {
			return nil, nil, vigie.Invalidf("analytics.ParseRecords", "The file is empty.")
		}
		if b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t' {
			br.ReadByte()
			continue
		}
		if b[0] == '{' {
			return parseGeoJSONRecords(br, source, now)
		}
		return parseCSVRecords(br, source, now)
	}
}

var (
	startNames    = append([]string{"start", "started_at"}, timeNames...)
	endNames      = []string{"end", "ended_at"}
	sourceNames   = []string{"source"}
	categoryNames = []string{"category", "categorie", "type"}
)

// rowFields is what one row gives, as text.
type rowFields struct {
	start, end, lon, lat, source, category string
	lonNum, latNum                         *float64 // GeoJSON gives numbers
}

func (f rowFields) record(def Source, now time.Time, skipped Skipped) (Record, bool) {
	src := def
	if s := strings.ToLower(strings.TrimSpace(f.source)); s != "" {
		src = Source(s)
	}
	if !src.Valid() {
		skipped[SkipBadSource]++
		return Record{}, false
	}
	cat := strings.ToLower(strings.TrimSpace(f.category))
	if len(cat) > 40 || strings.ContainsFunc(cat, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		skipped[SkipBadCategory]++
		return Record{}, false
	}
	ts := strings.TrimSpace(f.start)
	if ts == "" || strings.EqualFold(ts, "NA") {
		skipped[SkipMissingTime]++
		return Record{}, false
	}
	start, ok := parseTime(ts)
	if !ok {
		skipped[SkipBadTime]++
		return Record{}, false
	}
	end := start
	if te := strings.TrimSpace(f.end); te != "" {
		if end, ok = parseTime(te); !ok {
			skipped[SkipBadTime]++
			return Record{}, false
		}
		if end.Before(start) {
			skipped[SkipBadWindow]++
			return Record{}, false
		}
	}
	if start.After(now.Add(24 * time.Hour)) {
		skipped[SkipFuture]++
		return Record{}, false
	}
	var lon, lat float64
	var ok1, ok2 bool
	if f.lonNum != nil && f.latNum != nil {
		lon, ok1 = *f.lonNum, *f.lonNum >= -180 && *f.lonNum <= 180
		lat, ok2 = *f.latNum, *f.latNum >= -90 && *f.latNum <= 90
	} else {
		lon, ok1 = parseDegrees(f.lon, 180)
		lat, ok2 = parseDegrees(f.lat, 90)
	}
	if !ok1 || !ok2 || (lon == 0 && lat == 0) {
		skipped[SkipBadCoords]++
		return Record{}, false
	}
	return Record{Source: src, Category: cat, Start: start.UTC(), End: end.UTC(), Lon: lon, Lat: lat}, true
}

func parseCSVRecords(r io.Reader, def Source, now time.Time) ([]Record, Skipped, error) {
	const op = "analytics.ParseRecords"
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return nil, nil, vigie.E(vigie.KindInvalid, op, "The file has no header row.", err)
	}
	ti, err := column(header, "", startNames, "time")
	if err != nil {
		return nil, nil, err
	}
	xi, err := column(header, "", lonNames, "longitude")
	if err != nil {
		return nil, nil, err
	}
	yi, err := column(header, "", latNames, "latitude")
	if err != nil {
		return nil, nil, err
	}
	opt := func(names []string) int {
		i, err := column(header, "", names, "")
		if err != nil {
			return -1
		}
		return i
	}
	ei, si, ci := opt(endNames), opt(sourceNames), opt(categoryNames)
	get := func(rec []string, i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return rec[i]
	}
	need := max(ti, xi, yi)
	var out []Record
	skipped := Skipped{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				skipped[SkipMalformed]++
				continue
			}
			return nil, nil, vigie.E(vigie.KindInvalid, op, "The file cannot be read.", err)
		}
		if len(out)+skipped.Total() >= maxImportRows {
			return nil, nil, vigie.Invalidf(op, "The file has more than %d rows; split it.", maxImportRows)
		}
		if len(rec) <= need {
			skipped[SkipMalformed]++
			continue
		}
		f := rowFields{start: rec[ti], end: get(rec, ei), lon: rec[xi], lat: rec[yi], source: get(rec, si), category: get(rec, ci)}
		if r, ok := f.record(def, now, skipped); ok {
			out = append(out, r)
		}
	}
	return out, skipped, nil
}

type geoFeature struct {
	Geometry *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

func parseGeoJSONRecords(r io.Reader, def Source, now time.Time) ([]Record, Skipped, error) {
	const op = "analytics.ParseRecords"
	data, err := io.ReadAll(io.LimitReader(r, 64<<20+1))
	if err != nil {
		return nil, nil, vigie.E(vigie.KindInvalid, op, "The file cannot be read.", err)
	}
	if len(data) > 64<<20 {
		return nil, nil, vigie.Invalidf(op, "The GeoJSON file is larger than 64 MB; split it.")
	}
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil || fc.Type != "FeatureCollection" {
		return nil, nil, vigie.E(vigie.KindInvalid, op, "The file is not a GeoJSON FeatureCollection.", err)
	}
	if len(fc.Features) > maxImportRows {
		return nil, nil, vigie.Invalidf(op, "The file has more than %d features; split it.", maxImportRows)
	}
	var out []Record
	skipped := Skipped{}
	for _, raw := range fc.Features {
		var f geoFeature
		if err := json.Unmarshal(bytes.TrimSpace(raw), &f); err != nil || f.Geometry == nil || f.Geometry.Type != "Point" {
			skipped[SkipMalformed]++
			continue
		}
		var xy []float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &xy); err != nil || len(xy) < 2 {
			skipped[SkipBadCoords]++
			continue
		}
		prop := func(names []string) string {
			for _, n := range names {
				for k, v := range f.Properties {
					if strings.EqualFold(k, n) && v != nil {
						return fmt.Sprint(v)
					}
				}
			}
			return ""
		}
		rf := rowFields{start: prop(startNames), end: prop(endNames), source: prop(sourceNames), category: prop(categoryNames),
			lonNum: &xy[0], latNum: &xy[1]}
		if r, ok := rf.record(def, now, skipped); ok {
			out = append(out, r)
		}
	}
	return out, skipped, nil
}
