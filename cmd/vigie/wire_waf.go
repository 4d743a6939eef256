package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"vigie/internal/shield/waf"
)

// firewallArea holds the web application firewall.
type firewallArea struct {
	fw      *waf.Firewall // nil until opened
	patches *waf.Patches  // the virtual patches, stored in waf_rule
}

// firewallConfig is the firewall's configuration. Defaults (waf.Config's
// zero value): blocking, CRS paranoia level 1, inbound threshold 5,
// outbound 4, 32 MiB uploads, 1 MiB for other bodies, responses not
// inspected.
func (a *app) firewallConfig() waf.Config {
	return waf.Config{
		Log:              a.log,
		Paranoia:         a.cfg.WAFParanoia,
		InboundThreshold: a.cfg.WAFThreshold,
		DetectOnly:       a.cfg.WAFMode == "detect",
		// The detectors read every verdict (wire_shield.go); they are
		// opened after the firewall, so the hook looks them up per call.
		OnVerdict: a.shieldVerdict,
	}
}

// openFirewall builds the firewall (servers only). SECURITY: a rule set
// that does not load stops the server: Vigie never runs unprotected.
func (a *app) openFirewall(ctx context.Context) error {
	start := time.Now()
	fw, err := waf.New(a.firewallConfig())
	if err != nil {
		return fmt.Errorf("the web application firewall cannot start: %w", err)
	}
	a.firewall.fw = fw
	// Virtual patches: load the enabled ones now, then follow changes made
	// on any replica (the stored rule set's version, read every 2 s).
	a.firewall.patches = waf.NewPatches(a.db, fw, a.journal, a.outbox, a.log)
	if err := a.firewall.patches.Sync(ctx); err != nil {
		// A stored patch that no longer compiles (after a CRS upgrade)
		// must not leave the server unprotected: CRS alone runs, loudly.
		a.log.Error("virtual patches not loaded: the firewall runs CRS and Vigie's rules only", "err", err)
	}
	a.workers = append(a.workers, func(ctx context.Context) { a.firewall.patches.Run(ctx, 2*time.Second) },
		a.followPatches)
	c := fw.Config()
	mode := "block"
	if c.DetectOnly {
		mode = "detect-only"
	}
	a.log.Info("firewall ready", "mode", mode, "paranoia", c.Paranoia, "inbound_threshold", c.InboundThreshold,
		"outbound_threshold", c.OutboundThreshold, "build", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// registerFirewall registers the firewall's routes (virtual patches API).
func (a *app) registerFirewall() error {
	if a.firewall.patches == nil {
		return nil
	}
	return waf.NewHandler(a.firewall.patches, a.policy).Register(a.web)
}

// followPatches reloads the firewall as soon as a replica announces a
// change of the virtual patches on the bus (with an external NATS shared
// by the replicas; with an embedded bus per replica, the database poll of
// Patches.Run does it within 2 s).
func (a *app) followPatches(ctx context.Context) {
	if a.bus == nil {
		return
	}
	url := a.cfg.NATSURL
	if url == "" {
		url = a.bus.ClientURL()
	}
	if url == "" {
		return
	}
	nc, err := nats.Connect(url, nats.Name("vigie-waf"), nats.MaxReconnects(-1))
	if err != nil {
		a.log.Warn("firewall: cannot follow rule changes on the bus; the database poll remains", "err", err)
		return
	}
	defer nc.Close()
	subject := a.bus.Prefix() + ".national.waf.rules.changed"
	sub, err := nc.Subscribe(subject, func(*nats.Msg) { a.firewall.patches.Changed(ctx) })
	if err != nil {
		a.log.Warn("firewall: cannot subscribe to rule changes", "subject", subject, "err", err)
		return
	}
	defer sub.Unsubscribe()
	<-ctx.Done()
}
