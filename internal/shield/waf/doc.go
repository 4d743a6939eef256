// Package waf is Vigie's web application firewall: OWASP Coraza v3 with the
// OWASP Core Rule Set v4, tuned for Vigie's own traffic, in front of every
// route of `vigie serve` (cmd/vigie wires Firewall.Middleware through
// web.SetShield, after the ban check).
//
// Defaults (the zero Config): blocking mode, CRS paranoia level 1, inbound
// anomaly threshold 5, outbound 4, methods GET HEAD POST OPTIONS PUT PATCH
// DELETE, multipart bodies up to 32 MiB and other bodies up to 1 MiB (413
// beyond), JSON nested at most 64 deep (400 beyond), responses not
// inspected. New refuses to build a firewall whose rules do not load, and
// Vigie then refuses to start.
//
// What is Vigie's own, on top of Coraza and CRS:
//
//   - vigie.conf (embedded, commented): exclusions scoped to routes and
//     fields (passwords on sign-in routes; the free-text fields of
//     complaints, where victims quote commands and scripts), an XXE rule,
//     narrow rules for attack families CRS only catches at paranoia 2-4
//     (template, NoSQL, LDAP, mail and shell-after-separator injection,
//     script calls, SQL time probes), and three CRS rules demoted from
//     critical to warning because they fire on plain sentences.
//   - decode.go: arguments that are base64 of readable text get a decoded
//     copy ("name.b64") that every rule inspects too.
//   - rx.go, dfa.go: the @rx operator, same answers as Coraza's (tested
//     against every CRS pattern), run by a lazily built automaton with an
//     exact literal pre-check as fallback; 8 to 10 times less CPU on large
//     bodies. SecRxPreFilter is never used (it is a known bypass).
//   - xml.go: the XML body processor keeps DOCTYPE/ENTITY declarations so
//     that rules can see them.
//   - operators.go: @detectSQLi without libinjection's false positive on
//     e-mail addresses with a "+or" tag.
//
// Blocked requests get a short French page with the request id
// (vigie.ClientFrom), or JSON under /api/. Every request that matched a
// rule or was refused is reported to Config.OnVerdict (intrusion
// detection); nothing is built when it is nil.
//
// Virtual patches (patch.go, handlers.go): Check compiles SecLang on top of
// the rule set without touching it (the error carries the compiler's
// message); Reload builds a new rule set with the enabled Rules and swaps it
// atomically (requests in flight finish on the old one; on error the running
// set stays). Patches stores them, versioned, journals every change
// (vigie.ActAdmin, object "waf-rule"), announces it on the bus, and keeps
// every replica's firewall in step (Sync: the stored version, every 2 s, or
// at once on the bus event).
//
// Table (migration 00010_waf): waf_rule, append-only versions of the
// virtual patches; the highest id is the rule set's version.
//
// Routes (security officers, national scope): pages GET /security/rules,
// POST /security/rules, POST /security/rules/test, GET /security/rules/{id},
// POST /security/rules/{id}, POST /security/rules/{id}/rollback; API
// GET|POST /api/v1/security/rules, POST /api/v1/security/rules/test,
// GET /api/v1/security/rules/{id}/versions, POST /api/v1/security/rules/{id},
// POST /api/v1/security/rules/{id}/rollback (docs/openapi-waf.json).
//
// Events: publishes vigie.national.waf.rules.changed (rule_id, version,
// enabled); cmd/vigie subscribes to it to reload.
//
// Tests: corpus_test.go (legitimate traffic that must pass, attacks that
// must be blocked), robust_test.go (bad input, verdicts, reload),
// ftw_test.go (CRS's 4,674 regression tests through Middleware; skipped
// with -short), rx_test.go (automaton and pre-check agree with regexp on
// every CRS pattern; fuzz targets), bench_test.go (the per-request
// costs, in CPU time), serve_test.go (a server for GoTestWAF).
package waf
