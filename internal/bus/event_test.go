package bus

import (
	"encoding/json"
	"testing"
	"time"

	"vigie"
)

func TestSubjectOf(t *testing.T) {
	tests := []struct {
		prefix string
		ev     Event
		want   string // "" when invalid
	}{
		{"vigie", Event{Dept: "01", Area: "org", Type: "unit.created"}, "vigie.01.org.unit.created"},
		{"vigie", Event{Dept: "2A", Area: "complaint", Type: "filed"}, "vigie.2A.complaint.filed"},
		{"vigie", Event{Dept: "974", Area: "audit", Type: "record.appended"}, "vigie.974.audit.record.appended"},
		{"vigie", Event{Area: "auth", Type: "user.locked"}, "vigie.national.auth.user.locked"},
		{"t.run1", Event{Area: "org", Type: "x"}, "t.run1.national.org.x"},
		{"vigie", Event{Dept: "01", Area: "", Type: "x"}, ""},
		{"vigie", Event{Dept: "01", Area: "org", Type: ""}, ""},
		{"vigie", Event{Dept: "01", Area: "o.rg", Type: "x"}, ""},
		{"vigie", Event{Dept: "01", Area: "org", Type: "unit..created"}, ""},
		{"vigie", Event{Dept: "01", Area: "org", Type: "unit.>"}, ""},
		{"vigie", Event{Dept: "01", Area: "org", Type: "*"}, ""},
		{"vigie", Event{Dept: "01", Area: "org", Type: "unit created"}, ""},
		{"vigie", Event{Dept: "01", Area: "Org", Type: "x"}, ""},
		{"vigie", Event{Dept: "1", Area: "org", Type: "x"}, ""},
		{"vigie", Event{Dept: "0.1", Area: "org", Type: "x"}, ""},
		{"vigie", Event{Dept: "2a", Area: "org", Type: "x"}, ""},
		{"vigie", Event{Dept: "01", Area: "org", Type: "x."}, ""},
		{"", Event{Dept: "01", Area: "org", Type: "x"}, ""},
	}
	for _, tt := range tests {
		got, err := SubjectOf(tt.prefix, tt.ev)
		if tt.want == "" {
			if vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "" {
				t.Errorf("SubjectOf(%q, %+v) = %q, %v; want KindInvalid with a message", tt.prefix, tt.ev, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SubjectOf(%q, %+v) = %q, %v; want %q", tt.prefix, tt.ev, got, err, tt.want)
		}
	}
}

func TestDecodeEvent(t *testing.T) {
	valid := `{"specversion":"1.0","id":"e1","source":"/vigie/01/org","type":"fr.gendarmerie.vigie.org.unit.created","subject":"7","time":"2026-01-02T03:04:05Z","datacontenttype":"application/json","data":{"id":7}}`
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"valid", valid, true},
		{"extension attribute ignored", `{"specversion":"1.0","id":"e","source":"s","type":"t","time":"2026-01-02T03:04:05+01:00","vigiedept":"01"}`, true},
		{"no data", `{"specversion":"1.0","id":"e","source":"s","type":"t","time":"2026-01-02T03:04:05Z"}`, true},
		{"not json", `not json`, false},
		{"empty", ``, false},
		{"array", `[]`, false},
		{"trailing data", valid + `{}`, false},
		{"version 0.3", `{"specversion":"0.3","id":"e","source":"s","type":"t","time":"2026-01-02T03:04:05Z"}`, false},
		{"no id", `{"specversion":"1.0","id":" ","source":"s","type":"t","time":"2026-01-02T03:04:05Z"}`, false},
		{"no source", `{"specversion":"1.0","id":"e","type":"t","time":"2026-01-02T03:04:05Z"}`, false},
		{"no type", `{"specversion":"1.0","id":"e","source":"s","time":"2026-01-02T03:04:05Z"}`, false},
		{"no time", `{"specversion":"1.0","id":"e","source":"s","type":"t"}`, false},
		{"bad time", `{"specversion":"1.0","id":"e","source":"s","type":"t","time":"yesterday"}`, false},
		{"xml data", `{"specversion":"1.0","id":"e","source":"s","type":"t","time":"2026-01-02T03:04:05Z","datacontenttype":"application/xml","data":"<a/>"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeEvent([]byte(tt.in))
			if tt.ok != (err == nil) {
				t.Fatalf("DecodeEvent = %+v, %v; want ok %v", ev, err, tt.ok)
			}
			if err != nil && vigie.KindOf(err) != vigie.KindInvalid {
				t.Errorf("error kind = %v, want invalid", vigie.KindOf(err))
			}
		})
	}
	ev, _ := DecodeEvent([]byte(valid))
	var data struct{ ID int }
	if err := ev.DecodeData(&data); err != nil || data.ID != 7 {
		t.Errorf("DecodeData = %+v, %v; want id 7", data, err)
	}
	if !ev.Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("time = %v", ev.Time)
	}
}

// What Vigie writes, Vigie reads back unchanged.
func TestCloudEventRoundTrip(t *testing.T) {
	ce, err := newCloudEvent(Event{Dept: "2A", Area: "org", Type: "unit.renamed", Subject: "12", Data: map[string]int{"v": 2}}, time.Now().UTC().Truncate(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ce)
	got, err := DecodeEvent(b)
	if err != nil {
		t.Fatalf("DecodeEvent(%s) = %v", b, err)
	}
	if got.ID != ce.ID || got.Type != ce.Type || got.Source != ce.Source || !got.Time.Equal(ce.Time) || string(got.Data) != `{"v":2}` {
		t.Errorf("round trip = %+v, want %+v", got, ce)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"e1","source":"/vigie/01/org","type":"t","time":"2026-01-02T03:04:05Z","data":{"a":[1,2]}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"e","source":"s","type":"t","time":"2026-01-02T03:04:05Z","data":null}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"data":"\u0000"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid {
				t.Fatalf("error of kind %v, want invalid: %v", vigie.KindOf(err), err)
			}
			return
		}
		if ev.SpecVersion != "1.0" || ev.ID == "" || ev.Source == "" || ev.Type == "" || ev.Time.IsZero() {
			t.Fatalf("accepted an event without its required attributes: %+v", ev)
		}
		// A decoded event encodes and decodes again to the same attributes.
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		ev2, err := DecodeEvent(again)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", again, err)
		}
		if ev2.ID != ev.ID || ev2.Type != ev.Type || !ev2.Time.Equal(ev.Time) {
			t.Fatalf("round trip changed the event: %+v vs %+v", ev, ev2)
		}
	})
}

func FuzzSubjectOf(f *testing.F) {
	f.Add("01", "org", "unit.created")
	f.Add("", "a", "b.*")
	f.Fuzz(func(t *testing.T, dept, area, typ string) {
		s, err := SubjectOf("vigie", Event{Dept: dept, Area: area, Type: typ})
		if err != nil {
			return
		}
		for _, c := range s {
			if c == '*' || c == '>' || c <= ' ' || c > '~' {
				t.Fatalf("subject %q has a character NATS would misread", s)
			}
		}
	})
}
