package main

import (
	"context"

	"vigie/internal/shield/waf"
)

// firewallArea holds the web application firewall.
type firewallArea struct {
	fw *waf.Firewall // nil until opened
}

// openFirewall builds the firewall (servers only).
func (a *app) openFirewall(ctx context.Context) error { return nil }

// registerFirewall registers the firewall's routes (rules, virtual patches).
func (a *app) registerFirewall() error { return nil }
