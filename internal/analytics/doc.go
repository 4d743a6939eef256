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
// The package owns no tables, routes or bus subjects yet; the command
// "vigie analytics backtest" (cmd/vigie/analytics.go) runs it on files.
// Design notes and figures: docs/analytics.md.
package analytics
