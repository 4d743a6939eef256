package auth

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP follows RFC 6238 with the parameters every authenticator app
// supports: SHA-1, 6 digits, 30-second steps. One step of clock skew is
// accepted either way.
const (
	totpPeriod = 30
	totpSkew   = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// newTOTPKey generates a fresh secret for account (160 bits, RFC 4226).
func newTOTPKey(issuer, account string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod,
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// totpKeyFor rebuilds the provisioning key of a stored secret.
func totpKeyFor(issuer, account, secret string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod,
		Secret: mustB32(secret), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

func mustB32(secret string) []byte {
	s := strings.ToUpper(strings.TrimRight(secret, "="))
	for len(s)%8 != 0 {
		s += "="
	}
	b, err := base32Std.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

// validTOTPSecret reports whether s is a usable base32 secret (>= 80 bits).
func validTOTPSecret(s string) bool { return len(mustB32(s)) >= 10 }

// matchTOTP returns the time-step counter whose code equals code, or 0
// when none in the skew window does. The caller refuses a counter not
// greater than the last one used: that is what makes a code single-use.
func matchTOTP(secret, code string, now time.Time) int64 {
	code = strings.TrimSpace(strings.ReplaceAll(code, " ", ""))
	if len(code) != 6 {
		return 0
	}
	var found int64
	// Every step of the window is computed, so the time taken does not
	// tell which one matched.
	for d := -totpSkew; d <= totpSkew; d++ {
		t := now.Add(time.Duration(d*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err != nil {
			return 0
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && found == 0 {
			found = t.Unix() / totpPeriod
		}
	}
	return found
}

// qrDataURI renders the provisioning URI as a PNG data: URI (the CSP
// allows img-src data:, and nothing leaves the server).
func qrDataURI(k *otp.Key) (string, error) {
	img, err := k.Image(240, 240)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// totpGenerate returns the code of secret at t (for tests and tools).
func totpGenerate(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}
