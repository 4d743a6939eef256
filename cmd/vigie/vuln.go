package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"vigie"
	"vigie/internal/shield/vuln"
)

// cmdSBOM prints the CycloneDX bill of materials of this binary, or of
// another Go binary with --binary.
func cmdSBOM(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("sbom", stderr)
	binary := fs.String("binary", "", "describe this Go binary instead of the running one")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	bi, err := readBuildInfo(*binary)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(vuln.SBOM(bi))
}

// cmdVuln checks the modules of this binary (or of --binary) against an OSV
// database imported by the operator. Findings make it fail, so that a
// deployment script or CI stops on them.
func cmdVuln(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("vuln", stderr)
	dbDir := fs.String("db", getenv("VIGIE_VULN_DB"), "OSV database: a directory (such as golang.org/x/vulndb's data/osv) or a .zip of one (env VIGIE_VULN_DB)")
	binary := fs.String("binary", "", "check this Go binary instead of the running one")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *dbDir == "" {
		return usageError{fmt.Errorf("--db (or VIGIE_VULN_DB) is required: the vulnerability database in OSV format")}
	}
	bi, err := readBuildInfo(*binary)
	if err != nil {
		return err
	}
	db, err := vuln.LoadOSV(*dbDir)
	if err != nil {
		return err
	}
	mods := vuln.Modules(bi)
	findings := db.Check(mods)

	if *asJSON {
		out := struct {
			Binary   string         `json:"binary"`
			Go       string         `json:"go"`
			Modules  int            `json:"modules"`
			Reports  int            `json:"reports"`
			Scope    string         `json:"scope"`
			Findings []vuln.Finding `json:"findings"`
		}{binaryName(*binary), bi.GoVersion, len(mods), db.Len(), scopeNote, findings}
		if out.Findings == nil {
			out.Findings = []vuln.Finding{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%s (%s): %d modules checked against %d reports (%d withdrawn).\n",
			binaryName(*binary), bi.GoVersion, len(mods), db.Len(), db.Withdrawn())
		if len(findings) > 0 {
			tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMODULE\tVERSION\tFIXED IN\tSUMMARY")
			for _, f := range findings {
				fixed := f.FixedIn
				if fixed == "" {
					fixed = "(none)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.ID, f.Module, f.Version, fixed, oneLine(f.Summary, 80))
			}
			tw.Flush()
		}
		fmt.Fprintln(stdout, "Note: "+scopeNote)
	}
	if n := len(findings); n > 0 {
		return vigie.E(vigie.KindConflict, "vuln", fmt.Sprintf("%d known vulnerabilities affect this binary.", n), nil)
	}
	return nil
}

const scopeNote = "versions only: a module listed is in a vulnerable range, which does not prove that the vulnerable code is reachable (govulncheck decides that with a call graph)."

// readBuildInfo returns the build information of the named Go binary, or of
// the running one when name is "".
func readBuildInfo(name string) (*debug.BuildInfo, error) {
	if name == "" {
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return nil, vigie.E(vigie.KindInternal, "vuln", "This binary carries no build information.", nil)
		}
		return bi, nil
	}
	bi, err := buildinfo.ReadFile(name)
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, "vuln", fmt.Sprintf("Cannot read the build information of %s: is it a Go binary?", name), err)
	}
	return bi, nil
}

func binaryName(name string) string {
	if name == "" {
		return "this binary"
	}
	return name
}

// flagError keeps -h a request for help and makes any other parse error a
// usage error.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err}
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
