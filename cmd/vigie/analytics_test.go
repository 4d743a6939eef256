package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestAnalyticsBacktestJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 148,636 events")
	}
	var stdout, stderr bytes.Buffer
	err := cmdAnalytics(context.Background(), []string{"backtest",
		"--events", "../../internal/analytics/testdata/chicago_aggravated_assaults.csv.gz",
		"--boundary", "../../internal/analytics/testdata/chicago_police_districts.kml",
		"--from", "2019-01-01", "--weeks", "52", "--json"}, &stdout, &stderr, func(string) string { return "" })
	if err != nil {
		t.Fatalf("cmdAnalytics: %v (stderr %s)", err, stderr.String())
	}
	var out struct {
		Cells   int `json:"cells"`
		Weeks   int `json:"weeks"`
		Methods []struct {
			Name    string             `json:"name"`
			HitRate map[string]float64 `json:"hit_rate"`
			PAI     map[string]float64 `json:"pai"`
			PEI     map[string]float64 `json:"pei"`
		} `json:"methods"`
	}
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if out.Cells < 9700 || out.Cells > 9800 || out.Weeks != 52 {
		t.Errorf("cells, weeks = %d, %d; want about 9,741 and 52", out.Cells, out.Weeks)
	}
	var names []string
	for _, m := range out.Methods {
		names = append(names, m.Name)
		for _, key := range []string{"0.5", "1", "2", "5", "10", "20"} {
			for what, mp := range map[string]map[string]float64{"hit_rate": m.HitRate, "pai": m.PAI, "pei": m.PEI} {
				if _, ok := mp[key]; !ok {
					t.Errorf("%s: %s has no key %q", m.Name, what, key)
				}
			}
		}
	}
	if got, want := strings.Join(names, ","), "counts-all,counts-52w,counts-4w"; got != want {
		t.Errorf("methods = %s, want %s", got, want)
	}
	if len(out.Methods) > 0 {
		all := out.Methods[0]
		if math.Abs(all.HitRate["5"]-31.0) > 0.5 || math.Abs(all.PAI["5"]-6.20) > 0.05 {
			t.Errorf("counts-all HR@5%% %.2f PAI@5%% %.3f, want 31.0 ± 0.5 and 6.20 ± 0.05", all.HitRate["5"], all.PAI["5"])
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("--json wrote to stderr: %q", stderr.String())
	}
}

func TestAnalyticsUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"forecast"},
		{"backtest"},
		{"backtest", "--events", "x.csv"},
		{"backtest", "--events", "x.csv", "--boundary", "b.kml", "--from", "2019/01/01"},
		{"backtest", "--events", "x.csv", "--boundary", "b.kml", "--weeks", "0"},
	} {
		var stdout, stderr bytes.Buffer
		err := cmdAnalytics(context.Background(), args, &stdout, &stderr, func(string) string { return "" })
		if _, ok := err.(usageError); !ok {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
		if err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestAnalyticsBacktestTable(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 148,636 events")
	}
	var stdout, stderr bytes.Buffer
	err := cmdAnalytics(context.Background(), []string{"backtest",
		"--events", "../../internal/analytics/testdata/chicago_aggravated_assaults.csv.gz",
		"--boundary", "../../internal/analytics/testdata/chicago_police_districts.kml",
		"--weeks", "4"}, &stdout, &stderr, func(string) string { return "" })
	if err != nil {
		t.Fatalf("cmdAnalytics: %v", err)
	}
	t.Logf("\n%s", stdout.String())
	for _, want := range []string{"counts-all", "counts-52w", "counts-4w", "HR@5%", "4 weeks from 2019-12-02"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q", want)
		}
	}
	if !strings.Contains(stderr.String(), "4/4 weeks") {
		t.Errorf("no progress bar on stderr: %q", stderr.String())
	}
}
