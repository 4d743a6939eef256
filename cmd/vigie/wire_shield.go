package main

import (
	"context"
	"net/http"
)

// shieldArea holds bans, intrusion detection and the security centre.
type shieldArea struct{}

// openShield builds bans and detectors (servers only), after the firewall.
func (a *app) openShield(ctx context.Context) error { return nil }

// registerShield registers the security centre's routes.
func (a *app) registerShield() error { return nil }

// shieldMiddleware is the defence in front of every route: bans first (cheap),
// then the firewall.
func (a *app) shieldMiddleware() func(http.Handler) http.Handler {
	if a.firewall.fw == nil {
		return nil
	}
	return a.firewall.fw.Middleware
}
