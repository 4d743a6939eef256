package org

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/bus"
	"vigie/internal/db"
)

// journal writes the consultation journal (internal/audit) in the
// transaction of the change it records.
type journal interface {
	Record(ctx context.Context, tx *db.Tx, r vigie.Record) error
}

// Config holds what Service needs.
type Config struct {
	DB      *db.DB
	Journal journal     // required: every change is journaled
	Outbox  *bus.Outbox // nil is fine: events still reach the outbox, the relay finds them at its next poll
	Log     *slog.Logger
}

// Service is the organisation area: départements, units, territories,
// routing. Its methods do not check permissions; handlers do, before
// calling them.
type Service struct {
	db      *db.DB
	journal journal
	outbox  *bus.Outbox
	log     *slog.Logger
	tree    *Tree
	route   router
}

// New returns the service. It does no I/O.
func New(cfg Config) *Service {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: cfg.DB, journal: cfg.Journal, outbox: cfg.Outbox, log: log, tree: NewTree(cfg.DB, log)}
}

// Tree returns the in-memory unit tree (for internal/auth's policy).
func (s *Service) Tree() *Tree { return s.tree }

// change runs fn in a transaction, then journals its record, enqueues its
// event and bumps org_version, all in the same transaction; once committed,
// this replica's tree is reloaded.
func (s *Service) change(ctx context.Context, geo bool, fn func(tx *db.Tx) (vigie.Record, bus.Event, error)) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		rec, ev, err := fn(tx)
		if err != nil {
			return err
		}
		rec.Action = vigie.ActAdmin
		if err := s.journal.Record(ctx, tx, rec); err != nil {
			return err
		}
		ev.Area = "org"
		if err := s.outbox.Enqueue(ctx, tx, ev); err != nil {
			return err
		}
		if err := bumpVersion(ctx, tx, geo); err != nil {
			return fmt.Errorf("org: bump version: %w", err)
		}
		tx.AfterCommit(s.afterChange)
		return nil
	})
}

func (s *Service) afterChange() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.tree.Load(ctx); err != nil {
		s.log.Error("org: reload unit tree", "err", err)
	}
	s.route.mu.Lock()
	s.route.checked = time.Time{} // the next Route reads geo_version
	s.route.mu.Unlock()
}

// Departements lists the départements with their counts.
func (s *Service) Departements(ctx context.Context) ([]Departement, error) {
	return listDepts(ctx, s.db)
}

// Departement returns one département.
func (s *Service) Departement(ctx context.Context, code string) (Departement, error) {
	return getDept(ctx, s.db, strings.ToUpper(code))
}

// CreateDepartement adds a département without communes.
func (s *Service) CreateDepartement(ctx context.Context, d Departement) (Departement, error) {
	if err := d.Validate(); err != nil {
		return d, err
	}
	err := s.change(ctx, false, func(tx *db.Tx) (vigie.Record, bus.Event, error) {
		if err := storeDept(ctx, tx, &d); err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		return vigie.Record{Object: "departement", ObjectID: d.Code, Dept: d.Code, Detail: "created " + d.Name},
			bus.Event{Dept: d.Code, Type: "departement.created", Subject: d.Code, Data: d}, nil
	})
	return d, err
}

// Units lists the units of dept ("" for all).
func (s *Service) Units(ctx context.Context, dept string) ([]Unit, error) {
	return listUnits(ctx, s.db, strings.ToUpper(dept))
}

// Unit returns one unit.
func (s *Service) Unit(ctx context.Context, id int64) (Unit, error) { return getUnit(ctx, s.db, id) }

// Communes lists the communes of dept, with their geometry when asked.
func (s *Service) Communes(ctx context.Context, dept string, geometry bool) ([]Commune, error) {
	return listCommunes(ctx, s.db, strings.ToUpper(dept), geometry)
}

// Territory lists the communes of a brigade, by INSEE code.
func (s *Service) Territory(ctx context.Context, brigade int64) ([]Commune, error) {
	return listTerritory(ctx, s.db, brigade)
}

// parentOf loads the parent for a new or moved unit; 0 means none.
func parentOf(ctx context.Context, q querier, id int64) (*Unit, error) {
	if id == 0 {
		return nil, nil
	}
	p, err := getUnit(ctx, q, id)
	if vigie.KindOf(err) == vigie.KindNotFound {
		return nil, vigie.Invalidf("org.Unit", "The parent unit %d does not exist.", id)
	}
	return &p, err
}

// CreateUnit adds a unit under its parent (a groupement names its
// département in Dept instead).
func (s *Service) CreateUnit(ctx context.Context, u Unit) (Unit, error) {
	err := s.change(ctx, false, func(tx *db.Tx) (vigie.Record, bus.Event, error) {
		parent, err := parentOf(ctx, tx, u.ParentID)
		if err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		if err := u.ValidateNew(parent); err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		if _, err := getDept(ctx, tx, u.Dept); err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		if err := insertUnit(ctx, tx, &u); err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		id := strconv.FormatInt(u.ID, 10)
		return vigie.Record{Object: "unit", ObjectID: id, Dept: u.Dept, UnitID: u.ID, Detail: fmt.Sprintf("created %s %q (%s)", u.Kind, u.Name, u.Code)},
			bus.Event{Dept: u.Dept, Type: "unit.created", Subject: id, Data: u}, nil
	})
	return u, err
}

// UpdateUnit renames or moves a unit.
func (s *Service) UpdateUnit(ctx context.Context, id int64, c UnitChange) (Unit, error) {
	var u Unit
	err := s.change(ctx, false, func(tx *db.Tx) (vigie.Record, bus.Event, error) {
		var err error
		if u, err = getUnit(ctx, tx, id); err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		var parent *Unit
		if c.ParentID != nil {
			if parent, err = parentOf(ctx, tx, *c.ParentID); err != nil {
				return vigie.Record{}, bus.Event{}, err
			}
		}
		detail, err := c.Apply(&u, parent)
		if err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		if detail == "" {
			detail = "no change"
		}
		if err := updateUnit(ctx, tx, &u); err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		sid := strconv.FormatInt(u.ID, 10)
		return vigie.Record{Object: "unit", ObjectID: sid, Dept: u.Dept, UnitID: u.ID, Detail: detail},
			bus.Event{Dept: u.Dept, Type: "unit.updated", Subject: sid, Data: u}, nil
	})
	return u, err
}

// DeleteUnit removes a unit that has no child units and no territory.
func (s *Service) DeleteUnit(ctx context.Context, id int64) error {
	return s.change(ctx, false, func(tx *db.Tx) (vigie.Record, bus.Event, error) {
		u, err := getUnit(ctx, tx, id)
		if err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		kids, communes, err := unitUse(ctx, tx, id)
		if err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		if kids > 0 {
			return vigie.Record{}, bus.Event{}, vigie.E(vigie.KindConflict, "org.DeleteUnit", fmt.Sprintf("The unit %q still has %d units under it; move or delete them first.", u.Name, kids), nil)
		}
		if communes > 0 {
			return vigie.Record{}, bus.Event{}, vigie.E(vigie.KindConflict, "org.DeleteUnit", fmt.Sprintf("The brigade %q still has %d communes; give them to another brigade first.", u.Name, communes), nil)
		}
		if err := deleteUnit(ctx, tx, id); err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		sid := strconv.FormatInt(id, 10)
		return vigie.Record{Object: "unit", ObjectID: sid, Dept: u.Dept, UnitID: id, Detail: fmt.Sprintf("deleted %s %q (%s)", u.Kind, u.Name, u.Code)},
			bus.Event{Dept: u.Dept, Type: "unit.deleted", Subject: sid, Data: u}, nil
	})
}

// SetTerritory makes insees the territory of a brigade. Communes must be of
// the brigade's département; those held by another brigade move to this one.
func (s *Service) SetTerritory(ctx context.Context, brigade int64, insees []string) error {
	const op = "org.SetTerritory"
	return s.change(ctx, false, func(tx *db.Tx) (vigie.Record, bus.Event, error) {
		u, err := getUnit(ctx, tx, brigade)
		if err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		if u.Kind != Brigade {
			return vigie.Record{}, bus.Event{}, vigie.Invalidf(op, "Only a brigade has a territory; %q is a %s.", u.Name, u.Kind)
		}
		clean := make([]string, 0, len(insees))
		for _, c := range insees {
			c = strings.ToUpper(strings.TrimSpace(c))
			if c == "" || slices.Contains(clean, c) {
				continue
			}
			cm, err := getCommune(ctx, tx, c)
			if vigie.KindOf(err) == vigie.KindNotFound {
				return vigie.Record{}, bus.Event{}, vigie.Invalidf(op, "There is no commune with INSEE code %q in Vigie.", c)
			} else if err != nil {
				return vigie.Record{}, bus.Event{}, err
			}
			if cm.Dept != u.Dept {
				return vigie.Record{}, bus.Event{}, vigie.Invalidf(op, "The commune %s (%s) is in département %s; brigade %q serves département %s.", cm.Name, c, cm.Dept, u.Name, u.Dept)
			}
			clean = append(clean, c)
		}
		if err := setTerritory(ctx, tx, brigade, clean); err != nil {
			return vigie.Record{}, bus.Event{}, err
		}
		sid := strconv.FormatInt(brigade, 10)
		return vigie.Record{Object: "unit", ObjectID: sid, Dept: u.Dept, UnitID: brigade, Detail: fmt.Sprintf("territory set to %d communes", len(clean))},
			bus.Event{Dept: u.Dept, Type: "unit.territory", Subject: sid, Data: map[string]any{"unit_id": brigade, "communes": clean}}, nil
	})
}

// Warm loads the unit tree and builds the routing index (about a second for
// the 12 pilot départements), so that the first request does not pay for it.
func (s *Service) Warm(ctx context.Context) error {
	if err := s.tree.Load(ctx); err != nil {
		return err
	}
	_, err := s.index(ctx)
	return err
}
