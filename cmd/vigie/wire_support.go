package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strconv"
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
	mcfg, err := smtpConfig(os.Getenv)
	if err != nil {
		return err
	}
	if a.support.mailer, err = mail.New(a.db, mcfg, a.log); err != nil {
		return err
	}
	a.support.signup, err = a.auth.NewSignup(a.support.mailer, auth.SignupConfig{BaseURL: a.cfg.BaseURL})
	return err
}

// smtpConfig reads the e-mail settings:
//
//	VIGIE_SMTP_ADDR       host:port of the SMTP server; empty: e-mail stays queued
//	VIGIE_SMTP_FROM       sender, default "Vigie <no-reply@localhost>"
//	VIGIE_SMTP_USER       user name (PLAIN authentication, over TLS only)
//	VIGIE_SMTP_PASSWORD   its password
//	VIGIE_SMTP_TLS        auto (STARTTLS when offered; default), starttls (required), tls (port 465), none
//	VIGIE_SMTP_HELLO      name given in EHLO, default "localhost"
//	VIGIE_SMTP_INSECURE_SKIP_VERIFY  true: accept any certificate (a relay with a self-signed one; never on the Internet)
func smtpConfig(getenv func(string) string) (mail.Config, error) {
	c := mail.Config{
		Addr:     getenv("VIGIE_SMTP_ADDR"),
		From:     getenv("VIGIE_SMTP_FROM"),
		Username: getenv("VIGIE_SMTP_USER"),
		Password: getenv("VIGIE_SMTP_PASSWORD"),
		TLS:      mail.TLSMode(getenv("VIGIE_SMTP_TLS")),
		Hello:    getenv("VIGIE_SMTP_HELLO"),
	}
	if c.From == "" {
		c.From = "Vigie <no-reply@localhost>"
	}
	if v := getenv("VIGIE_SMTP_INSECURE_SKIP_VERIFY"); v != "" {
		skip, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("VIGIE_SMTP_INSECURE_SKIP_VERIFY: %q is not true or false", v)
		}
		if skip {
			c.TLSConfig = &tls.Config{InsecureSkipVerify: true} // operator's explicit choice, documented
		}
	}
	return c, nil
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
