// Package org is the organisation of the force in Vigie: départements, the
// unit tree (groupement → compagnie → brigade), the territory of each
// brigade (the communes it serves), and routing a place to its brigade.
//
// Rules (org.go): one groupement per département; a compagnie hangs under
// the groupement, a brigade under a compagnie, in the same département; a
// commune belongs to at most one brigade, of its own département.
// Département codes are strings ("01", "2A", "974"), never numbers.
//
// Tables (migration 00002_org): departements, units, communes (with their
// geometry as GeoJSON text, so that a 13th département is added by
// importing data, not by changing code), brigade_communes (the
// territories), org_version (counters bumped by every change, read by other
// replicas to refresh their in-memory tree and routing index).
//
// In memory: Tree, a snapshot of the unit tree for authorization decisions
// (Within, Dept, Kind), reloaded at once after a change on this replica and
// within about a second on the others; and the routing index, a grid over
// commune bounding boxes with point-in-polygon tests (holes and
// multipolygons handled), rebuilt when the communes change.
//
// Demo: SeedDemo derives, from the embedded geometry and population of the
// 12 pilot départements (geodata/, copied from shared/geo by
// geodata/mkgeodata.go), a groupement per département, compagnies by
// weighted k-means over commune centroids, and brigades of neighbouring
// communes of about 10,000 to 30,000 inhabitants. The output is
// deterministic.
//
// Routes (handlers.go, api.go): pages GET /admin/org, GET /admin/org/{dept}
// (map drawn as inline SVG from the commune geometry, unit tree, forms),
// GET /admin/org/units/{id}, GET|POST /admin/org/import, and form posts
// POST /admin/org/units, /admin/org/units/{id}, /admin/org/units/{id}/delete,
// /admin/org/units/{id}/communes. JSON API: GET|POST /api/v1/departements,
// GET /api/v1/departements/{code}, GET|POST /api/v1/units,
// GET|PATCH|DELETE /api/v1/units/{id}, PUT /api/v1/units/{id}/communes,
// GET /api/v1/route?lon=&lat= or ?insee=.
//
// Authorization: reading the tree and routing need a signed-in staff
// member; every change asks the policy for vigie.PermOrgAdmin on the
// unit's Target (département-wide for territories, since communes move
// between brigades). Every change is journaled (vigie.ActAdmin) in its
// transaction.
//
// Events (area "org", on vigie.<dept>.org.<event>), enqueued in the
// transaction of the change: departement.created, departement.imported,
// unit.created, unit.updated, unit.deleted, unit.territory. The payload is
// the unit (or département) as the API returns it.
package org
