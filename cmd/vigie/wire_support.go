package main

import (
	"context"

	"vigie/internal/blob"
	"vigie/internal/mail"
)

// supportArea holds the shared machinery the areas use: file storage, e-mail,
// and citizen sign-up.
type supportArea struct {
	blobs  *blob.Store // nil until opened
	mailer *mail.Mailer
}

// openSupport opens file storage and e-mail (CLI commands too), before the areas.
func (a *app) openSupport(ctx context.Context) error { return nil }

// registerSupport registers citizen sign-up routes.
func (a *app) registerSupport() error { return nil }
