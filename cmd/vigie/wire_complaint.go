package main

import "context"

// complaintArea holds the online-complaint area's parts.
type complaintArea struct{}

// openComplaint builds the complaint area (CLI commands too).
func (a *app) openComplaint(ctx context.Context) error { return nil }

// registerComplaint registers the area's routes and menu entries.
func (a *app) registerComplaint() error { return nil }

// seedComplaintDemo adds the demo's complaints, once, after the demo accounts.
func (a *app) seedComplaintDemo(ctx context.Context) error { return nil }
