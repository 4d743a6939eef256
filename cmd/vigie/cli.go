package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pquerna/otp/totp"

	"vigie"
	"vigie/internal/auth"
)

// cliContext is the context of an administration command: the journal
// records the operating-system user who ran it.
func cliContext(ctx context.Context) context.Context {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return auth.Console(ctx, name)
}

// openCLI opens the database and the areas without the web server or bus.
func openCLI(ctx context.Context, cfg *Config, stderr io.Writer) (*app, error) {
	cfg.LogLevel = "warn"
	return openApp(ctx, cfg, newLogger(cfg, stderr), false)
}

func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("say what to do: add, list, disable, enable, set-password, reset-mfa or totp")}
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("user "+sub, stderr)
	login := fs.String("login", "", "account login")
	var name, email, role, lang *string
	var unit *int64
	var pwStdin *bool
	var query *string
	switch sub {
	case "add":
		name = fs.String("name", "", "display name")
		email = fs.String("email", "", "e-mail address")
		role = fs.String("role", "", "one of "+rolesList())
		unit = fs.Int64("unit", 0, "unit id (0: national or citizen)")
		lang = fs.String("lang", "fr", "fr or en")
		pwStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input (else VIGIE_NEW_PASSWORD)")
	case "list":
		query = fs.String("q", "", "part of login, name or e-mail")
		role = fs.String("role", "", "only this role")
	case "set-password":
		pwStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input (else VIGIE_NEW_PASSWORD)")
	case "disable", "enable", "reset-mfa", "totp":
	default:
		return usageError{fmt.Errorf("unknown subcommand %q: add, list, disable, enable, set-password, reset-mfa or totp", sub)}
	}
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if sub != "list" && *login == "" {
		return usageError{fmt.Errorf("--login is required")}
	}
	a, err := openCLI(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = cliContext(ctx)
	switch sub {
	case "add":
		password, err := newPassword(*pwStdin, getenv)
		if err != nil {
			return err
		}
		acc, enr, err := a.auth.AddUser(ctx, auth.NewUser{Login: *login, Name: *name, Email: *email,
			Role: vigie.Role(*role), UnitID: *unit, Lang: *lang, Password: password})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s created (id %d, role %s)\n", acc.Login, acc.ID, acc.Role)
		if enr != nil {
			fmt.Fprintf(stdout, "TOTP secret: %s\nprovisioning URI: %s\n", enr.Secret, enr.URI)
		}
	case "list":
		accs, err := a.auth.ListUsers(ctx, auth.Filter{Query: *query, Role: vigie.Role(*role), Limit: 1000})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLOGIN\tNAME\tROLE\tDEPT\tUNIT\tMFA\tSTATE")
		for _, u := range accs {
			state := "active"
			if u.Disabled {
				state = "disabled"
			} else if !u.LockedUntil.IsZero() && u.LockedUntil.After(time.Now()) {
				state = "locked"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%v\t%s\n", u.ID, u.Login, u.Name, u.Role, u.Dept, u.UnitID, u.MFAEnrolled, state)
		}
		tw.Flush()
	case "set-password":
		password, err := newPassword(*pwStdin, getenv)
		if err != nil {
			return err
		}
		if password == "" {
			return usageError{fmt.Errorf("give the new password in VIGIE_NEW_PASSWORD or with --password-stdin")}
		}
		if err := a.auth.SetPassword(ctx, *login, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; its sessions are closed\n", *login)
	case "enable":
		if err := a.auth.EnableUser(ctx, *login); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s enabled and unlocked\n", *login)
	case "disable":
		if err := a.auth.DisableUser(ctx, *login); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s disabled; its sessions and tokens no longer work\n", *login)
	case "reset-mfa":
		if err := a.auth.ResetMFA(ctx, *login); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "second factor of %s reset: it will enrol again at next sign-in\n", *login)
	case "totp":
		// Only for the documented demo accounts, whose secrets are public.
		for _, d := range demoAccounts {
			if d.Login == *login && d.Secret != "" {
				code, err := totp.GenerateCode(d.Secret, time.Now())
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, code)
				return nil
			}
		}
		return vigie.Invalidf("user totp", "%s is not a demo account with a second factor.", *login)
	}
	return nil
}

// newPassword reads a new password from standard input (first line) or
// VIGIE_NEW_PASSWORD, never from a flag (flags show in the process list).
func newPassword(fromStdin bool, getenv func(string) string) (string, error) {
	if !fromStdin {
		return getenv("VIGIE_NEW_PASSWORD"), nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usageError{fmt.Errorf("no password on standard input")}
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func rolesList() string {
	var s []string
	for _, r := range vigie.Roles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{fmt.Errorf("usage: vigie token create --login L --name N [--ttl 90d]")}
	}
	fs := newFlagSet("token create", stderr)
	login := fs.String("login", "", "account the token acts for")
	name := fs.String("name", "", "what the token is for (shown in the account page)")
	ttl := fs.String("ttl", "90d", "lifetime (examples: 12h, 30d, 1y)")
	cfg, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	d, err := parseDuration(*ttl)
	if err != nil || d <= 0 {
		return usageError{fmt.Errorf("--ttl %q is not a positive duration", *ttl)}
	}
	if *login == "" || *name == "" {
		return usageError{fmt.Errorf("--login and --name are required")}
	}
	a, err := openCLI(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	tok, err := a.auth.CreateToken(cliContext(ctx), *login, *name, d)
	if err != nil {
		return err
	}
	// The token is shown once; only its hash is stored.
	fmt.Fprintln(stdout, tok)
	return nil
}

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError{fmt.Errorf("usage: vigie audit verify [--quiet]")}
	}
	fs := newFlagSet("audit verify", stderr)
	quiet := fs.Bool("quiet", false, "no progress bar")
	cfg, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	a, err := openCLI(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	var last time.Time
	progress := func(done, total int64) {
		if *quiet || time.Since(last) < 200*time.Millisecond && done != total {
			return
		}
		last = time.Now()
		fmt.Fprintf(stderr, "\r%s", bar(done, total))
	}
	rep, err := a.journal.Verify(cliContext(ctx), progress)
	if !*quiet {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	if !rep.OK {
		fmt.Fprintf(stdout, "JOURNAL ALTERED: %s\n", rep.Message)
		return vigie.E(vigie.KindConflict, "audit verify", fmt.Sprintf("the journal fails verification at entry %d (%s)", rep.BadSeq, rep.Problem), nil)
	}
	fmt.Fprintf(stdout, "journal intact: %d entries and %d signed checkpoints verified in %s (entries %d to %d)\n",
		rep.Entries, rep.Checkpoints, rep.Duration.Round(time.Millisecond), rep.AnchorSeq+1, rep.LastSeq)
	return nil
}

func bar(done, total int64) string {
	const width = 40
	if total <= 0 {
		return fmt.Sprintf("%d entries", done)
	}
	n := int(done * width / total)
	return fmt.Sprintf("[%s%s] %3d%% %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), done*100/total, done, total)
}
