package shield

import (
	"os"
	"runtime/debug"
	"sync"
	"time"

	"vigie/internal/shield/vuln"
)

// VulnWatch checks the running binary against the OSV database the
// operator imported (a directory or a .zip, as `vigie vuln --db` reads),
// once per change of the file, in the background.
type VulnWatch struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	sum     *VulnSummary
	running bool
}

// VulnSummary is the outcome of the last check.
type VulnSummary struct {
	Path     string
	Checked  time.Time
	Reports  int
	Modules  int
	Findings []vuln.Finding
	Err      string
}

// NewVulnWatch watches the database at path ("" or missing: no database).
func NewVulnWatch(path string) *VulnWatch { return &VulnWatch{path: path} }

// Summary returns the last check, starting a new one when the database
// changed; nil while nothing was ever checked or no database is imported.
func (v *VulnWatch) Summary() *VulnSummary {
	if v == nil || v.path == "" {
		return nil
	}
	st, err := os.Stat(v.path)
	v.mu.Lock()
	defer v.mu.Unlock()
	if err != nil {
		return nil
	}
	if !st.ModTime().Equal(v.modTime) && !v.running {
		v.running = true
		mt := st.ModTime()
		go v.check(mt)
	}
	return v.sum
}

func (v *VulnWatch) check(mt time.Time) {
	s := &VulnSummary{Path: v.path, Checked: time.Now()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if db, err := vuln.LoadOSV(v.path); err != nil {
			s.Err = err.Error()
		} else {
			mods := vuln.Modules(bi)
			s.Reports, s.Modules, s.Findings = db.Len(), len(mods), db.Check(mods)
		}
	} else {
		s.Err = "this binary carries no build information"
	}
	v.mu.Lock()
	v.sum, v.modTime, v.running = s, mt, false
	v.mu.Unlock()
}
