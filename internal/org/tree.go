package org

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"vigie/internal/db"
)

// Tree is an in-memory snapshot of the unit tree, for authorization
// decisions that must not touch the database (internal/auth asks it
// whether a record's unit lies within the actor's unit on every request).
//
// It is reloaded at once on this replica after every change made through
// Service, and other replicas notice a change by reading org_version, at
// most once a second, in the background: a decision never waits for the
// database, except the very first one if Load was not called.
type Tree struct {
	db  *db.DB
	log *slog.Logger

	snap     atomic.Pointer[treeSnap]
	checked  atomic.Int64 // Unix nanoseconds of the last version check
	checking atomic.Bool
	loadMu   sync.Mutex // one reload at a time

	// CheckEvery is how often the version is read (1 s by default).
	CheckEvery time.Duration
}

type treeNode struct {
	parent int64
	dept   string
	kind   Kind
}

type treeSnap struct {
	version int64
	nodes   map[int64]treeNode
	kids    map[int64][]int64
}

// NewTree returns a tree over the units of d. It loads lazily; call Load at
// start to fail early when the database is unreachable.
func NewTree(d *db.DB, log *slog.Logger) *Tree {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tree{db: d, log: log, CheckEvery: time.Second}
}

// Load (re)reads every unit now.
func (t *Tree) Load(ctx context.Context) error {
	t.loadMu.Lock()
	defer t.loadMu.Unlock()
	v, _, err := readVersion(ctx, t.db)
	if err != nil {
		return err
	}
	s := &treeSnap{version: v, nodes: map[int64]treeNode{}, kids: map[int64][]int64{}}
	err = treeRows(ctx, t.db, func(id, parent int64, dept string, kind Kind) {
		s.nodes[id] = treeNode{parent: parent, dept: dept, kind: kind}
		if parent != 0 {
			s.kids[parent] = append(s.kids[parent], id)
		}
	})
	if err != nil {
		return err
	}
	t.snap.Store(s)
	t.checked.Store(time.Now().UnixNano())
	return nil
}

// Refresh reloads the tree when another replica changed the units.
func (t *Tree) Refresh(ctx context.Context) error {
	t.checked.Store(time.Now().UnixNano())
	v, _, err := readVersion(ctx, t.db)
	if err != nil {
		return err
	}
	if s := t.snap.Load(); s != nil && s.version == v {
		return nil
	}
	return t.Load(ctx)
}

// current returns the snapshot, starting a background version check when
// the last one is older than CheckEvery.
func (t *Tree) current() *treeSnap {
	s := t.snap.Load()
	if s == nil {
		// SECURITY: without a snapshot every question answers "no"; the
		// first call loads synchronously so that a fresh replica works.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := t.Load(ctx); err != nil {
			t.log.Error("org: load unit tree", "err", err)
			return &treeSnap{}
		}
		return t.snap.Load()
	}
	if time.Now().UnixNano()-t.checked.Load() > int64(t.CheckEvery) && t.checking.CompareAndSwap(false, true) {
		go func() {
			defer t.checking.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := t.Refresh(ctx); err != nil {
				t.log.Warn("org: refresh unit tree", "err", err)
			}
		}()
	}
	return s
}

// Within reports whether unit is ancestor or lies below it. Unknown units
// are within nothing.
func (t *Tree) Within(unit, ancestor int64) bool {
	s := t.current()
	for i := 0; i < 8 && unit != 0; i++ { // the tree is 3 deep; 8 guards against cycles
		if unit == ancestor {
			_, ok := s.nodes[unit]
			return ok
		}
		n, ok := s.nodes[unit]
		if !ok {
			return false
		}
		unit = n.parent
	}
	return false
}

// Dept returns the département of unit, "" when unknown.
func (t *Tree) Dept(unit int64) string { return t.current().nodes[unit].dept }

// Kind returns the kind of unit, "" when unknown.
func (t *Tree) Kind(unit int64) Kind { return t.current().nodes[unit].kind }

// Parent returns the parent of unit, 0 for a groupement or an unknown unit.
func (t *Tree) Parent(unit int64) int64 { return t.current().nodes[unit].parent }

// Below returns unit and every unit under it (for queries such as "the
// queue of a compagnie"), nil when unit is unknown.
func (t *Tree) Below(unit int64) []int64 {
	s := t.current()
	if _, ok := s.nodes[unit]; !ok {
		return nil
	}
	out := []int64{unit}
	for i := 0; i < len(out); i++ {
		out = append(out, s.kids[out[i]]...)
	}
	return out
}

// IsDeptRoot reports whether unit is a groupement: the unit whose scope is
// its whole département (the authorization policy asks it for records that
// belong to the département rather than to a unit).
func (t *Tree) IsDeptRoot(unit int64) bool { return t.Kind(unit) == Groupement }
