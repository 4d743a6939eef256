package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"vigie"
	"vigie/internal/auth"
)

// cmdGrant gives an account an explicit, expiring permission outside its
// role's rules: on a unit's records (--unit) or on one record (--kind,
// --id). It is how "anything else only through an explicit share or
// assignment" is done until the areas offer sharing in their pages.
func cmdGrant(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("grant", stderr)
	login := fs.String("login", "", "account that receives the permission")
	perm := fs.String("perm", "read", "read, write, stats, journal.read or journal.export")
	unit := fs.Int64("unit", 0, "unit whose records (and those below it) the permission covers")
	kind := fs.String("kind", "", "kind of the one record the permission covers (case, complaint...)")
	id := fs.String("id", "", "identifier of that record")
	reason := fs.String("reason", "", "why (journaled): a case number, a joint investigation...")
	ttl := fs.String("ttl", "30d", "how long the permission lasts")
	revoke := fs.Int64("revoke", 0, "end the permission with this number instead")
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if *revoke != 0 {
		a, err := openCLI(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		defer a.Close()
		if err := a.auth.RevokeGrant(cliContext(ctx), *revoke); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "permission %d revoked\n", *revoke)
		return nil
	}
	d, err := parseDuration(*ttl)
	if err != nil || d <= 0 {
		return usageError{fmt.Errorf("--ttl %q is not a positive duration", *ttl)}
	}
	if *login == "" || *reason == "" {
		return usageError{fmt.Errorf("--login and --reason are required")}
	}
	a, err := openCLI(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	g, err := a.auth.GrantTo(cliContext(ctx), *login, auth.Grant{Perm: vigie.Perm(*perm), UnitID: *unit,
		Kind: *kind, TargetID: *id, Reason: *reason, ExpiresAt: time.Now().Add(d)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "permission %d: %s may %s until %s\n", g.ID, *login, g.Perm, g.ExpiresAt.Format(time.RFC3339))
	return nil
}
