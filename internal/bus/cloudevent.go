package bus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"vigie"
)

// ContentType is the media type of a structured CloudEvent.
const ContentType = "application/cloudevents+json"

// CloudEvent is the structured-mode JSON envelope of CloudEvents 1.0 that
// Vigie puts on the bus. Only the attributes Vigie uses are modelled;
// unknown extension attributes are ignored when decoding.
type CloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
}

// maxEventSize bounds what DecodeEvent accepts; it matches the default
// NATS maximum payload (1 MiB).
const maxEventSize = 1 << 20

// DecodeEvent parses a structured CloudEvent received from the bus and
// checks the attributes that the specification requires (specversion "1.0",
// non-empty id, source and type) and the ones Vigie always sets (time).
// Consumers call it on every message; bad input gives a KindInvalid error.
func DecodeEvent(b []byte) (*CloudEvent, error) {
	const op = "bus.DecodeEvent"
	if len(b) > maxEventSize {
		return nil, vigie.Invalidf(op, "The event is too large (%d bytes).", len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var ce CloudEvent
	if err := dec.Decode(&ce); err != nil {
		return nil, vigie.E(vigie.KindInvalid, op, "The event is not valid JSON.", err)
	}
	if dec.More() {
		return nil, vigie.Invalidf(op, "The event has trailing data after its JSON object.")
	}
	switch {
	case ce.SpecVersion != "1.0":
		return nil, vigie.Invalidf(op, "The event has CloudEvents version %q; only \"1.0\" is supported.", ce.SpecVersion)
	case strings.TrimSpace(ce.ID) == "":
		return nil, vigie.Invalidf(op, "The event has no id.")
	case strings.TrimSpace(ce.Source) == "":
		return nil, vigie.Invalidf(op, "The event has no source.")
	case strings.TrimSpace(ce.Type) == "":
		return nil, vigie.Invalidf(op, "The event has no type.")
	case ce.Time.IsZero():
		return nil, vigie.Invalidf(op, "The event has no time.")
	}
	if ce.DataContentType != "" && ce.DataContentType != "application/json" && len(ce.Data) > 0 {
		return nil, vigie.Invalidf(op, "The event data has content type %q; only application/json is supported.", ce.DataContentType)
	}
	if string(ce.Data) == "null" {
		ce.Data = nil
	}
	return &ce, nil
}

// DecodeData unmarshals the event's data into v.
func (ce *CloudEvent) DecodeData(v any) error {
	if len(ce.Data) == 0 {
		return vigie.Invalidf("bus.DecodeData", "The event %s has no data.", ce.ID)
	}
	if err := json.Unmarshal(ce.Data, v); err != nil {
		return vigie.E(vigie.KindInvalid, "bus.DecodeData", "The event data does not have the expected shape.", fmt.Errorf("event %s: %w", ce.ID, err))
	}
	return nil
}
