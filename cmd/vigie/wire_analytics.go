package main

import (
	"context"
	"fmt"
	"time"

	"vigie/internal/analytics"
	"vigie/internal/analytics/model"
	"vigie/internal/bus"
)

// analyticsArea holds the risk forecasts, risk map and patrol plans.
type analyticsArea struct {
	svc *analytics.Service
}

// openAnalytics builds the analytics area (CLI commands too). The model the
// maps use is the one the shipping rule offers (analytics.ShippedModel).
func (a *app) openAnalytics(ctx context.Context) error {
	m, err := model.Parse(analytics.ShippedModel)
	if err != nil {
		return fmt.Errorf("analytics: shipped model: %w", err)
	}
	a.analytics.svc = analytics.New(analytics.ServiceConfig{
		DB: a.db, Journal: a.journal, Outbox: a.outbox, Org: a.org, Tree: a.org.Tree(), Log: a.log,
		Model: m[0], Candidates: model.All(), Cards: analytics.Cards(model.All(), nil, nil, nil),
	})
	return nil
}

// Backtest worker timing: the first run (départements without a stored
// backtest) waits analyticsBacktestDelay after start, so that a start-up
// (and the tests, which start the workers) is not slowed by it; then every
// département is backtested daily at analyticsBacktestHour (server time).
const (
	analyticsBacktestDelay = 2 * time.Minute
	analyticsBacktestHour  = 3
)

// registerAnalytics registers the risk map, patrol plan and source pages,
// and the consumer that turns opened case files into recorded offences.
func (a *app) registerAnalytics() error {
	if err := analytics.NewHandler(a.analytics.svc, a.policy).Register(a.web); err != nil {
		return err
	}
	a.workers = append(a.workers, func(ctx context.Context) {
		a.analytics.svc.BacktestWorker(ctx, func(ctx context.Context) ([]string, error) {
			ds, err := a.org.Departements(ctx)
			var codes []string
			for _, d := range ds {
				codes = append(codes, d.Code)
			}
			return codes, err
		}, analyticsBacktestDelay, analyticsBacktestHour)
	})
	if a.bus == nil {
		return nil
	}
	a.workers = append(a.workers, func(ctx context.Context) {
		sub, err := a.bus.Subscribe(ctx, bus.ConsumerConfig{Durable: "analytics-ingest", Filter: analytics.IngestFilter},
			func(ctx context.Context, ev *bus.CloudEvent) error {
				_, err := a.analytics.svc.IngestCase(ctx, ev)
				return err
			})
		if err != nil {
			a.log.Error("analytics: cannot follow opened case files; the risk map misses new offences", "err", err)
			return
		}
		<-ctx.Done()
		sub.Stop()
	})
	return nil
}

// seedAnalyticsDemo adds the demo's offences, calls for service and
// plate-reader detections, once, after the case files.
func (a *app) seedAnalyticsDemo(ctx context.Context) error {
	start := time.Now()
	depts := a.demoDepts
	if len(depts) == 0 {
		ds, err := a.org.Departements(ctx)
		if err != nil {
			return err
		}
		for _, d := range ds {
			depts = append(depts, d.Code)
		}
	}
	n, err := a.analytics.svc.SeedDemo(ctx, depts)
	if err != nil {
		return fmt.Errorf("demo analytics: %w", err)
	}
	a.log.Info("demo analytics events seeded", "events", n, "duration", time.Since(start).Round(time.Millisecond).String())
	return nil
}
