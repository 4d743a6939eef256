package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strconv"
)

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// randomToken returns n random bytes, URL-safe base64 without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics on a broken system)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret returns the hex SHA-256 of a high-entropy secret (session id,
// API token, OIDC state). SECURITY: the secrets have 256 bits of entropy,
// so a fast hash suffices; the database never holds a usable credential.
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

var base32Std = base32.StdEncoding
