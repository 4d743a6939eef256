package vuln

import (
	"runtime/debug"
	"strings"
	"time"
)

// CycloneDX is a CycloneDX 1.5 bill of materials in its JSON encoding,
// restricted to the fields Vigie fills. See
// https://cyclonedx.org/docs/1.5/json/.
type CycloneDX struct {
	Schema      string      `json:"$schema"`
	BOMFormat   string      `json:"bomFormat"`   // always "CycloneDX"
	SpecVersion string      `json:"specVersion"` // always "1.5"
	Version     int         `json:"version"`     // revision of this BOM: 1
	Metadata    Metadata    `json:"metadata"`
	Components  []Component `json:"components"`
}

// Metadata says when the BOM was made and what it describes.
type Metadata struct {
	Timestamp string    `json:"timestamp"` // RFC 3339, UTC
	Component Component `json:"component"`
}

// Component is one piece of software: the binary itself (type
// "application"), a Go module or the standard library (type "library").
type Component struct {
	BOMRef     string     `json:"bom-ref,omitempty"`
	Type       string     `json:"type"`
	Name       string     `json:"name"`
	Version    string     `json:"version,omitempty"`
	PURL       string     `json:"purl,omitempty"`
	Properties []Property `json:"properties,omitempty"`
}

// Property is a name-value pair that CycloneDX has no field for.
type Property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Module is a module compiled into a binary, as Check consumes it.
type Module struct {
	Path    string // module path, or "stdlib" for the standard library
	Version string // "v1.2.3", or the Go version ("go1.26.8") for stdlib; "" when unknown
	Sum     string // go.sum hash "h1:...", if the build recorded one
	// Replaces is "path@version" of the module this one stands in for
	// (a replace directive), or "".
	Replaces string
}

// Modules lists the modules of a binary from its build information: every
// dependency, then the standard library. A dependency replaced by another
// module is listed as the replacement (its code is what was compiled); one
// replaced by a local directory keeps its path but has no version, since no
// version identifies its code.
func Modules(bi *debug.BuildInfo) []Module {
	var mods []Module
	for _, d := range bi.Deps {
		if d == nil {
			continue
		}
		m := Module{Path: d.Path, Version: d.Version, Sum: d.Sum}
		if r := d.Replace; r != nil {
			m.Replaces = d.Path + "@" + d.Version
			m.Version, m.Sum = "", ""
			if r.Version != "" { // module replacement, not a directory
				m.Path, m.Version, m.Sum = r.Path, r.Version, r.Sum
			}
		}
		mods = append(mods, m)
	}
	if bi.GoVersion != "" {
		mods = append(mods, Module{Path: "stdlib", Version: bi.GoVersion})
	}
	return mods
}

// buildProperties are the build settings copied into the SBOM: those that
// identify the source and the target. Others (flags, CGO_* variables) are
// left out because they may carry paths of the build machine.
var buildProperties = []string{"vcs", "vcs.revision", "vcs.time", "vcs.modified",
	"GOOS", "GOARCH", "CGO_ENABLED", "-buildmode", "-trimpath"}

// SBOM describes the binary whose build information is bi (from
// debug.ReadBuildInfo or debug/buildinfo.ReadFile) as a CycloneDX 1.5 BOM.
//
// Hashes: CycloneDX hashes are digests of the component's content, while
// Go's "h1:" sum is the base64 SHA-256 of a list of file digests (see
// golang.org/x/mod/sumdb/dirhash). Calling it a SHA-256 of the module would
// be wrong, so it is carried as the property "go:h1", where tools that know
// the Go checksum database can use it.
func SBOM(bi *debug.BuildInfo) CycloneDX {
	return sbomAt(bi, time.Now())
}

func sbomAt(bi *debug.BuildInfo, now time.Time) CycloneDX {
	bom := CycloneDX{
		Schema:      "http://cyclonedx.org/schema/bom-1.5.schema.json",
		BOMFormat:   "CycloneDX",
		SpecVersion: "1.5",
		Version:     1,
		Metadata: Metadata{
			Timestamp: now.UTC().Format(time.RFC3339),
			Component: mainComponent(bi),
		},
		Components: []Component{},
	}
	for _, m := range Modules(bi) {
		bom.Components = append(bom.Components, moduleComponent(m))
	}
	return bom
}

func mainComponent(bi *debug.BuildInfo) Component {
	version := bi.Main.Version
	if version == "(devel)" {
		version = "" // built from a work tree: the VCS revision says which
	}
	name := bi.Main.Path
	if name == "" {
		name = bi.Path
	}
	c := Component{Type: "application", Name: name, Version: version, PURL: purl(name, version)}
	c.BOMRef = c.PURL
	if bi.Path != "" {
		c.Properties = append(c.Properties, Property{"go:package", bi.Path})
	}
	for _, key := range buildProperties {
		for _, s := range bi.Settings {
			if s.Key == key {
				c.Properties = append(c.Properties, Property{"go:build:" + s.Key, s.Value})
			}
		}
	}
	return c
}

func moduleComponent(m Module) Component {
	version := m.Version
	if m.Path == "stdlib" {
		version = goToSemver(m.Version)
		if version != "" {
			version = "v" + version
		}
	}
	c := Component{Type: "library", Name: m.Path, Version: version, PURL: purl(m.Path, version)}
	c.BOMRef = c.PURL
	if m.Replaces != "" {
		// bom-refs must be unique; one fork may replace two modules.
		c.BOMRef += "#replaces:" + m.Replaces
	}
	if m.Path == "stdlib" {
		c.Properties = append(c.Properties, Property{"go:version", m.Version})
	}
	if m.Sum != "" {
		c.Properties = append(c.Properties, Property{"go:h1", m.Sum})
	}
	if m.Replaces != "" {
		c.Properties = append(c.Properties, Property{"go:replaces", m.Replaces})
		if m.Version == "" {
			c.Properties = append(c.Properties, Property{"go:replaced-by", "local directory"})
		}
	}
	return c
}

// purl returns the package URL of a Go module ("pkg:golang/<path>@<version>"),
// each path segment and the version percent-encoded as the purl
// specification requires ("+incompatible" becomes "%2Bincompatible").
func purl(path, version string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = purlEscape(s)
	}
	p := "pkg:golang/" + strings.Join(segs, "/")
	if version != "" {
		p += "@" + purlEscape(version)
	}
	return p
}

func purlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '-', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
