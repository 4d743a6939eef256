package org

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"vigie"
	"vigie/internal/db"
)

// querier is what *db.DB and *db.Tx have in common: reads run on either.
type querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

const insertDept = `INSERT INTO departements (code, name, region, zone, time_zone, created_at) VALUES (?, ?, ?, ?, ?, ?)`

func storeDept(ctx context.Context, q querier, d *Departement) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	_, err := q.Exec(ctx, insertDept, d.Code, d.Name, d.Region, d.Zone, d.TimeZone, db.Millis(d.CreatedAt))
	if db.IsUniqueViolation(err) {
		return vigie.E(vigie.KindConflict, "org.CreateDepartement", fmt.Sprintf("The département %s already exists.", d.Code), err)
	}
	return err
}

const selectDepts = `SELECT d.code, d.name, d.region, d.zone, d.time_zone, d.created_at,
  (SELECT COUNT(*) FROM units u WHERE u.dept = d.code),
  (SELECT COUNT(*) FROM communes c WHERE c.dept = d.code),
  (SELECT COUNT(*) FROM communes c JOIN brigade_communes b ON b.insee = c.insee WHERE c.dept = d.code)
FROM departements d`

func scanDepts(rows *sql.Rows) ([]Departement, error) {
	defer rows.Close()
	var out []Departement
	for rows.Next() {
		var d Departement
		var created int64
		if err := rows.Scan(&d.Code, &d.Name, &d.Region, &d.Zone, &d.TimeZone, &created, &d.Units, &d.Communes, &d.Assigned); err != nil {
			return nil, err
		}
		d.CreatedAt = db.Time(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

func listDepts(ctx context.Context, q querier) ([]Departement, error) {
	rows, err := q.Query(ctx, selectDepts+` ORDER BY d.code`)
	if err != nil {
		return nil, fmt.Errorf("org: list départements: %w", err)
	}
	return scanDepts(rows)
}

func getDept(ctx context.Context, q querier, code string) (Departement, error) {
	rows, err := q.Query(ctx, selectDepts+` WHERE d.code = ?`, code)
	if err != nil {
		return Departement{}, fmt.Errorf("org: get département %s: %w", code, err)
	}
	ds, err := scanDepts(rows)
	if err != nil {
		return Departement{}, err
	}
	if len(ds) == 0 {
		return Departement{}, vigie.E(vigie.KindNotFound, "org.Departement", fmt.Sprintf("There is no département %s in Vigie.", code), nil)
	}
	return ds[0], nil
}

const unitCols = `u.id, u.dept, u.kind, COALESCE(u.parent_id, 0), u.name, u.code, u.created_at,
  (SELECT COUNT(*) FROM brigade_communes b WHERE b.brigade_id = u.id)`

func scanUnits(rows *sql.Rows) ([]Unit, error) {
	defer rows.Close()
	var out []Unit
	for rows.Next() {
		var u Unit
		var created int64
		if err := rows.Scan(&u.ID, &u.Dept, &u.Kind, &u.ParentID, &u.Name, &u.Code, &created, &u.Communes); err != nil {
			return nil, err
		}
		u.CreatedAt = db.Time(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// listUnits returns the units of dept ("" for all), groupements first.
func listUnits(ctx context.Context, q querier, dept string) ([]Unit, error) {
	query := `SELECT ` + unitCols + ` FROM units u`
	var args []any
	if dept != "" {
		query += ` WHERE u.dept = ?`
		args = append(args, dept)
	}
	query += ` ORDER BY u.dept, CASE u.kind WHEN 'groupement' THEN 0 WHEN 'compagnie' THEN 1 ELSE 2 END, u.name, u.id`
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("org: list units: %w", err)
	}
	return scanUnits(rows)
}

func getUnit(ctx context.Context, q querier, id int64) (Unit, error) {
	rows, err := q.Query(ctx, `SELECT `+unitCols+` FROM units u WHERE u.id = ?`, id)
	if err != nil {
		return Unit{}, fmt.Errorf("org: get unit %d: %w", id, err)
	}
	us, err := scanUnits(rows)
	if err != nil {
		return Unit{}, err
	}
	if len(us) == 0 {
		return Unit{}, vigie.E(vigie.KindNotFound, "org.Unit", fmt.Sprintf("There is no unit %d.", id), nil)
	}
	return us[0], nil
}

func unitConflict(err error, u *Unit) error {
	if db.IsUniqueViolation(err) {
		if u.Kind == Groupement {
			return vigie.E(vigie.KindConflict, "org.Unit", fmt.Sprintf("The département %s already has a groupement, or the code %s is taken.", u.Dept, u.Code), err)
		}
		return vigie.E(vigie.KindConflict, "org.Unit", fmt.Sprintf("The unit code %s is already taken.", u.Code), err)
	}
	return err
}

func insertUnit(ctx context.Context, q querier, u *Unit) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	var parent any
	if u.ParentID != 0 {
		parent = u.ParentID
	}
	err := q.QueryRow(ctx, `INSERT INTO units (dept, kind, parent_id, name, code, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Dept, string(u.Kind), parent, u.Name, u.Code, db.Millis(u.CreatedAt)).Scan(&u.ID)
	return unitConflict(err, u)
}

func updateUnit(ctx context.Context, q querier, u *Unit) error {
	var parent any
	if u.ParentID != 0 {
		parent = u.ParentID
	}
	_, err := q.Exec(ctx, `UPDATE units SET name = ?, code = ?, parent_id = ? WHERE id = ?`, u.Name, u.Code, parent, u.ID)
	return unitConflict(err, u)
}

// unitUse counts what hangs on a unit: child units and communes.
func unitUse(ctx context.Context, q querier, id int64) (children, communes int, err error) {
	err = q.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM units WHERE parent_id = ?), (SELECT COUNT(*) FROM brigade_communes WHERE brigade_id = ?)`, id, id).Scan(&children, &communes)
	return children, communes, err
}

func deleteUnit(ctx context.Context, q querier, id int64) error {
	_, err := q.Exec(ctx, `DELETE FROM units WHERE id = ?`, id)
	return err
}

func upsertCommune(ctx context.Context, q querier, c *Commune) error {
	_, err := q.Exec(ctx, `INSERT INTO communes (insee, dept, name, population, postal_codes, geometry) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (insee) DO UPDATE SET dept = excluded.dept, name = excluded.name, population = excluded.population,
  postal_codes = excluded.postal_codes, geometry = excluded.geometry`,
		c.INSEE, c.Dept, c.Name, c.Population, strings.Join(c.PostalCodes, " "), c.Geometry)
	return err
}

const communeCols = `c.insee, c.dept, c.name, c.population, c.postal_codes, COALESCE(b.brigade_id, 0)`

func scanCommunes(rows *sql.Rows, geometry bool) ([]Commune, error) {
	defer rows.Close()
	var out []Commune
	for rows.Next() {
		var c Commune
		var postal string
		dest := []any{&c.INSEE, &c.Dept, &c.Name, &c.Population, &postal, &c.BrigadeID}
		if geometry {
			dest = append(dest, &c.Geometry)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		c.PostalCodes = strings.Fields(postal)
		out = append(out, c)
	}
	return out, rows.Err()
}

// listCommunes returns the communes of dept ("" for all) in INSEE order,
// with their geometry when asked.
func listCommunes(ctx context.Context, q querier, dept string, geometry bool) ([]Commune, error) {
	cols := communeCols
	if geometry {
		cols += `, c.geometry`
	}
	query := `SELECT ` + cols + ` FROM communes c LEFT JOIN brigade_communes b ON b.insee = c.insee`
	var args []any
	if dept != "" {
		query += ` WHERE c.dept = ?`
		args = append(args, dept)
	}
	rows, err := q.Query(ctx, query+` ORDER BY c.insee`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: list communes: %w", err)
	}
	return scanCommunes(rows, geometry)
}

// listTerritory lists the communes of one brigade (no geometry).
func listTerritory(ctx context.Context, q querier, brigade int64) ([]Commune, error) {
	rows, err := q.Query(ctx, `SELECT `+communeCols+` FROM communes c JOIN brigade_communes b ON b.insee = c.insee
		WHERE b.brigade_id = ? ORDER BY c.insee`, brigade)
	if err != nil {
		return nil, fmt.Errorf("org: territory of %d: %w", brigade, err)
	}
	return scanCommunes(rows, false)
}

func getCommune(ctx context.Context, q querier, insee string) (Commune, error) {
	rows, err := q.Query(ctx, `SELECT `+communeCols+` FROM communes c LEFT JOIN brigade_communes b ON b.insee = c.insee WHERE c.insee = ?`, insee)
	if err != nil {
		return Commune{}, fmt.Errorf("org: get commune %s: %w", insee, err)
	}
	cs, err := scanCommunes(rows, false)
	if err != nil {
		return Commune{}, err
	}
	if len(cs) == 0 {
		return Commune{}, vigie.E(vigie.KindNotFound, "org.Commune", fmt.Sprintf("There is no commune with INSEE code %s in Vigie.", insee), nil)
	}
	return cs[0], nil
}

// setTerritory makes insees the whole territory of brigade: communes taken
// from another brigade move to this one.
func setTerritory(ctx context.Context, q querier, brigade int64, insees []string) error {
	if _, err := q.Exec(ctx, `DELETE FROM brigade_communes WHERE brigade_id = ?`, brigade); err != nil {
		return fmt.Errorf("org: clear territory of %d: %w", brigade, err)
	}
	for _, c := range insees {
		if err := assignCommune(ctx, q, c, brigade); err != nil {
			return err
		}
	}
	return nil
}

func assignCommune(ctx context.Context, q querier, insee string, brigade int64) error {
	_, err := q.Exec(ctx, `INSERT INTO brigade_communes (insee, brigade_id) VALUES (?, ?)
ON CONFLICT (insee) DO UPDATE SET brigade_id = excluded.brigade_id`, insee, brigade)
	if err != nil {
		return fmt.Errorf("org: assign %s to %d: %w", insee, brigade, err)
	}
	return nil
}

// bumpVersion tells other replicas that units or territories changed, and
// with geo also communes (their routing index).
func bumpVersion(ctx context.Context, q querier, geo bool) error {
	query := `UPDATE org_version SET version = version + 1 WHERE id = 1`
	if geo {
		query = `UPDATE org_version SET version = version + 1, geo_version = geo_version + 1 WHERE id = 1`
	}
	_, err := q.Exec(ctx, query)
	return err
}

func readVersion(ctx context.Context, q querier) (version, geo int64, err error) {
	err = q.QueryRow(ctx, `SELECT version, geo_version FROM org_version WHERE id = 1`).Scan(&version, &geo)
	return version, geo, err
}

// treeRows loads every unit as (id, parent, dept, kind) for the Tree.
func treeRows(ctx context.Context, q querier, f func(id, parent int64, dept string, kind Kind)) error {
	rows, err := q.Query(ctx, `SELECT id, COALESCE(parent_id, 0), dept, kind FROM units`)
	if err != nil {
		return fmt.Errorf("org: load tree: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent int64
		var dept string
		var kind Kind
		if err := rows.Scan(&id, &parent, &dept, &kind); err != nil {
			return err
		}
		f(id, parent, dept, kind)
	}
	return rows.Err()
}
