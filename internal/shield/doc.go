// Package shield is Vigie's defence around the web application firewall
// (internal/shield/waf): bans, intrusion detection, alerts and the
// security centre. The thresholds, responses and what is not covered are
// in docs/security-detection.md.
//
// Bans (ban.go): an address or a network (netip.Prefix, at most /16 for
// IPv4 and /32 for IPv6), with a reason, an expiry, and escalation on
// repeat within 30 days (15 min → 1 h → 24 h, DefaultLadder). The
// deployment's own networks (loopback and the trusted proxies) are an
// allow-list that is never banned. Bans live in the database, shared by
// every replica; each replica keeps an in-memory snapshot, swapped whole,
// refreshed when shield_version moves (checked every second) and at once
// after a local change. A banned request costs a map lookup per prefix
// length in use and never a database query (BenchmarkBannedRequest).
//
// Detectors (detect.go, tail.go, insider.go):
//   - failed sign-ins, read from the consultation journal (internal/auth
//     journals every refusal with its cause, address and login) by one
//     replica at a time (lease "journal-tail", every 250 ms): password
//     guessing and credential stuffing per address, per /24 or /64
//     network, per account, refused second factors, slow distributed
//     attempts over hours;
//   - the request stream (Middleware sees every status code): bursts of
//     401/403/404/405, scanner user agents, paths only scanners ask for;
//   - the firewall's verdicts (WAFBlocked, wired to waf.Config.OnVerdict):
//     repeated blocks of one address;
//   - sessions reused from another client (session.go): internal/auth
//     ends a session used from another network (/24, /64) with another
//     user agent and reports it (SessionReused, wired to
//     auth.OnSessionReuse); the shield raises a high alert;
//   - insider misuse over the last 24 h of the journal (lease "insider",
//     every 10 min): reads far above peers of the same role and
//     département (robust z-score), bulk exports (vigie.ActCommunicate),
//     journal consultations, records read outside one's units without a
//     case number.
//
// Each detection raises or grows an alert (one open alert per attack,
// deduplicated by key) with its evidence as JSON; a finding about an
// address or network also bans it, and an account attacked from several
// addresses is locked for AccountLock (30 min) through Config.LockAccount
// (internal/auth's LockUnderAttack), renewed while the attack goes on. Alerts are acknowledged and closed by
// a security officer, with a comment, journaled.
//
// Tables (migration 00009_shield): shield_ban, shield_version,
// shield_alert, shield_event (the timeline: firewall blocks, detections,
// bans, lifts; kept 90 days), shield_lease.
//
// Routes (handlers.go): pages GET /security (counts by hour as a server
// drawn SVG, by rule, by source, timeline, vulnerability watch),
// GET /security/alerts, GET /security/alerts/{id},
// POST /security/alerts/{id}/ack, GET|POST /security/bans,
// POST /security/bans/{id}/lift. JSON API: GET /api/v1/security/alerts,
// GET /api/v1/security/alerts/{id}, POST /api/v1/security/alerts/{id}/ack,
// GET|POST /api/v1/security/bans, DELETE /api/v1/security/bans/{id},
// GET /api/v1/security/indicators (the bans in force as a STIX 2.1 bundle
// with a TLP marking, for partners; journaled as a communication).
//
// Authorization: bans and the timeline are the deployment's, asked of the
// policy as vigie.PermSecurity on a national target (security officers
// and administrators with national scope). Alerts need vigie.PermSecurity
// on the reader's own
// scope, and each alert is checked on its own target (the unit of the
// account or agent concerned; national for attacks from the network).
// Every page and API read is a consultation journaled with its motif.
//
// Events (area "shield", enqueued in the transaction of the change):
// ban.created, ban.lifted, alert.raised.
package shield
