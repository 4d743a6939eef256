package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"vigie"
	"vigie/internal/auth"
	"vigie/internal/db"
	"vigie/internal/org"
)

// The demo accounts: one per role, plus two gendarmes of other
// départements so that isolation between units can be seen. Their password
// and TOTP secrets are fixed and listed in the README. Never use them in
// production: `--demo` refuses a database that holds real data, and demo
// accounts are flagged as such.
const demoPassword = "Vigie-Demo-2026"

type demoAccount struct {
	Login, Name string
	Role        vigie.Role
	// Where is how to find the unit: "brigade:<INSEE>" (the brigade whose
	// territory holds the commune), "compagnie:<INSEE>", "groupement:<dept>",
	// or "" for national accounts and citizens.
	Where  string
	Secret string // TOTP secret, base32; "" for citizens
}

var demoAccounts = []demoAccount{
	{"admin", "Administrateur national", vigie.RoleAdmin, "", "GLFJM5NJ3JCUGVKB3N23LEW4QBOMK3R2"},
	{"securite", "Officier de sécurité (RSSI)", vigie.RoleSecurity, "", "LAJSMKZTABQMT3PRMDG5272YXHZJ5SWR"},
	{"agent", "Gendarme Camille Martin", vigie.RoleAgent, "brigade:01053", "ZJF6CP5LV7PCHUMDTO53PAP2ARCCPOEO"},
	{"opj", "Adjudant Sacha Bernard (OPJ)", vigie.RoleInvestigator, "brigade:01053", "YK4BQSO4WLBVAV3J56NT6CYNHLVNTC46"},
	{"commandant", "Capitaine Dominique Petit", vigie.RoleCommander, "compagnie:01053", "XDCKRUEKOUCGXFHNHU7DCGJBY4OLGW2E"},
	{"analyste", "Analyste Alex Robert", vigie.RoleAnalyst, "groupement:01", "DDWPBETJ2WZINXJEWSMRMSMCHDJFCMEA"},
	{"formateur", "Formateur Claude Richard", vigie.RoleTrainer, "", "SYF567KUEAJVJD6BWHMTEWL5ECRJJ3ED"},
	{"agent2a", "Gendarme Ange Santoni", vigie.RoleAgent, "brigade:2A004", "OCSWD5KHBXNU2DJSW4S5PWJ4PBWB3PRE"},
	{"agent974", "Gendarme Mélissa Hoarau", vigie.RoleAgent, "brigade:97411", "ZSPNFBYAH35EZOSVMPA3QTGHQ755UVR7"},
	{"citoyen", "Jeanne Dupont", vigie.RoleCitizen, "", ""},
}

const metaDemo = "demo"

// seedDemo fills an empty database with the demo: the 12 pilot
// départements, their units and territories, and the demo accounts. It runs
// once; later starts with --demo only check. It refuses a database that
// holds data it did not create.
func (a *app) seedDemo(ctx context.Context, stdout io.Writer) error {
	const op = "demo"
	start := time.Now()
	state, err := a.meta(ctx, metaDemo)
	if err != nil {
		return err
	}
	if state == "" {
		var users, units int
		if err := a.db.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&users); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := a.db.QueryRow(ctx, "SELECT COUNT(*) FROM units").Scan(&units); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if users > 0 || units > 0 {
			return vigie.E(vigie.KindConflict, op, fmt.Sprintf(
				"--demo refused: this database holds real data (%d accounts, %d units) that the demo did not create. Use another --data-dir or --database-url.", users, units), nil)
		}
		// Units and territories first, in one transaction with the marker,
		// so that an interrupted seeding is recognised as demo data.
		err := a.db.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", metaDemo, "seeding"); err != nil {
				return err
			}
			return org.SeedDemo(ctx, tx, a.demoDepts...)
		})
		if err != nil {
			return fmt.Errorf("%s: organisation: %w", op, err)
		}
		a.log.Info("demo organisation seeded", "duration", time.Since(start).Round(time.Millisecond).String())
		if err := a.org.Tree().Refresh(ctx); err != nil {
			return err
		}
	}
	if state != "done" {
		if err := a.seedDemoAccounts(ctx); err != nil {
			return err
		}
		// Each area's demo records (complaints, case files...).
		if err := a.seedComplaintDemo(ctx); err != nil {
			return err
		}
		if err := a.seedCasefileDemo(ctx); err != nil {
			return err
		}
		if err := a.seedAnalyticsDemo(ctx); err != nil {
			return err
		}
		a.log.Info("demo data ready", "duration", time.Since(start).Round(time.Millisecond).String())
		// Seeding parsed every commune's geometry once; give that memory
		// back now rather than at the runtime's leisure.
		debug.FreeOSMemory()
	}
	return printDemoAccounts(stdout)
}

func (a *app) seedDemoAccounts(ctx context.Context) error {
	return a.db.InTx(ctx, func(tx *db.Tx) error {
		for _, d := range demoAccounts {
			unit, err := a.demoUnit(ctx, d.Where)
			if err != nil {
				return fmt.Errorf("demo account %s: %w", d.Login, err)
			}
			n := auth.NewUser{Login: d.Login, Name: d.Name, Role: d.Role, Lang: "fr", Password: demoPassword,
				TOTPSecret: d.Secret, Demo: true, Email: d.Login + "@demo.vigie.invalid"}
			if unit.ID != 0 {
				n.UnitID, n.Dept = unit.ID, unit.Dept
			}
			if _, err := a.auth.SeedDemoUser(ctx, tx, n); err != nil && vigie.KindOf(err) != vigie.KindConflict {
				return fmt.Errorf("demo account %s: %w", d.Login, err)
			}
		}
		_, err := tx.Exec(ctx, "UPDATE meta SET value = ? WHERE key = ?", "done", metaDemo)
		return err
	})
}

// demoUnit finds the unit an account of the demo belongs to.
func (a *app) demoUnit(ctx context.Context, where string) (org.Unit, error) {
	if where == "" {
		return org.Unit{}, nil
	}
	kind, arg, _ := strings.Cut(where, ":")
	tree := a.org.Tree()
	switch kind {
	case "brigade", "compagnie":
		_, brigade, err := a.org.RouteCommune(ctx, arg)
		if err != nil {
			return org.Unit{}, err
		}
		if kind == "brigade" {
			return brigade, nil
		}
		return a.org.Unit(ctx, tree.Parent(brigade.ID))
	case "groupement":
		units, err := a.org.Units(ctx, arg)
		if err != nil {
			return org.Unit{}, err
		}
		for _, u := range units {
			if u.Kind == org.Groupement {
				return u, nil
			}
		}
	}
	return org.Unit{}, fmt.Errorf("no unit for %q", where)
}

func (a *app) meta(ctx context.Context, key string) (string, error) {
	var v string
	err := a.db.QueryRow(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func printDemoAccounts(w io.Writer) error {
	fmt.Fprintf(w, "\nComptes de démonstration / demo accounts (mot de passe / password: %s)\n", demoPassword)
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "login\trole\tTOTP secret")
	for _, d := range demoAccounts {
		secret := d.Secret
		if secret == "" {
			secret = "— (no second factor for citizens)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Login, d.Role, secret)
	}
	tw.Flush()
	fmt.Fprintln(w, "Codes TOTP / TOTP codes: vigie user totp --login <login> (demo accounts only)")
	return nil
}
