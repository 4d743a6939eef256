// Package analytics forecasts where offences are likely in the coming period
// and measures, honestly, how good those forecasts are.
//
// The pipeline is: events (a CSV of times and WGS84 places, see ReadEvents) and
// a boundary (GeoJSON or KML, see ReadBoundary) → a metric projection chosen
// for the place (Lambert-93 in metropolitan France, UTM overseas, a local
// transverse Mercator elsewhere; see ProjectionFor) → a grid of square cells
// whose centre lies inside the boundary (NewGrid) → models that score every
// cell for a period from the events known before it (Model) → a rolling-origin
// backtest that scores the forecasts with hit rate, PAI and PEI*, overall and
// per region, and how often the same cells are flagged week after week
// (Backtest) → the shipping rule (Rule.Decide): a model is offered
// only when it beats the best count baseline at 5 % of the area by more than
// the week-to-week noise, in paired tests, and by at least half a point.
//
// This package holds the yardstick: the count baselines (Counts), the
// metrics, the rule, the explanations' vocabulary (Reason, Explainer), the
// model cards (Card, Cards) and the backtest chart (WriteChart). The other
// models (kernel density, prospective hotspotting, ETAS, Vigie's combined
// regression) live in the sub-package model, which imports this one; the
// Model interface stays here so that the backtest and the baselines do not
// depend on them.
//
// Safeguard: forecasts are about places and periods, never persons. Events
// carry a time and a place only; nothing in this package reads who was
// involved.
//
// The command "vigie analytics backtest" (cmd/vigie/analytics.go) runs the
// yardstick on files. Design notes and figures: docs/analytics.md.
//
// The users' side (Service, Handler; design note docs/riskmap.md):
//
//   - Sources (source.go, store.go, ingest.go): stored events of four
//     sources — recorded offences, calls for service, plate-reader (LAPI)
//     detections, patrol reports — each a category, a time window and a
//     WGS84 place, never a person. They come from CSV/GeoJSON imports (page
//     and API: every good row stored, every bad row counted by reason, rows
//     outside the unit's territory refused), from the bus (casefile.opened
//     events with a place become offences, once), from patrol reports, and
//     from the demo (demo.go: two years per pilot département, clustered,
//     near-repeat bursts, calls and LAPI detections before offences).
//   - Risk map (area.go, riskmap.go, svg.go, words.go): the unit's communes
//     (local geometry from internal/org) projected and gridded (250 m for a
//     brigade, up to 1 km for a département, at most 15,000 cells), scored
//     by the model the shipping rule offers for the département (ModelFor:
//     the model its latest backtest offers, ShippedModel = counts-all until
//     one is stored) for the next shift, day or week, times shown in the
//     département's time zone; the top 5 % of the area
//     flagged and explained in French words; police-initiative categories
//     (drugs...) left out of the targets by default; how often the same
//     cells are flagged week after week; too little history is said, not
//     drawn. Every view is journaled (ActConsult, motif "statistiques").
//   - Patrol plans (patrol.go, pdf.go): round-robin greedy choice of
//     cells by risk per minute within each patrol's time budget, spread
//     out (neighbours of chosen cells taken, cells of recent plans
//     discounted), ordered by 2-opt; stored, drawn on the map, printed as a
//     PDF briefing sheet; the patrol report records "patrol" events; each
//     plan is measured by the share of the next day's offences in its cells,
//     against what the forecast's top cells alone would have caught, and
//     the plans page sums it up week by week.
//   - Département backtests (deptbacktest.go): RunBacktest scores every
//     candidate model (main passes model.All()) on the département's own
//     recorded offences over the last BacktestWeeks whole weeks, on its risk
//     map grid, applies DefaultRule and stores the figures; BacktestWorker
//     runs it for départements without one a while after start, then
//     nightly. The backtest page and the model cards show the figures.
//
// Tables (migrations 00012, 00013): analytics_events, patrol_plans,
// analytics_backtests.
// Routes: GET /analytics/risk, GET|POST /analytics/import, GET|POST
// /analytics/plans, GET /analytics/plans/{id}, GET /analytics/plans/{id}/pdf,
// POST /analytics/plans/{id}/report, GET /analytics/models,
// GET /analytics/backtest,
// POST /api/v1/analytics/events, GET /api/v1/analytics/risk. Every route asks
// the policy for vigie.PermStats on the unit.
// Events: publishes analytics.events.imported (vigie.<dept>.analytics.
// events.imported); consumes casefile.opened (durable "analytics-ingest").
package analytics
