package vuln

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"golang.org/x/mod/semver"

	"vigie"
)

// report is one OSV entry, restricted to the fields the watch uses. See
// https://ossf.github.io/osv-schema/ and the Go database's conventions at
// https://go.dev/security/vuln/database.
type report struct {
	ID               string     `json:"id"`
	Aliases          []string   `json:"aliases"`
	Summary          string     `json:"summary"`
	Details          string     `json:"details"`
	Withdrawn        string     `json:"withdrawn"`
	Affected         []affected `json:"affected"`
	DatabaseSpecific struct {
		URL string `json:"url"`
	} `json:"database_specific"`
}

type affected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
	} `json:"package"`
	Ranges            []osvRange `json:"ranges"`
	EcosystemSpecific struct {
		Imports []struct {
			Path    string   `json:"path"`
			Symbols []string `json:"symbols"`
		} `json:"imports"`
	} `json:"ecosystem_specific"`
}

type osvRange struct {
	Type   string  `json:"type"`
	Events []event `json:"events"`
}

// event holds exactly one of its fields, an OSV version without "v";
// introduced may be "0" (before every version).
type event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
}

// maxReportSize bounds what one file may make us allocate. The largest
// report of the Go database is under 100 KB. Security: the database comes
// from outside (and a .zip may claim any size), so sizes are capped.
const maxReportSize = 4 << 20

// parseReport decodes and checks one OSV file. Entries for other ecosystems
// are kept out of matching but are not errors (a mixed OSV export is
// valid); ranges of a type other than SEMVER are ignored for the same
// reason. A Go range whose versions are not semantic versions is an error:
// matching it would silently give wrong answers.
func parseReport(data []byte) (*report, error) {
	var r report
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("not OSV JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("not OSV JSON: more than one value")
	}
	if r.ID == "" {
		return nil, errors.New(`no "id"`)
	}
	for i := range r.Affected {
		a := &r.Affected[i]
		if a.Package.Ecosystem != "Go" {
			continue
		}
		if a.Package.Name == "" {
			return nil, fmt.Errorf("%s: affected[%d]: no package name", r.ID, i)
		}
		for j, rg := range a.Ranges {
			if rg.Type != "SEMVER" {
				continue
			}
			if len(rg.Events) == 0 {
				return nil, fmt.Errorf("%s: affected[%d].ranges[%d]: no events", r.ID, i, j)
			}
			for k, e := range rg.Events {
				if err := e.check(); err != nil {
					return nil, fmt.Errorf("%s: affected[%d].ranges[%d].events[%d]: %v", r.ID, i, j, k, err)
				}
			}
		}
	}
	return &r, nil
}

func (e event) check() error {
	n := 0
	for _, v := range []string{e.Introduced, e.Fixed, e.LastAffected} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("an event needs exactly one of introduced, fixed, last_affected")
	}
	if e.Introduced == "0" {
		return nil
	}
	v := e.Introduced + e.Fixed + e.LastAffected
	if !semver.IsValid("v" + v) {
		return fmt.Errorf("%q is not a semantic version", v)
	}
	return nil
}

// DB is a vulnerability database loaded in memory, indexed by module path.
// It is read-only once loaded and safe for concurrent use.
type DB struct {
	byModule  map[string][]*report
	reports   int
	withdrawn int
}

// Len returns the number of reports loaded, withdrawn ones included.
func (db *DB) Len() int { return db.reports }

// Withdrawn returns the number of withdrawn reports, which Check skips.
func (db *DB) Withdrawn() int { return db.withdrawn }

// LoadOSV reads the OSV reports under dir: a directory walked recursively
// for *.json files, or a .zip of one. When the tree holds a data/osv folder
// (a copy of golang.org/x/vulndb) or an ID folder (the layout that
// govulncheck's -db file:// reads), only the reports there are read, so that
// the other JSON files of those trees (indexes, test data) are not taken for
// reports. A file that is not a valid report is an error naming the file;
// nothing is skipped silently.
func LoadOSV(dir string) (*DB, error) {
	const op = "vuln.LoadOSV"
	fsys, closeFS, err := openTree(dir)
	if err != nil {
		return nil, err
	}
	defer closeFS()

	var all, preferred []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		all = append(all, p)
		if strings.Contains("/"+p, "/data/osv/") || strings.Contains("/"+p, "/ID/") {
			preferred = append(preferred, p)
		}
		return nil
	})
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, op, fmt.Sprintf("Cannot read the vulnerability database %s.", dir), err)
	}
	files := preferred
	if len(files) == 0 {
		files = all
	}
	if len(files) == 0 {
		return nil, vigie.Invalidf(op, "No OSV report (*.json) in %s.", dir)
	}
	sort.Strings(files)

	db := &DB{byModule: make(map[string][]*report)}
	seen := make(map[string]string, len(files))
	for _, name := range files {
		data, err := readLimited(fsys, name)
		if err != nil {
			return nil, vigie.Invalidf(op, "%s: %v", path.Join(dir, name), err)
		}
		r, err := parseReport(data)
		if err != nil {
			return nil, vigie.Invalidf(op, "%s: %v", path.Join(dir, name), err)
		}
		if prev, dup := seen[r.ID]; dup {
			return nil, vigie.Invalidf(op, "%s: report %s is also in %s", path.Join(dir, name), r.ID, prev)
		}
		seen[r.ID] = name
		db.add(r)
	}
	return db, nil
}

func (db *DB) add(r *report) {
	db.reports++
	if r.Withdrawn != "" {
		db.withdrawn++
		return
	}
	done := make(map[string]bool)
	for _, a := range r.Affected {
		if a.Package.Ecosystem == "Go" && !done[a.Package.Name] {
			done[a.Package.Name] = true
			db.byModule[a.Package.Name] = append(db.byModule[a.Package.Name], r)
		}
	}
}

// openTree returns a file system over a directory or a .zip file.
func openTree(name string) (fs.FS, func(), error) {
	const op = "vuln.LoadOSV"
	fi, err := os.Stat(name)
	if err != nil {
		kind := vigie.KindInvalid
		if errors.Is(err, fs.ErrNotExist) {
			kind = vigie.KindNotFound
		}
		return nil, nil, vigie.E(kind, op, fmt.Sprintf("No vulnerability database at %s.", name), err)
	}
	if fi.IsDir() {
		return os.DirFS(name), func() {}, nil
	}
	zr, err := zip.OpenReader(name)
	if err != nil {
		return nil, nil, vigie.E(vigie.KindInvalid, op, fmt.Sprintf("%s is neither a directory nor a .zip file.", name), err)
	}
	return zr, func() { zr.Close() }, nil
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxReportSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxReportSize {
		return nil, fmt.Errorf("larger than %d MiB, not a report", maxReportSize>>20)
	}
	return data, nil
}
