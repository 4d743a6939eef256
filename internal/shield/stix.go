package shield

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"vigie"
)

// STIX 2.1 export of the bans, for CERTs and allied forces: one indicator
// per ban in force, marked with the Traffic Light Protocol. Identifiers
// are UUIDv5 under Vigie's namespace, so the same ban exported twice keeps
// its identifier and partners deduplicate it.

// tlpMarkings are the STIX 2.1 predefined TLP marking definitions (TLP
// 1.0 identifiers, as the STIX 2.1 specification lists them).
var tlpMarkings = map[string]struct{ ID, Name string }{
	"clear": {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE"},
	"green": {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN"},
	"amber": {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER"},
	"red":   {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED"},
}

var stixNamespace = uuid.MustParse("5c1f1b0e-7a43-4d55-9a3e-56c6b0f2a9d1")

func stixID(kind, key string) string {
	return kind + "--" + uuid.NewSHA1(stixNamespace, []byte(kind+"|"+key)).String()
}

// ParseTLP reads a TLP level ("clear", "green", "amber", "red"; "white"
// is TLP 1.0's name for clear); "" means amber, the default for police
// indicators.
func ParseTLP(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.ToUpper(s), "TLP:")))
	switch s {
	case "":
		return "amber", nil
	case "white":
		return "clear", nil
	case "clear", "green", "amber", "red":
		return s, nil
	}
	return "", vigie.Invalidf("shield.ParseTLP", "Unknown TLP level: give clear, green, amber or red.")
}

// STIXBundle returns the bans in force as a STIX 2.1 bundle marked tlp
// (from ParseTLP), produced by identity (the deployment's name).
func STIXBundle(bans []Ban, tlp, identity string, now time.Time) map[string]any {
	mark := tlpMarkings[tlp]
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	idID := stixID("identity", identity)
	objects := []any{map[string]any{
		"type": "identity", "spec_version": "2.1", "id": idID, "created": ts(time.Unix(0, 0)), "modified": ts(time.Unix(0, 0)),
		"name": identity, "identity_class": "organization", "sectors": []string{"government-public-services"},
	}}
	for _, b := range bans {
		if !b.Active(now) {
			continue
		}
		kind := "ipv4-addr"
		if b.Prefix.Addr().Is6() {
			kind = "ipv6-addr"
		}
		value := b.Prefix.String()
		if b.Prefix.IsSingleIP() {
			value = b.Prefix.Addr().String()
		}
		labels := []string{"malicious-activity"}
		if b.Origin == OriginAuto {
			labels = append(labels, "vigie-automatic-ban")
		}
		objects = append(objects, map[string]any{
			"type": "indicator", "spec_version": "2.1",
			"id":                  stixID("indicator", strconv.FormatInt(b.ID, 10)+"|"+value),
			"created":             ts(b.CreatedAt),
			"modified":            ts(b.CreatedAt),
			"created_by_ref":      idID,
			"name":                fmt.Sprintf("Address banned by Vigie: %s", value),
			"description":         b.Reason,
			"indicator_types":     []string{"malicious-activity"},
			"labels":              labels,
			"pattern":             fmt.Sprintf("[%s:value = '%s']", kind, value),
			"pattern_type":        "stix",
			"valid_from":          ts(b.CreatedAt),
			"valid_until":         ts(b.ExpiresAt),
			"object_marking_refs": []string{mark.ID},
		})
	}
	return map[string]any{"type": "bundle", "id": stixID("bundle", identity+"|"+ts(now)), "objects": objects}
}
