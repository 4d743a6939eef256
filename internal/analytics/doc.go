// Package analytics forecasts where offences are likely in the coming period
// and measures, honestly, how good those forecasts are.
//
// The pipeline is: events (a CSV of times and WGS84 places, see ReadEvents) and
// a boundary (GeoJSON or KML, see ReadBoundary) → a metric projection chosen
// for the place (Lambert-93 in metropolitan France, UTM overseas, a local
// transverse Mercator elsewhere; see ProjectionFor) → a grid of square cells
// whose centre lies inside the boundary (NewGrid) → models that score every
// cell for a period from the events known before it (Model) → a rolling-origin
// backtest that scores the forecasts with hit rate, PAI and PEI* (Backtest).
//
// This first part holds the count baselines (Counts): the figure every other
// model must beat, by more than the week-to-week noise, before users see it.
//
// Safeguard: forecasts are about places and periods, never persons. Events
// carry a time and a place only; nothing in this package reads who was
// involved.
//
// The package owns no tables, routes or bus subjects yet; the command
// "vigie analytics backtest" (cmd/vigie/analytics.go) runs it on files.
package analytics
