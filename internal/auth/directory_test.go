package auth

import (
	"context"
	"testing"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

func TestDirectory(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.addUser(t, "zoe", vigie.RoleAgent, 100, "")
		f.addUser(t, "bruno", vigie.RoleInvestigator, 100, "")
		f.addUser(t, "anne", vigie.RoleCommander, 100, "")
		f.addUser(t, "analyste", vigie.RoleAnalyst, 100, "")    // does not work records
		f.addUser(t, "voisin", vigie.RoleAgent, 101, "")        // another unit
		gone := f.addUser(t, "parti", vigie.RoleAgent, 100, "") // disabled below
		if _, err := f.a.SetAccountDisabled(Console(ctx, "test"), gone, true); err != nil {
			t.Fatal(err)
		}
		got, err := f.a.Colleagues(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var logins []string
		for _, acc := range got {
			logins = append(logins, acc.Login)
		}
		// By name: "Test anne" < "Test bruno" < "Test zoe".
		if want := []string{"anne", "bruno", "zoe"}; len(logins) != 3 || logins[0] != want[0] || logins[1] != want[1] || logins[2] != want[2] {
			t.Errorf("colleagues of unit 100 = %v, want %v", logins, want)
		}

		citizen := f.addUser(t, "lucie@example.fr", vigie.RoleCitizen, 0, "")
		if _, err := f.a.UpdateUser(Console(ctx, "test"), citizen, Change{Email: new("lucie@example.fr")}); err != nil {
			t.Fatal(err)
		}
		if got, err := f.a.ContactEmail(ctx, citizen); err != nil || got != "lucie@example.fr" {
			t.Errorf("ContactEmail = %q, %v", got, err)
		}
		if got, err := f.a.ContactEmail(ctx, 999999); err != nil || got != "" {
			t.Errorf("ContactEmail of nobody = %q, %v; want empty", got, err)
		}
		if acc, err := f.a.AccountByLogin(ctx, "ZOE"); err != nil || acc.Login != "zoe" {
			t.Errorf("AccountByLogin = %+v, %v", acc, err)
		}
		if _, err := f.a.AccountByLogin(ctx, "personne"); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("AccountByLogin of nobody: %v, want not found", err)
		}
	})
}
