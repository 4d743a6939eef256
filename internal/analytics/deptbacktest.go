package analytics

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/org"
)

// BacktestWeeks is how many whole weeks the département backtest scores:
// enough for the rule's MinWeeks paired weeks even with a few empty ones.
const BacktestWeeks = 26

// DeptBacktest is the backtest of one département's own recorded offences
// (its whole territory, at the risk map's cell size), as stored.
type DeptBacktest struct {
	ID        int64
	Dept      string
	RanAt     time.Time
	From, To  time.Time // [From, To): the scored weeks
	Weeks     int       // weeks scored
	Empty     int       // weeks without offences, not scored
	Cells     int
	CellSize  float64
	Events    int // target offences used (history and scored weeks)
	Baseline  string
	Offered   string
	Duration  time.Duration
	Coverages []float64
	Methods   []DeptMethod
}

// DeptMethod is one model's figures in a département backtest.
type DeptMethod struct {
	Name     string    `json:"name"`
	HitRate  []float64 `json:"hit_rate"` // percent, per coverage
	PAI      []float64 `json:"pai"`
	PEI      []float64 `json:"pei"`
	AUC      float64   `json:"auc"`
	WeeklySD float64   `json:"weekly_sd"`
	Skipped  int       `json:"skipped"`
	Repeat   float64   `json:"repeat"` // -1 when it could not be computed
	Decision Decision  `json:"decision"`
}

// Method returns the figures of the named model, if it was backtested.
func (b *DeptBacktest) Method(name string) (DeptMethod, bool) {
	for _, m := range b.Methods {
		if m.Name == name {
			return m, true
		}
	}
	return DeptMethod{}, false
}

// Key returns the index of KeyCoverage in Coverages (-1 if absent).
func (b *DeptBacktest) Key() int {
	for i, c := range b.Coverages {
		if c == KeyCoverage {
			return i
		}
	}
	return -1
}

// storedMethods is the JSON of the methods column.
type storedMethods struct {
	Coverages []float64    `json:"coverages"`
	Methods   []DeptMethod `json:"methods"`
}

// finite replaces NaN and infinities (which JSON cannot hold) by def.
func finite(x, def float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return def
	}
	return x
}

func finiteAll(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = finite(x, 0)
	}
	return out
}

// deptGroupement returns the groupement (the whole territory) of dept.
func (s *Service) deptGroupement(ctx context.Context, dept string) (org.Unit, error) {
	units, err := s.cfg.Org.Units(ctx, dept)
	if err != nil {
		return org.Unit{}, err
	}
	for _, u := range units {
		if u.Kind == org.Groupement {
			return u, nil
		}
	}
	return org.Unit{}, vigie.E(vigie.KindNotFound, "analytics.Backtest", fmt.Sprintf("The département %s has no groupement.", dept), nil)
}

// backtestStart is the Monday 00:00, in the département's time zone, of
// the week weeks before the current one: the scored weeks end where the
// current (partial) week begins.
func backtestStart(now time.Time, loc *time.Location, weeks int) time.Time {
	l := now.In(loc)
	day := (int(l.Weekday()) + 6) % 7 // Monday 0
	monday := time.Date(l.Year(), l.Month(), l.Day()-day, 0, 0, 0, 0, loc)
	return monday.AddDate(0, 0, -7*weeks)
}

// RunBacktest backtests every candidate model on the département's own
// recorded offences (police-initiative categories excluded, as on the map)
// over the last weeks whole weeks, on the grid of the département's risk
// map, applies DefaultRule, stores the result, and from then on the risk
// maps of the département use the model it offers. It is slow (seconds to
// minutes: every model forecasts every week) and meant for a worker.
func (s *Service) RunBacktest(ctx context.Context, dept string, weeks int) (*DeptBacktest, error) {
	const op = "analytics.RunBacktest"
	if weeks < 1 {
		return nil, vigie.Invalidf(op, "The number of weeks must be positive.")
	}
	began := time.Now()
	u, err := s.deptGroupement(ctx, dept)
	if err != nil {
		return nil, err
	}
	a, err := s.Area(ctx, u)
	if err != nil {
		return nil, err
	}
	loc := s.Location(ctx, dept)
	from := backtestStart(s.cfg.Now(), loc, weeks)
	to := from.AddDate(0, 0, 7*weeks)
	recs, err := loadRecords(ctx, s.cfg.DB, dept, time.Unix(0, 0), to)
	if err != nil {
		return nil, err
	}
	events, _ := targetEvents(recs, a.Grid, false)
	if len(events) < MinTargets {
		return nil, vigie.Invalidf(op, "Too few recorded offences in %s to backtest (%d, at least %d).", dept, len(events), MinTargets)
	}
	res, err := Backtest(events, a.Grid, Config{Models: s.candidates(), From: from.UTC(), Weeks: weeks})
	if err != nil {
		return nil, err
	}
	ds := DefaultRule.Decide(res)
	b := &DeptBacktest{Dept: dept, RanAt: s.cfg.Now().UTC().Truncate(time.Millisecond), From: from, To: to, Weeks: res.Weeks,
		Empty: res.Empty, Cells: res.Cells, CellSize: a.Grid.Size, Events: len(events), Baseline: res.Baseline,
		Offered: Offered(ds), Coverages: res.Coverages}
	for i, m := range res.Methods {
		dm := DeptMethod{Name: m.Name, HitRate: finiteAll(m.HitRate), PAI: finiteAll(m.PAI), PEI: finiteAll(m.PEI),
			AUC: finite(m.AUC, 0), WeeklySD: finite(m.WeeklySD, 0), Skipped: m.Skipped, Repeat: finite(m.Repeat, -1)}
		if i < len(ds) {
			d := ds[i]
			d.Gain, d.SD, d.T, d.PT, d.PW = finite(d.Gain, 0), finite(d.SD, 0), finite(d.T, 0), finite(d.PT, 1), finite(d.PW, 1)
			dm.Decision = d
		}
		b.Methods = append(b.Methods, dm)
	}
	b.Duration = time.Since(began)
	if err := insertBacktest(ctx, s.cfg.DB, b); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.shipped[dept] = shippedName{name: b.Offered, at: s.cfg.Now()}
	s.mu.Unlock()
	s.cfg.Log.Info("analytics backtest", "dept", dept, "weeks", b.Weeks, "cells", b.Cells, "events", b.Events,
		"offered", b.Offered, "duration", b.Duration.Round(time.Millisecond).String())
	return b, nil
}

// shippedName caches the offered model of a département ("" when no
// backtest is stored) and when it was read.
type shippedName struct {
	name string
	at   time.Time
}

// candidates are the models a département backtest compares.
func (s *Service) candidates() []Model {
	if len(s.cfg.Candidates) > 0 {
		return s.cfg.Candidates
	}
	return []Model{s.cfg.Model}
}

// LastBacktest returns the latest stored backtest of dept (KindNotFound
// when none was run).
func (s *Service) LastBacktest(ctx context.Context, dept string) (*DeptBacktest, error) {
	return lastBacktest(ctx, s.cfg.DB, dept)
}

// ModelFor is the model the risk maps of dept use: the one the latest
// backtest of the département offers, or the shipped default (counts-all)
// when no backtest is stored or the offered model is not a candidate.
func (s *Service) ModelFor(ctx context.Context, dept string) Model {
	s.mu.Lock()
	c, ok := s.shipped[dept]
	s.mu.Unlock()
	name := c.name
	// Another replica's worker may have stored a newer backtest: re-read
	// after areaTTL.
	if !ok || s.cfg.Now().Sub(c.at) >= areaTTL {
		b, err := lastBacktest(ctx, s.cfg.DB, dept)
		switch {
		case err == nil:
			name = b.Offered
		case vigie.KindOf(err) == vigie.KindNotFound:
			name = ""
		default:
			s.cfg.Log.Warn("analytics: cannot read the last backtest; the map uses the default model", "dept", dept, "err", err)
			return s.cfg.Model
		}
		s.mu.Lock()
		s.shipped[dept] = shippedName{name: name, at: s.cfg.Now()}
		s.mu.Unlock()
	}
	return s.modelNamed(name)
}

// modelNamed returns the candidate model of that name (a plan's model), or
// the default model.
func (s *Service) modelNamed(name string) Model {
	for _, m := range s.cfg.Candidates {
		if m.Name() == name {
			return m
		}
	}
	return s.cfg.Model
}

// BacktestWorker runs the département backtests in the background: after
// firstDelay, once for every département of depts() that has none stored;
// then every day at hour (the worker's local clock, time.Local), all of
// them. A département with too few offences is logged and skipped. It
// returns when ctx is done.
func (s *Service) BacktestWorker(ctx context.Context, depts func(context.Context) ([]string, error), firstDelay time.Duration, hour int) {
	run := func(onlyMissing bool) {
		ds, err := depts(ctx)
		if err != nil {
			s.cfg.Log.Error("analytics backtest: cannot list the départements", "err", err)
			return
		}
		for _, d := range ds {
			if ctx.Err() != nil {
				return
			}
			if onlyMissing {
				if _, err := lastBacktest(ctx, s.cfg.DB, d); err == nil || vigie.KindOf(err) != vigie.KindNotFound {
					continue
				}
			}
			if _, err := s.RunBacktest(ctx, d, BacktestWeeks); err != nil {
				if vigie.KindOf(err) == vigie.KindInvalid {
					s.cfg.Log.Info("analytics backtest skipped", "dept", d, "why", err.Error())
				} else if ctx.Err() == nil {
					s.cfg.Log.Error("analytics backtest failed", "dept", d, "err", err)
				}
			}
		}
	}
	t := time.NewTimer(firstDelay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	run(true)
	for {
		t.Reset(untilHour(time.Now(), hour))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		run(false)
	}
}

// untilHour is the time from now to the next hour:00 of now's clock.
func untilHour(now time.Time, hour int) time.Duration {
	next := time.Date(now.Year(), now.Month(), now.Day(), hour, 0, 0, 0, now.Location())
	if !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	return next.Sub(now)
}

func insertBacktest(ctx context.Context, q querier, b *DeptBacktest) error {
	js, err := json.Marshal(storedMethods{Coverages: b.Coverages, Methods: b.Methods})
	if err != nil {
		return fmt.Errorf("analytics: backtest json: %w", err)
	}
	row := q.QueryRow(ctx, `INSERT INTO analytics_backtests (dept, ran_at, from_at, to_at, weeks, empty_weeks, cells, cell_size,
		events, baseline, offered, methods, duration_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		b.Dept, db.Millis(b.RanAt), db.Millis(b.From), db.Millis(b.To), b.Weeks, b.Empty, b.Cells, b.CellSize,
		b.Events, b.Baseline, b.Offered, string(js), b.Duration.Milliseconds())
	if err := row.Scan(&b.ID); err != nil {
		return fmt.Errorf("analytics: store backtest: %w", err)
	}
	return nil
}

func lastBacktest(ctx context.Context, q querier, dept string) (*DeptBacktest, error) {
	b := &DeptBacktest{Dept: dept}
	var ran, from, to, dur int64
	var js string
	err := q.QueryRow(ctx, `SELECT id, ran_at, from_at, to_at, weeks, empty_weeks, cells, cell_size, events, baseline, offered,
		methods, duration_ms FROM analytics_backtests WHERE dept = ? ORDER BY ran_at DESC, id DESC LIMIT 1`, dept).
		Scan(&b.ID, &ran, &from, &to, &b.Weeks, &b.Empty, &b.Cells, &b.CellSize, &b.Events, &b.Baseline, &b.Offered, &js, &dur)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vigie.E(vigie.KindNotFound, "analytics.LastBacktest", "No backtest has been run for this département yet.", err)
	}
	if err != nil {
		return nil, fmt.Errorf("analytics: read backtest: %w", err)
	}
	var sm storedMethods
	if err := json.Unmarshal([]byte(js), &sm); err != nil {
		return nil, fmt.Errorf("analytics: backtest %d json: %w", b.ID, err)
	}
	b.RanAt, b.From, b.To, b.Duration = db.Time(ran), db.Time(from), db.Time(to), time.Duration(dur)*time.Millisecond
	b.Coverages, b.Methods = sm.Coverages, sm.Methods
	return b, nil
}
