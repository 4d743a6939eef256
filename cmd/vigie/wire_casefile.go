package main

import "context"

// casefileArea holds the case-file area's parts.
type casefileArea struct{}

// openCasefile builds the case-file area (CLI commands too).
func (a *app) openCasefile(ctx context.Context) error { return nil }

// registerCasefile registers the area's routes and menu entries.
func (a *app) registerCasefile() error { return nil }

// seedCasefileDemo adds the demo's case files, once, after the complaints.
func (a *app) seedCasefileDemo(ctx context.Context) error { return nil }
