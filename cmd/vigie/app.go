package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"vigie"
	"vigie/internal/audit"
	"vigie/internal/auth"
	"vigie/internal/bus"
	"vigie/internal/db"
	"vigie/internal/org"
	"vigie/internal/web"
)

// openApp opens the shared machinery and builds every area, wiring them by
// hand. Nothing listens yet; on error, everything opened so far is closed.
// With server false (CLI commands) the bus and the web server are left out:
// events still reach the outbox, and the next server relays them.
func openApp(ctx context.Context, cfg *Config, log *slog.Logger, server bool) (*app, error) {
	a := &app{cfg: cfg, log: log, reg: newRegistry()}
	if err := a.open(ctx, server); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) open(ctx context.Context, server bool) (err error) {
	cfg, log := a.cfg, a.log
	if err := checkDataDir(cfg.DataDir); err != nil {
		return err
	}

	// Storage, then schema: a newer schema stops us here.
	a.db, err = db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, func() { a.db.Close() })
	if err := a.db.Migrate(ctx, log); err != nil {
		return err
	}

	// Bus: embedded JetStream under the data directory, or external.
	if server {
		if a.outbox, err = a.openBus(ctx); err != nil {
			return err
		}
	}
	outbox := a.outbox

	// Journal: every area writes to it in its own transactions.
	key, err := a.journalKey(ctx)
	if err != nil {
		return err
	}
	a.journal = audit.New(a.db, key, log)
	if server {
		// A server must not start on a journal that was tampered with: the
		// law requires it intact, and new entries would chain onto a lie.
		// Cost: about 5 s per million entries on SQLite (docs/benchmarks.md).
		rep, err := a.journal.Verify(ctx, nil)
		if err != nil {
			return fmt.Errorf("the journal cannot be verified: %w", err)
		}
		if !rep.OK {
			return vigie.E(vigie.KindConflict, "serve", "The consultation journal fails verification: "+rep.Message+
				" Investigate with `vigie audit verify` before serving.", nil)
		}
		log.Info("journal verified", "entries", rep.Entries, "checkpoints", rep.Checkpoints, "duration", rep.Duration.Round(time.Millisecond).String())
	}

	// Organisation, and the unit tree that authorization decides on.
	a.org = org.New(org.Config{DB: a.db, Journal: a.journal, Outbox: outbox, Log: log})
	if err := a.org.Tree().Load(ctx); err != nil {
		return err
	}

	// Identity and access.
	authCfg := auth.Config{
		SecureCookie: cfg.TLSCert != "" || isHTTPS(cfg.BaseURL),
		IdleTimeout:  cfg.SessionIdle,
		MaxLifetime:  cfg.SessionMax,
	}
	// Passkeys are bound to the host name users see: the base URL's.
	// WebAuthn needs a domain name (localhost is fine), never an address.
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
		authCfg.WebAuthnRPID = u.Hostname()
		authCfg.WebAuthnOrigins = []string{u.Scheme + "://" + u.Host}
	}
	if cfg.OIDCIssuer != "" {
		authCfg.OIDC = &auth.OIDCConfig{IssuerURL: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID,
			ClientSecret: cfg.OIDCSecret, RedirectURL: cfg.BaseURL + "/login/oidc/callback"}
	}
	// Reading an account is a consultation of personal data: the journal's
	// motif gate asks why (a.web exists by the time a request comes).
	authCfg.Motif = func(w http.ResponseWriter, r *http.Request) (string, bool, error) {
		return audit.RequireMotif(a.web, w, r)
	}
	a.policy = auth.NewPolicy(a.db, a.org.Tree())
	a.auth, err = auth.New(ctx, a.db, a.policy, a.journal, log, authCfg)
	if err != nil {
		return err
	}
	// Areas: shared storage and e-mail, then case files (complaints open them
	// when accepted), then complaints.
	if err := a.openSupport(ctx); err != nil {
		return err
	}
	if err := a.openCasefile(ctx); err != nil {
		return err
	}
	if err := a.openComplaint(ctx); err != nil {
		return err
	}
	if err := a.openAnalytics(ctx); err != nil {
		return err
	}
	if !server {
		return nil
	}
	// Defence: the firewall, then bans and detection around it.
	if err := a.openFirewall(ctx); err != nil {
		return err
	}
	if err := a.openShield(ctx); err != nil {
		return err
	}
	a.workers = append(a.workers,
		func(ctx context.Context) { a.journal.RunCheckpoints(ctx, cfg.CheckpointEach) },
		func(ctx context.Context) { a.journal.RunPurge(ctx, cfg.JournalKeep, 24*time.Hour) },
		func(ctx context.Context) { every(ctx, 10*time.Minute, "prune sessions", log, a.auth.Prune) })
	return a.openWeb()
}

// openBus opens the bus and the outbox relay (a background worker).
func (a *app) openBus(ctx context.Context) (*bus.Outbox, error) {
	var err error
	a.bus, err = bus.Open(ctx, bus.Config{URL: a.cfg.NATSURL, StoreDir: filepath.Join(a.cfg.DataDir, "jetstream"), Name: "vigie"}, a.log)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { a.bus.Close() })
	a.relay, err = bus.NewRelay(a.db, a.bus, a.log, bus.RelayConfig{Registerer: a.reg})
	if err != nil {
		return nil, err
	}
	a.workers = append(a.workers, func(ctx context.Context) { a.relay.Run(ctx) })
	a.flush = append(a.flush, a.relay.Flush)
	return a.relay.Outbox(), nil
}

// openWeb builds the web server and registers every area's routes.
func (a *app) openWeb() error {
	var err error
	cfg := a.cfg
	// Web: shared routes, then each area's.
	proxies, _ := cfg.proxies()
	a.web, err = web.New(web.Config{Addr: cfg.Addr, CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey, TrustedProxies: proxies}, a.log, a.reg)
	if err != nil {
		return err
	}
	a.web.SetAuthenticator(a.auth.Middleware)
	a.web.SetShield(a.shieldMiddleware())
	// Home first; each area adds its own menu entries when it registers.
	a.web.AddNav(web.NavItem{Path: "/", Label: "Home"})
	a.web.AddReadyCheck("database", func(ctx context.Context) error { return a.db.SQL().PingContext(ctx) })
	a.web.AddReadyCheck("bus", a.bus.Ready)
	a.web.Handle("GET /metrics", metricsHandler(a.reg, proxies))
	if err := a.auth.Register(a.web); err != nil {
		return err
	}
	org.NewHandler(a.org, a.policy).Register(a.web)
	if err := audit.NewHandler(a.journal, a.policy).Register(a.web); err != nil {
		return err
	}
	if err := registerHome(a.web, a.org); err != nil {
		return err
	}
	if err := a.registerSupport(); err != nil {
		return err
	}
	if err := a.registerCasefile(); err != nil {
		return err
	}
	if err := a.registerComplaint(); err != nil {
		return err
	}
	if err := a.registerAnalytics(); err != nil {
		return err
	}
	if err := a.registerFirewall(); err != nil {
		return err
	}
	if err := a.registerShield(); err != nil {
		return err
	}
	registerOpenAPI(a.web)
	return nil
}

func isHTTPS(u string) bool { return strings.HasPrefix(u, "https://") }

const metaJournalKey = "journal_public_key"

// journalKey loads the key that signs the journal's checkpoints, creating it
// only for a database that never had one. The database remembers the public
// key, so a missing or foreign key file stops the program with a clear
// message instead of silently starting a new key (checkpoints signed by the
// old one would then fail verification).
func (a *app) journalKey(ctx context.Context) (ed25519.PrivateKey, error) {
	path := filepath.Join(a.cfg.DataDir, "journal.key")
	known, err := a.meta(ctx, metaJournalKey)
	if err != nil {
		return nil, err
	}
	if _, statErr := os.Stat(path); errors.Is(statErr, fs.ErrNotExist) && known != "" {
		return nil, vigie.E(vigie.KindConflict, "journal key", fmt.Sprintf(
			"The journal signing key %s is missing, but this database's journal was signed with one. Restore it from your key backup (or copy it from another replica) before starting.", path), nil)
	}
	key, err := audit.LoadOrCreateKey(path)
	if err != nil {
		return nil, fmt.Errorf("the journal signing key %s cannot be loaded: %w", path, err)
	}
	pub := base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	switch known {
	case pub:
	case "":
		if _, err := a.db.Exec(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", metaJournalKey, pub); err != nil {
			return nil, fmt.Errorf("record the journal public key: %w", err)
		}
	default:
		return nil, vigie.E(vigie.KindConflict, "journal key", fmt.Sprintf(
			"The journal signing key %s does not belong to this database (its public key differs from the one the database recorded). Use the data directory's own key.", path), nil)
	}
	return key, nil
}

// every runs f every period until ctx ends, logging failures.
func every(ctx context.Context, period time.Duration, what string, log *slog.Logger, f func(context.Context) error) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := f(ctx); err != nil {
				log.Warn(what+" failed", "err", err)
			}
		}
	}
}
