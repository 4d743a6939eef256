// Command vigie runs Vigie, the gendarmerie's information system, from one
// binary: the web server (serve), database migrations (migrate), account and
// token administration (user, token), journal verification (audit verify),
// backups (backup) and its version (version).
//
// main wires everything by hand: configuration → open shared machinery →
// build the areas → register their routes → run → close.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"vigie"
)

const usage = `Vigie — système d'information de la gendarmerie / gendarmerie information system

Usage:
  vigie serve [--demo] [flags]      run the web server (embedded defaults)
  vigie migrate [flags]             apply database migrations and exit
  vigie user add|list|disable|reset-mfa [flags]
  vigie token create --login L --name N [--ttl 90d]
  vigie grant --login L --perm read (--unit ID | --kind K --id ID) --reason R [--ttl 30d]
  vigie audit verify [flags]        prove the consultation journal intact
  vigie backup [--out DIR] [flags]  write a consistent copy while serving
  vigie analytics backtest --events F.csv[.gz] --boundary F.geojson|F.kml [--cell 250] [--from D] [--weeks 52] [--json]
  vigie sbom [--binary PATH]        CycloneDX bill of materials of the binary
  vigie vuln --db DIR|ZIP [--json]  known vulnerabilities of its modules (offline OSV database)
  vigie doctor [--url URL] [--json] [flags]  check a deployment: TLS, headers, demo data, permissions
  vigie version

Every flag is also a VIGIE_* environment variable; "vigie serve -h" lists them.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1 // the command ran and failed (or the journal does not verify)
	exitConfig = 2 // bad usage or configuration
)

// run is main without process globals, so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, rest, stdout, stderr, getenv)
	case "migrate":
		err = cmdMigrate(ctx, rest, stdout, stderr, getenv)
	case "user":
		err = cmdUser(ctx, rest, stdout, stderr, getenv)
	case "token":
		err = cmdToken(ctx, rest, stdout, stderr, getenv)
	case "grant":
		err = cmdGrant(ctx, rest, stdout, stderr, getenv)
	case "audit":
		err = cmdAudit(ctx, rest, stdout, stderr, getenv)
	case "backup":
		err = cmdBackup(ctx, rest, stdout, stderr, getenv)
	case "analytics":
		err = cmdAnalytics(ctx, rest, stdout, stderr, getenv)
	case "sbom":
		err = cmdSBOM(ctx, rest, stdout, stderr, getenv)
	case "vuln":
		err = cmdVuln(ctx, rest, stdout, stderr, getenv)
	case "doctor":
		err = cmdDoctor(ctx, rest, stdout, stderr, getenv)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionString())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "vigie: unknown command %q\n\n%s", cmd, usage)
		return exitConfig
	}
	if err == nil {
		return exitOK
	}
	var ue usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "vigie %s: %v\n", cmd, err)
		return exitConfig
	}
	msg := vigie.MessageOf(err)
	if msg == "" {
		msg = err.Error()
	}
	fmt.Fprintf(stderr, "vigie %s: %s\n", cmd, msg)
	if getenv("VIGIE_LOG_LEVEL") == "debug" {
		fmt.Fprintf(stderr, "  detail: %v\n", err)
	}
	return exitFail
}

// usageError is a mistake in the command line or the configuration.
type usageError struct{ error }

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// loadConfig parses the settings plus any extra flags already declared on fs.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (*Config, error) {
	cfg, err := parseConfig(fs, args, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	return cfg, nil
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func versionString() string {
	v, rev, dirty := "devel", "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
				if len(rev) > 12 {
					rev = rev[:12]
				}
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		return fmt.Sprintf("vigie %s %s%s (%s)", v, rev, dirty, bi.GoVersion)
	}
	return "vigie " + v
}
