//go:build ignore

// mkgeodata copies the pilot départements' data from ../shared/geo into this
// directory, gzip-compressed, so that the binary embeds it and never reads
// outside files at run time. Run it from internal/org/geodata:
//
//	go run mkgeodata.go /work/shared/geo
//
// Commune features keep only "code" and "nom"; coordinates are rounded to
// 5 decimals (about one metre), which the map and routing need, no more.
package main

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run mkgeodata.go SHARED_GEO_DIR")
		os.Exit(2)
	}
	src := os.Args[1]
	files, err := filepath.Glob(filepath.Join(src, "communes-*.geojson"))
	check(err)
	for _, f := range files {
		code := strings.SplitN(strings.TrimPrefix(filepath.Base(f), "communes-"), "-", 2)[0]
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				Type       string          `json:"type"`
				Properties map[string]any  `json:"properties"`
				Geometry   json.RawMessage `json:"geometry"`
			} `json:"features"`
		}
		b, err := os.ReadFile(f)
		check(err)
		check(json.Unmarshal(b, &fc))
		type feature struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
			Geometry   any            `json:"geometry"`
		}
		out := struct {
			Type     string    `json:"type"`
			Features []feature `json:"features"`
		}{Type: "FeatureCollection"}
		for _, ft := range fc.Features {
			var g map[string]any
			check(json.Unmarshal(ft.Geometry, &g))
			g["coordinates"] = round(g["coordinates"])
			out.Features = append(out.Features, feature{Type: "Feature",
				Properties: map[string]any{"code": ft.Properties["code"], "nom": ft.Properties["nom"]}, Geometry: g})
		}
		write("communes-"+code+".geojson.gz", out)
	}
	for _, name := range []string{"communes-population.json", "departements.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		check(err)
		var v any
		check(json.Unmarshal(b, &v))
		write(name+".gz", v)
	}
}

func round(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = round(x[i])
		}
		return x
	case float64:
		return math.Round(x*1e5) / 1e5
	}
	return v
}

func write(name string, v any) {
	f, err := os.Create(name)
	check(err)
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	check(err)
	check(json.NewEncoder(zw).Encode(v))
	check(zw.Close())
	check(f.Close())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
