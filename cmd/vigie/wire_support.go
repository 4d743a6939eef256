package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/internal/auth"
	"vigie/internal/blob"
	"vigie/internal/mail"
	"vigie/internal/web"
)

// supportArea holds the shared machinery the areas use: file storage, e-mail,
// and citizen sign-up.
type supportArea struct {
	blobs  *blob.Store // nil until opened
	mailer *mail.Mailer
	signup *auth.Signup
	// franceConnect is the citizens' OpenID Connect sign-in; nil when not
	// configured.
	franceConnect *auth.FranceConnect
}

// openSupport opens file storage and e-mail (CLI commands too), before the areas.
// Files go under --blob-dir (<data-dir>/blobs by default). E-mail settings
// are read from the environment for now (see smtpConfig); without
// VIGIE_SMTP_ADDR, messages are queued and wait for a server.
func (a *app) openSupport(ctx context.Context) error {
	var err error
	if a.support.blobs, err = blob.Open(a.cfg.BlobDir); err != nil {
		return fmt.Errorf("file storage %s: %w", a.cfg.BlobDir, err)
	}
	if a.support.mailer, err = mail.New(a.db, smtpConfig(a.cfg), a.log); err != nil {
		return err
	}
	a.support.signup, err = a.auth.NewSignup(a.support.mailer, auth.SignupConfig{BaseURL: a.cfg.BaseURL})
	return err
}

// enableFranceConnect turns on citizens' sign-in through FranceConnect
// (GET /login/franceconnect and its callback at <base URL>/login/franceconnect/callback).
// An empty issuer leaves it off. To be called from registerSupport with the
// settings --franceconnect-issuer, --franceconnect-client-id and
// --franceconnect-client-secret once config.go has them.
func (a *app) enableFranceConnect(issuer, clientID, secret string) error {
	if issuer == "" {
		return nil
	}
	fc, err := a.auth.NewFranceConnect(auth.FranceConnectConfig{IssuerURL: issuer, ClientID: clientID, ClientSecret: secret,
		RedirectURL: a.cfg.BaseURL + "/login/franceconnect/callback", TrustEmail: true})
	if err != nil {
		return err
	}
	if err := fc.Register(a.web); err != nil {
		return err
	}
	a.support.franceConnect = fc
	return nil
}

// smtpConfig turns the e-mail settings (--smtp-*) into the mailer's.
func smtpConfig(cfg *Config) mail.Config {
	c := mail.Config{
		Addr:     cfg.SMTPAddr,
		From:     cfg.SMTPFrom,
		Username: cfg.SMTPUser,
		Password: cfg.SMTPPassword,
		TLS:      mail.TLSMode(cfg.SMTPTLS),
		Hello:    cfg.SMTPHello,
	}
	if cfg.SMTPInsecure {
		c.TLSConfig = &tls.Config{InsecureSkipVerify: true} // operator's explicit choice, documented
	}
	return c
}

// registerSupport registers citizen sign-up routes and starts the e-mail
// worker (servers only: CLI commands queue, the next server sends).
func (a *app) registerSupport() error {
	if err := web.LoadMessages(blob.Messages()); err != nil {
		return err
	}
	if err := a.support.signup.Register(a.web); err != nil {
		return err
	}
	if err := a.enableFranceConnect(a.cfg.FranceConnectIssuer, a.cfg.FranceConnectClientID, a.cfg.FranceConnectSecret); err != nil {
		return err
	}
	if err := a.reg.Register(newMailQueueCollector(a.support.mailer)); err != nil {
		return err
	}
	// What is still queued at shutdown waits in the database for the next
	// start (or another replica): no flush that could hang on a slow server.
	a.workers = append(a.workers, a.support.mailer.Run,
		func(ctx context.Context) { every(ctx, 10*time.Minute, "prune sign-ups", a.log, a.support.signup.Prune) })
	return nil
}

// mailQueueCollector exports the e-mail queue by status
// (vigie_mail_messages{status="queued"}...): a growing queue means the SMTP
// server is unreachable or refusing.
type mailQueueCollector struct {
	m    *mail.Mailer
	desc *prometheus.Desc
}

func newMailQueueCollector(m *mail.Mailer) mailQueueCollector {
	return mailQueueCollector{m, prometheus.NewDesc("vigie_mail_messages", "E-mail messages in the queue, by status.", []string{"status"}, nil)}
}

func (c mailQueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c mailQueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.m.Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, st := range []string{"queued", "sending", "sent", "failed"} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), st)
	}
}
