package waf

import (
	"bufio"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
	"github.com/corazawaf/coraza/v3/types"
	albedo "github.com/coreruleset/albedo/server"
	"github.com/coreruleset/go-ftw/v2/config"
	"github.com/coreruleset/go-ftw/v2/output"
	"github.com/coreruleset/go-ftw/v2/runner"
	"github.com/coreruleset/go-ftw/v2/test"
	"github.com/rs/zerolog"
)

// ftwSettings are the settings the CRS regression suite is written for
// (CRS's tests/regression/README): every rule at paranoia level 4,
// detection only (the suite reads the rules that matched from the log),
// and its own argument limits. X-CRS-Test marks the log between tests.
// Phases 3 to 5 log by default, as in ModSecurity (Coraza's parser only
// gives phase 2 a default): the reporting rule 980170 is read from the log.
const ftwSettings = `
SecResponseBodyMimeType text/plain
SecDefaultAction "phase:3,log,auditlog,pass"
SecDefaultAction "phase:4,log,auditlog,pass"
SecDefaultAction "phase:5,log,auditlog,pass"
SecAction "id:900005,phase:1,nolog,pass,ctl:ruleEngine=DetectionOnly,ctl:ruleRemoveById=910000,\
  setvar:tx.blocking_paranoia_level=4,setvar:tx.crs_validate_utf8_encoding=1,\
  setvar:tx.arg_name_length=100,setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,\
  setvar:tx.max_num_args=255,setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"
SecRule REQUEST_HEADERS:X-CRS-Test "@rx ^.*$" \
  "id:999999,phase:1,pass,t:none,log,msg:'X-CRS-Test %{MATCHED_VAR}',ctl:ruleRemoveById=1-999999"
`

// ftwIgnored are the tests that cannot pass behind Go's net/http (the
// request never reaches the firewall, or Go answers it first); Coraza's
// own CI ignores the same seven.
var ftwIgnored = map[string]string{
	`^920100-4$`: "invalid request line: Go's server answers 400 before any handler",
	`^920100-5$`: "invalid request line: Go's server answers 400 before any handler",
	`^920280-3$`: "request without Host: Go's server refuses HTTP/1.1 without Host",
	`^920430-3$`: "HTTP version refused by Go's server",
	`^920430-5$`: "the test expects an error that Go reports differently",
	`^920430-9$`: "HTTP version refused by Go's server",
	`^920610-2$`: "raw fragment in the request line, refused by Go's server",
}

// ftwOverrides adjust tests written for Apache's behaviour to Go's
// (same adjustments as Coraza's CI).
const ftwOverrides = `version: "v0.0.0"
meta:
  engine: "coraza"
  platform: "go"
  annotations:
    - purpose: "Vigie's firewall middleware in Go's net/http"
test_overrides:
  - rule_id: 920100
    test_ids: [8]
    reason: "A colon in the path is legal for Go's server (and the RFC); Apache refuses it."
    output:
      status: 200
      log:
        no_expect_ids: [920100]
  - rule_id: 920270
    test_ids: [4]
    reason: "The rule matches; Apache answers 400 itself."
    output:
      log:
        expect_ids: [920270]
  - rule_id: 920274
    test_ids: [1]
    reason: "The rule matches; Apache answers 400 itself."
    output:
      log:
        expect_ids: [920274]
  - rule_id: 920290
    test_ids: [1, 4]
    reason: "Go reports an empty Host as a missing one."
    output:
      log:
        expect_ids: [920280]
  - rule_id: 920430
    test_ids: [8]
    reason: "Go's server answers HTTP/3.0 with 505 before any handler."
    output:
      status: 505
      log:
        no_expect_ids: [920430]
  - rule_id: 920620
    test_ids: [1]
    reason: "httpd joins two Content-Type headers into one; Go keeps both, and the rule rightly matches."
    output:
      status: 200
      log:
        expect_ids: [920620]
  - rule_id: 922130
    test_ids: [1, 2, 7]
    reason: "Coraza's multipart parser flags these at parsing time (200003)."
    output:
      log:
        expect_ids: [200003]
  - rule_id: 922130
    test_ids: [4]
    reason: "A space in a part header name passes the parser; 922130 matches."
    output:
      log:
        expect_ids: [922130]
  - rule_id: 922130
    test_ids: [3, 5, 6]
    reason: "Valid multipart bodies."
    output:
      log:
        no_expect_ids: [200002, 200003, 922130]
`

// TestCRSRegressionSuite runs CRS's own regression tests (4,674 go-ftw
// tests embedded in coraza-coreruleset) through Vigie's middleware, with
// Vigie's operators, body processors and exclusions, in front of albedo
// (the backend the suite expects). Zero failures allowed.
func TestCRSRegressionSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("the CRS regression suite takes about a minute")
	}
	logPath := filepath.Join(t.TempDir(), "error.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	var mu sync.Mutex
	logw := bufio.NewWriter(logFile)
	fw, err := New(Config{
		Paranoia: 4, DetectOnly: true, Methods: "GET HEAD POST OPTIONS", InspectResponses: true, Directives: ftwSettings,
		OnMatch: func(m types.MatchedRule) {
			mu.Lock()
			defer mu.Unlock()
			io.WriteString(logw, m.ErrorLog()+"\n")
			logw.Flush()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fw.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		albedo.Handler().ServeHTTP(w, r)
	})))
	defer srv.Close()

	var tests []*test.FTWTest
	err = fs.WalkDir(crstests.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := fs.ReadFile(crstests.FS, path)
		if err != nil {
			return err
		}
		ft, err := test.GetTestFromYaml(b, path)
		if err != nil {
			return err
		}
		tests = append(tests, ft)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tests) < 300 {
		t.Fatalf("found %d test files, want the 318 of CRS", len(tests))
	}

	u, _ := url.Parse(srv.URL)
	host := u.Hostname()
	port, _ := strconv.Atoi(u.Port())
	zerolog.SetGlobalLevel(zerolog.WarnLevel)
	slog.SetLogLoggerLevel(slog.LevelWarn) // albedo logs every request
	cfg := config.NewDefaultConfig()
	cfg.LogFile = logPath
	cfg.TestOverride.Overrides.DestAddr = &host
	cfg.TestOverride.Overrides.Port = &port
	cfg.TestOverride.Ignore = map[*config.FTWRegexp]string{}
	for re, why := range ftwIgnored {
		r, err := config.NewFTWRegexp(re)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TestOverride.Ignore[r] = why
	}
	rc := config.NewRunnerConfiguration(cfg)
	rc.ReadTimeout = 5 * time.Second
	if inc := os.Getenv("FTW_INCLUDE"); inc != "" {
		rc.Include = regexp.MustCompile(inc)
	}
	overrides := filepath.Join(t.TempDir(), "overrides.yml")
	if err := os.WriteFile(overrides, []byte(ftwOverrides), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rc.LoadPlatformOverrides(overrides); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rc.ShowOnlyFailed = true
	var out strings.Builder
	res, err := runner.Run(rc, tests, output.NewOutput("plain", &out))
	if testing.Verbose() || err != nil {
		t.Log(out.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CRS regression suite: %d run, %d passed, %d failed, %d ignored, %d skipped, in %s",
		res.Stats.Run, len(res.Stats.Success), len(res.Stats.Failed), len(res.Stats.Ignored), len(res.Stats.Skipped), time.Since(start).Round(time.Second))
	if len(res.Stats.Failed) > 0 {
		t.Errorf("%d failed tests: %v", len(res.Stats.Failed), res.Stats.Failed)
	}
}
