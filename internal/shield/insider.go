package shield

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"vigie/internal/db"
)

// InsiderThresholds set the insider-misuse detectors, run over the last
// Period of the consultation journal.
type InsiderThresholds struct {
	Period        time.Duration // 24 h
	MinReads      int           // an agent is flagged only above this many reads (30)
	Z             float64       // robust z-score over peers of the same role and département (3.5)
	MinPeers      int           // fewer peers than this: only the FallbackReads limit applies (4)
	FallbackReads int           // reads in Period that are flagged whatever the peers (500)
	Exports       int           // communications (exports, shares) in Period (5)
	JournalReads  int           // journal consultations in Period by one security officer (100)
}

// DefaultInsider are the insider-misuse defaults.
var DefaultInsider = InsiderThresholds{Period: 24 * time.Hour, MinReads: 30, Z: 3.5, MinPeers: 4, FallbackReads: 500, Exports: 5, JournalReads: 100}

func (t InsiderThresholds) withDefaults() InsiderThresholds {
	d := DefaultInsider
	if t.Period <= 0 {
		t.Period = d.Period
	}
	if t.MinReads <= 0 {
		t.MinReads = d.MinReads
	}
	if t.Z <= 0 {
		t.Z = d.Z
	}
	if t.MinPeers <= 0 {
		t.MinPeers = d.MinPeers
	}
	if t.FallbackReads <= 0 {
		t.FallbackReads = d.FallbackReads
	}
	if t.Exports <= 0 {
		t.Exports = d.Exports
	}
	if t.JournalReads <= 0 {
		t.JournalReads = d.JournalReads
	}
	return t
}

// reader is one actor's activity over the period.
type reader struct {
	ID      int64
	Login   string
	Role    string
	Unit    int64
	Dept    string
	Reads   int
	Exports int
	Journal int
	Outside []string // records read outside the actor's units with no case link
}

// RobustZ returns the robust z-score of x among values: (x - median) /
// (1.4826 × MAD). When the MAD is zero (most peers read the same amount),
// the mean absolute deviation takes its place (× 1.2533); when that is
// zero too, any x above the median is infinitely unusual.
func RobustZ(x float64, values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	med := median(values)
	dev := make([]float64, len(values))
	var sum float64
	for i, v := range values {
		dev[i] = math.Abs(v - med)
		sum += dev[i]
	}
	if mad := median(dev); mad > 0 {
		return (x - med) / (1.4826 * mad)
	}
	if mean := sum / float64(len(values)); mean > 0 {
		return (x - med) / (1.2533 * mean)
	}
	switch {
	case x > med:
		return math.Inf(1)
	case x < med:
		return math.Inf(-1)
	}
	return 0
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// RunInsider runs the insider-misuse detectors over the last period of
// the journal (one replica at a time, lease "insider") and returns what
// it found; alerts are raised or grown.
func (s *Shield) RunInsider(ctx context.Context) ([]Finding, error) {
	now := s.now()
	got, _, err := takeLease(ctx, s.db, "insider", s.cfg.Replica, now, now.Add(s.cfg.InsiderRun-time.Second))
	if err != nil || !got {
		return nil, err
	}
	fs, err := s.insiderFindings(ctx, now)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if _, err := s.raise(ctx, f, 1); err != nil {
			return fs, err
		}
	}
	return fs, nil
}

// firstSeqAfter finds, by bisection on the primary key, the first journal
// seq at or after t (the journal has no index on time, and entries are
// appended in time order).
func firstSeqAfter(ctx context.Context, d *db.DB, t time.Time) (int64, error) {
	var lo, hi int64
	if err := d.QueryRow(ctx, "SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM audit_entry").Scan(&lo, &hi); err != nil {
		return 0, err
	}
	ms := db.Millis(t)
	for lo < hi {
		mid := lo + (hi-lo)/2
		var at int64
		err := d.QueryRow(ctx, "SELECT at FROM audit_entry WHERE seq >= ? ORDER BY seq LIMIT 1", mid).Scan(&at)
		if err != nil {
			return 0, err
		}
		if at < ms {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

func (s *Shield) insiderFindings(ctx context.Context, now time.Time) ([]Finding, error) {
	th := s.cfg.Insider
	from, err := firstSeqAfter(ctx, s.db, now.Add(-th.Period))
	if err != nil {
		return nil, fmt.Errorf("shield: insider: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT actor_id, actor_login, actor_role, actor_unit, actor_dept, action, object, object_id, unit_id, dept, motif
		FROM audit_entry WHERE seq >= ? AND at >= ? AND actor_id <> 0 AND action IN ('consult', 'communicate')`, from, db.Millis(now.Add(-th.Period)))
	if err != nil {
		return nil, fmt.Errorf("shield: insider: %w", err)
	}
	defer rows.Close()
	byActor := map[int64]*reader{}
	for rows.Next() {
		var r reader
		var action, object, objectID, dept, motif string
		var unit int64
		if err := rows.Scan(&r.ID, &r.Login, &r.Role, &r.Unit, &r.Dept, &action, &object, &objectID, &unit, &dept, &motif); err != nil {
			return nil, err
		}
		a := byActor[r.ID]
		if a == nil {
			a = &r
			byActor[r.ID] = a
		}
		switch {
		case action == "communicate":
			a.Exports++
		case object == "journal":
			a.Journal++
		default:
			a.Reads++
			if s.outside(a, unit, dept) && !strings.HasPrefix(motif, "enquete:") && len(a.Outside) < 50 {
				a.Outside = append(a.Outside, object+" "+objectID)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return insiderVerdicts(byActor, th, now), nil
}

// outside reports whether a record of unit/dept lies outside the actor's
// units (security officers and administrators excepted: their scope is
// wider by role).
func (s *Shield) outside(a *reader, unit int64, dept string) bool {
	if s.cfg.Tree == nil || a.Role == "security" || a.Role == "admin" {
		return false
	}
	if a.Unit != 0 && unit != 0 {
		return !s.cfg.Tree.Within(unit, a.Unit)
	}
	return a.Dept != "" && dept != "" && dept != a.Dept
}

// insiderVerdicts applies the thresholds to the activity of each actor.
func insiderVerdicts(byActor map[int64]*reader, th InsiderThresholds, now time.Time) []Finding {
	day := now.UTC().Format("2006-01-02")
	peers := map[string][]float64{}
	for _, a := range byActor {
		peers[a.Role+"|"+a.Dept] = append(peers[a.Role+"|"+a.Dept], float64(a.Reads))
	}
	ids := make([]int64, 0, len(byActor))
	for id := range byActor {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []Finding
	for _, id := range ids {
		a := byActor[id]
		base := Finding{Subject: a.Login, Dept: a.Dept, UnitID: a.Unit, At: now, Once: true}
		ev := func(m map[string]any) map[string]any {
			m["login"], m["role"], m["unit_id"], m["period"] = a.Login, a.Role, a.Unit, th.Period.String()
			return m
		}
		if a.Reads >= th.MinReads {
			p := peers[a.Role+"|"+a.Dept]
			z := 0.0
			flag := a.Reads >= th.FallbackReads
			if len(p) >= th.MinPeers {
				z = RobustZ(float64(a.Reads), p)
				flag = flag || z >= th.Z
			}
			if flag {
				f := base
				f.Kind, f.Severity, f.Key = KindInsiderVolume, SevMedium, fmt.Sprintf("%s:%d:%s", KindInsiderVolume, a.ID, day)
				zText := "n/a"
				if !math.IsInf(z, 0) && z != 0 {
					zText = fmt.Sprintf("%.1f", z)
				}
				f.Summary = fmt.Sprintf("%s read %d records in %s, far more than the %d peers of the same role (median %.0f).", a.Login, a.Reads, th.Period, len(p), median(p))
				f.Evidence = ev(map[string]any{"reads": a.Reads, "peers": len(p), "peer_median": median(p), "robust_z": zText})
				out = append(out, f)
			}
		}
		if a.Exports >= th.Exports {
			f := base
			f.Kind, f.Severity, f.Key = KindInsiderExport, SevHigh, fmt.Sprintf("%s:%d:%s", KindInsiderExport, a.ID, day)
			f.Summary = fmt.Sprintf("%s exported or sent personal data %d times in %s.", a.Login, a.Exports, th.Period)
			f.Evidence = ev(map[string]any{"exports": a.Exports})
			out = append(out, f)
		}
		if a.Journal > 0 && (a.Role != "security" || a.Journal >= th.JournalReads) {
			f := base
			f.Kind, f.Severity, f.Key = KindInsiderJourn, SevMedium, fmt.Sprintf("%s:%d:%s", KindInsiderJourn, a.ID, day)
			if a.Role != "security" {
				f.Severity = SevHigh
			}
			f.Summary = fmt.Sprintf("%s (%s) consulted the journal %d times in %s.", a.Login, a.Role, a.Journal, th.Period)
			f.Evidence = ev(map[string]any{"journal_reads": a.Journal})
			out = append(out, f)
		}
		if len(a.Outside) > 0 {
			f := base
			f.Kind, f.Severity, f.Key = KindInsiderScope, SevHigh, fmt.Sprintf("%s:%d:%s", KindInsiderScope, a.ID, day)
			f.Summary = fmt.Sprintf("%s read %d records outside their units without a case number.", a.Login, len(a.Outside))
			f.Evidence = ev(map[string]any{"records": a.Outside})
			out = append(out, f)
		}
	}
	return out
}
