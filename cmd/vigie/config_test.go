package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaultsAndOverrides(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, err := parseConfig(fs, []string{"--addr", "127.0.0.1:9999", "--demo"}, env(map[string]string{
		"VIGIE_ADDR": "0.0.0.0:1", "VIGIE_SESSION_IDLE": "45m", "VIGIE_JOURNAL_RETENTION": "5y",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" {
		t.Errorf("flag must win over env: addr = %q", c.Addr)
	}
	if !c.Demo {
		t.Error("--demo alone must mean true")
	}
	if c.SessionIdle != 45*time.Minute || c.JournalKeep != 5*365*24*time.Hour {
		t.Errorf("env not applied: idle %v keep %v", c.SessionIdle, c.JournalKeep)
	}
	if c.DatabaseURL != "sqlite:"+filepath.Join("vigie-data", "vigie.db") {
		t.Errorf("default database = %q", c.DatabaseURL)
	}
	if c.BaseURL != "http://127.0.0.1:9999" {
		t.Errorf("base url = %q", c.BaseURL)
	}
}

func TestConfigErrorsAreClear(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--log-level", "loud"}, nil, "log-level"},
		{[]string{"--tls-cert", "c.pem"}, nil, "tls-cert and tls-key go together"},
		{nil, map[string]string{"VIGIE_SESSION_IDLE": "soon"}, "not a duration"},
		{nil, map[string]string{"VIGIE_DEMO": "maybe"}, "VIGIE_DEMO"},
		{[]string{"--trusted-proxies", "10.0.0.0/8,nonsense"}, nil, "trusted-proxies"},
		{[]string{"--journal-retention", "1h"}, nil, "too short"},
		{[]string{"extra"}, nil, "unexpected argument"},
	}
	for _, tc := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		_, err := parseConfig(fs, tc.args, env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%v, %v) = %v, want an error mentioning %q", tc.args, tc.env, err, tc.want)
		}
	}
}

// TestREADMEListsEverySetting keeps the README's configuration table true.
func TestREADMEListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, s := range settings {
		def := "`" + s.def + "`"
		if s.def == "" {
			def = "(empty)"
		}
		row := "| `--" + s.flag + "` | `" + s.env + "` | " + def + " |"
		if !strings.Contains(readme, row) {
			t.Errorf("README lacks the row starting %q", row)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	ctx := context.Background()
	var out, errb bytes.Buffer
	if code := run(ctx, nil, &out, &errb, env(nil)); code != exitConfig {
		t.Errorf("no command: exit %d, want %d", code, exitConfig)
	}
	if code := run(ctx, []string{"frobnicate"}, &out, &errb, env(nil)); code != exitConfig {
		t.Errorf("unknown command: exit %d", code)
	}
	if code := run(ctx, []string{"version"}, &out, &errb, env(nil)); code != exitOK || !strings.HasPrefix(out.String(), "vigie ") {
		t.Errorf("version: exit %d, output %q", code, out.String())
	}
	errb.Reset()
	if code := run(ctx, []string{"serve", "--log-level", "loud"}, &out, &errb, env(nil)); code != exitConfig || !strings.Contains(errb.String(), "log-level") {
		t.Errorf("bad config: exit %d, stderr %q", code, errb.String())
	}
}

func TestServeRefusesUnwritableDataDir(t *testing.T) {
	if os.Geteuid() == 0 {
		// root writes everywhere; use a path under a regular file instead.
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "not-a-dir")
	os.WriteFile(file, []byte("x"), 0o600)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"serve", "--data-dir", filepath.Join(file, "data"), "--addr", "127.0.0.1:0"}, &out, &errb, env(nil))
	if code != exitFail || !strings.Contains(errb.String(), "data directory") {
		t.Errorf("exit %d, stderr %q: want a failure naming the data directory", code, errb.String())
	}
}

// FuzzParseConfig: any environment value or flag gives a Config or a clear
// error, never a panic, and an accepted Config is valid.
func FuzzParseConfig(f *testing.F) {
	f.Add("VIGIE_SESSION_IDLE", "30m", "--addr", "127.0.0.1:1")
	f.Add("VIGIE_TRUSTED_PROXIES", "10.0.0.0/8, ::1", "--journal-retention", "3y")
	f.Add("VIGIE_DEMO", "1", "--log-level", "debug")
	f.Fuzz(func(t *testing.T, envKey, envVal, flagName, flagVal string) {
		fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c, err := parseConfig(fs, []string{flagName, flagVal}, env(map[string]string{envKey: envVal}))
		if err != nil {
			return
		}
		if c.DataDir == "" || c.DatabaseURL == "" || c.SessionIdle <= 0 || c.JournalKeep < 24*time.Hour {
			t.Errorf("accepted an invalid config: %+v", c)
		}
	})
}
