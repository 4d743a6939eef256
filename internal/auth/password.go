package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"vigie"
)

// Argon2Params are the cost parameters of password hashing.
//
// SECURITY: the default (m=64 MiB, t=2, p=2) costs about 60-90 ms on the
// 2-core reference server (go test -bench Hash ./internal/auth): slow enough
// to make offline guessing expensive, fast enough for a sign-in. Memory is
// the dominant cost against GPUs; Auth bounds the hashes running at once so
// that a burst of sign-ins cannot exhaust memory (4 × 64 MiB at most).
// The parameters are stored with each hash (PHC string), so they can be
// raised later: old hashes keep verifying and are rehashed at next sign-in.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon2 is the production cost.
var DefaultArgon2 = Argon2Params{Memory: 64 * 1024, Time: 2, Threads: 2}

const (
	saltLen = 16
	keyLen  = 32
)

// hashPassword returns the PHC string of password:
// $argon2id$v=19$m=65536,t=2,p=2$<salt>$<key> (raw standard base64).
func hashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash returns a well-formed hash of nothing: random salt and key with
// the current parameters. Checking a password against it costs exactly what
// a real check costs (so unknown logins take as long as known ones) without
// paying for a hash at start-up.
func dummyHash(p Argon2Params) string {
	salt, key := make([]byte, saltLen), make([]byte, keyLen)
	rand.Read(salt)
	rand.Read(key)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("auth: malformed password hash")

// parseHash reads a PHC argon2id string.
func parseHash(phc string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errBadHash
	}
	// Refuse absurd parameters rather than allocate gigabytes on a bad row.
	if p.Memory < 8 || p.Memory > 1<<21 || p.Time < 1 || p.Time > 20 || p.Threads < 1 {
		return p, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// verifyPassword reports whether password matches the PHC hash, in constant
// time with respect to the key, and whether the hash should be upgraded.
func verifyPassword(password, phc string, want Argon2Params) (ok, rehash bool) {
	p, salt, key, err := parseHash(phc)
	if err != nil {
		return false, false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && p != want
}

// commonPasswords are refused outright; the length rule already removes most
// of the usual lists, these are the long ones people still choose.
var commonPasswords = map[string]bool{
	"123456789012": true, "1234567890123": true, "azertyuiopqs": true, "azertyuiop123": true,
	"qwertyuiop123": true, "motdepasse123": true, "motdepasse1234": true, "password1234": true,
	"password12345": true, "passwordpassword": true, "gendarmerie123": true, "gendarmerie2024": true,
	"gendarmerie2025": true, "gendarmerie2026": true, "bonjour123456": true, "soleil123456": true,
	"iloveyou1234": true, "administrateur": true, "administrator": true, "changeme1234": true,
	"welcome12345": true, "qwerty123456": true, "azerty123456": true, "aaaaaaaaaaaa": true,
	"000000000000": true, "111111111111": true, "abcdefghijkl": true, "abc123456789": true,
	"vigie1234567": true, "vigievigievigie": true, "marianne12345": true, "republique123": true,
}

// CheckPassword applies the password policy: at least 12 characters, at
// most 256, not the login, not a well-known password.
func CheckPassword(login, password string) error {
	const op = "auth.CheckPassword"
	n := utf8.RuneCountInString(password)
	switch {
	case n < 12:
		return vigie.Invalidf(op, "The password must have at least 12 characters.")
	case len(password) > 256:
		return vigie.Invalidf(op, "The password must have at most 256 characters.")
	}
	low := strings.ToLower(password)
	l := strings.ToLower(login)
	if l != "" && (low == l || (len(l) >= 4 && strings.Contains(low, l))) {
		return vigie.Invalidf(op, "The password must not contain the login.")
	}
	if commonPasswords[low] {
		return vigie.Invalidf(op, "This password is too common; choose another one.")
	}
	return nil
}
