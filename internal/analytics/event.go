package analytics

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"vigie"
)

// Event is one recorded offence (or other occurrence): a time and a place.
// Lon and Lat are WGS84 degrees as read; X, Y (metres in the grid's
// projection) and Cell (index in the grid, -1 when outside it) are filled by
// Grid.Place.
type Event struct {
	Time     time.Time
	Lon, Lat float64
	X, Y     float64
	Cell     int
}

// Columns names the CSV columns to read. An empty name means "recognise a
// common one" (see timeNames, lonNames, latNames).
type Columns struct {
	Time, Lon, Lat string
}

var (
	timeNames = []string{"date", "occurred_at", "time", "datetime"}
	lonNames  = []string{"lon", "longitude", "x"}
	latNames  = []string{"lat", "latitude", "y"}
)

// Reasons a row is skipped. They are counted, reported, and never fatal.
const (
	SkipMalformed   = "malformed row"
	SkipMissingTime = "missing time"
	SkipBadTime     = "bad time"
	SkipBadCoords   = "bad coordinates"
	SkipOutside     = "outside boundary"
	SkipEdgeCell    = "in a boundary cell whose centre is outside"
)

// Skipped counts skipped rows by reason.
type Skipped map[string]int

// Total is the number of rows skipped for any reason.
func (s Skipped) Total() int {
	n := 0
	for _, v := range s {
		n += v
	}
	return n
}

// timeLayouts are tried in order. Times without a zone are read as UTC, which
// keeps the wall-clock time of local-time exports (the usual case) intact.
var timeLayouts = []string{
	"2006-01-02 15:04",
	"2006-01-02 15:04:05",
	time.RFC3339,
	"2006-01-02",
}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ReadEvents reads a CSV of events with a header row, gzip-compressed or not
// (recognised by its magic number, whatever the file is called). Rows that
// cannot be used are counted in Skipped by reason; the error is only for a
// file that cannot be read at all (no header, no time or coordinate column).
// The events come back sorted by time.
func ReadEvents(r io.Reader, cols Columns) ([]Event, Skipped, error) {
	const op = "analytics.ReadEvents"
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, vigie.E(vigie.KindInvalid, op, "The events file is not valid gzip.", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return nil, nil, vigie.E(vigie.KindInvalid, op, "The events file has no header row.", err)
	}
	ti, err := column(header, cols.Time, timeNames, "time")
	if err != nil {
		return nil, nil, err
	}
	xi, err := column(header, cols.Lon, lonNames, "longitude")
	if err != nil {
		return nil, nil, err
	}
	yi, err := column(header, cols.Lat, latNames, "latitude")
	if err != nil {
		return nil, nil, err
	}
	need := max(ti, xi, yi)

	var events []Event
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
			return nil, nil, vigie.E(vigie.KindInvalid, op, "The events file cannot be read.", err)
		}
		if len(rec) <= need {
			skipped[SkipMalformed]++
			continue
		}
		ts := strings.TrimSpace(rec[ti])
		if ts == "" || strings.EqualFold(ts, "NA") {
			skipped[SkipMissingTime]++
			continue
		}
		t, ok := parseTime(ts)
		if !ok {
			skipped[SkipBadTime]++
			continue
		}
		lon, ok1 := parseDegrees(rec[xi], 180)
		lat, ok2 := parseDegrees(rec[yi], 90)
		// (0, 0) is how many exports write a missing place.
		if !ok1 || !ok2 || (lon == 0 && lat == 0) {
			skipped[SkipBadCoords]++
			continue
		}
		events = append(events, Event{Time: t, Lon: lon, Lat: lat, Cell: -1})
	}
	slices.SortStableFunc(events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return events, skipped, nil
}

func parseDegrees(s string, limit float64) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || v < -limit || v > limit {
		return 0, false
	}
	return v, true
}

// column finds the named column, or the first common name present.
func column(header []string, name string, common []string, what string) (int, error) {
	find := func(n string) int {
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), n) {
				return i
			}
		}
		return -1
	}
	if name != "" {
		if i := find(name); i >= 0 {
			return i, nil
		}
		return 0, vigie.Invalidf("analytics.ReadEvents", "The events file has no column %q.", name)
	}
	for _, n := range common {
		if i := find(n); i >= 0 {
			return i, nil
		}
	}
	return 0, vigie.Invalidf("analytics.ReadEvents", "The events file has no %s column (looked for %s; name it with a flag).", what, strings.Join(common, ", "))
}
