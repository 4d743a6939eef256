// Package auth is Vigie's identity and access area: accounts, sign-in with
// a second factor, server-side sessions, API tokens, OpenID Connect
// federation, and THE authorization policy that every area asks.
//
// Sign-in. /login checks a login (case-insensitive) and an Argon2id
// password (PHC string; m=64 MiB, t=2, p=2, about 60-100 ms on the 2-core
// reference server). Citizens are then signed in. Staff must pass a TOTP
// code (RFC 6238, 30 s, 6 digits, each code usable once): /mfa/enroll shows
// a fresh secret as a QR code on first sign-in, /login/mfa asks for the code
// afterwards. /login/oidc signs staff in through an external provider
// (PKCE, state, nonce); the person is matched to an existing staff account
// by preferred_username (or verified e-mail), and TOTP is still asked
// unless the provider asserts MFA (acr/amr). Failures count per account (5
// → locked 15 min, doubling) and per client address (20 in 10 min), in the
// database so that replicas share them; every refusal says the same thing.
//
// Sessions live in the database: the cookie vigie_session (HttpOnly,
// SameSite=Lax, Secure under TLS or Config.SecureCookie) carries 256 random
// bits whose SHA-256 only is stored. They end after 30 idle minutes (staff;
// 1 h for citizens) or 12 h, at sign-out, when revoked from /account, or
// when the account is disabled, or when used from another network (/24,
// /64) with another user agent than at sign-in (middleware.go: ended,
// journaled, reported through OnSessionReuse); the id rotates at sign-in
// and after the second factor. LockUnderAttack (stepup.go) locks an
// account the shield sees attacked. API tokens ("Authorization: Bearer vig_...") act with
// their owner's rights; only their hash is stored.
//
// Authorization. Policy.Check decides, in one place, whether the acting
// user may do a vigie.Perm on a vigie.Target: rules by role and unit scope
// (policy.go, over the UnitTree that internal/org provides), then explicit
// grants. Deny by default.
//
// Tables (migration 00003_auth): users, sessions, api_tokens,
// auth_failures, oidc_states, grants.
//
// Routes: GET/POST /login, GET/POST /login/mfa, GET/POST /mfa/enroll,
// POST /logout, GET /login/oidc, GET /login/oidc/callback, GET /account,
// POST /account/sessions/{id}/revoke, POST /account/tokens,
// POST /account/tokens/{id}/revoke, GET /admin/users, GET /admin/users/new,
// POST /admin/users, GET/POST /admin/users/{id},
// POST /admin/users/{id}/{disable|enable|reset-mfa|reset-password};
// API: GET/POST /api/v1/users, GET/PATCH /api/v1/users/{id},
// POST /api/v1/users/{id}/{disable|enable|reset-mfa}.
//
// Events: none on the bus; every sign-in, failure, lock-out, MFA change,
// token and account change is written to the journal (internal/audit) in
// the same transaction.
//
// Citizen sign-up (signup.go): /signup takes a name, an e-mail address and a
// password; nothing is created until a single-use link (SHA-256 stored, 24 h),
// e-mailed through internal/mail, is confirmed by a POST; the citizen account
// (login = address) is then created and signed in. No account enumeration;
// throttled per client and per address; journaled (collect). Tables
// (migration 00011_support): signups, signup_attempts. Routes: GET/POST
// /signup, GET /signup/sent, POST /signup/resend, GET/POST /signup/verify.
//
// FranceConnect for citizens (citizen_oidc.go), when configured: a second
// OpenID Connect client (state, nonce, PKCE) whose sign-in finds the
// citizen account of the e-mail address or creates it; staff accounts are
// refused, and an address the provider did not mark verified never takes
// over an account opened with a password. Routes: GET /login/franceconnect,
// GET /login/franceconnect/callback.
package auth
