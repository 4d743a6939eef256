package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// softAuthenticator is a software WebAuthn authenticator: one ECDSA P-256
// credential, "none" attestation, a signature counter. Its copy (clone)
// shares the key but not the counter.
type softAuthenticator struct {
	key    *ecdsa.PrivateKey
	credID []byte
	aaguid [16]byte
	count  uint32
	origin string // what the "browser" puts in clientDataJSON
	handle []byte // user handle given at registration
}

func newSoftAuthenticator(t testing.TB, origin string) *softAuthenticator {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := &softAuthenticator{key: k, credID: make([]byte, 32), origin: origin}
	rand.Read(a.credID)
	copy(a.aaguid[:], "vigie-test-authn")
	return a
}

func (a *softAuthenticator) clone() *softAuthenticator {
	c := *a
	return &c
}

// The authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagAT = 0x40
)

type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
	} `json:"publicKey"`
}

type requestOptions struct {
	PublicKey struct {
		Challenge        string `json:"challenge"`
		RPID             string `json:"rpId"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func (a *softAuthenticator) clientData(t testing.TB, typ, challenge string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": false})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (a *softAuthenticator) authData(rpID string, flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append([]byte{}, h[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, a.count)
	return append(out, attested...)
}

// coseKey is the credential public key as a COSE_Key (RFC 9052): EC2,
// ES256, P-256, x, y.
func (a *softAuthenticator) coseKey(t testing.TB) []byte {
	t.Helper()
	pub, err := a.key.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	p := pub.Bytes() // 0x04 || x || y
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := em.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: p[1:33], -3: p[33:65]})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// create answers navigator.credentials.create: the PublicKeyCredential
// JSON a browser would post.
func (a *softAuthenticator) create(t testing.TB, optsJSON []byte) json.RawMessage {
	t.Helper()
	var o creationOptions
	if err := json.Unmarshal(optsJSON, &o); err != nil {
		t.Fatalf("creation options: %v\n%s", err, optsJSON)
	}
	pk := o.PublicKey
	if a.handle, _ = b64url.DecodeString(pk.User.ID); len(a.handle) == 0 {
		t.Fatalf("creation options carry no user handle: %s", optsJSON)
	}
	cd := a.clientData(t, "webauthn.create", pk.Challenge)
	attested := append(a.aaguid[:], byte(len(a.credID)>>8), byte(len(a.credID)))
	attested = append(attested, a.credID...)
	attested = append(attested, a.coseKey(t)...)
	a.count++
	ad := a.authData(pk.RP.ID, flagUP|flagUV|flagAT, attested)
	em, _ := cbor.CoreDetEncOptions().EncMode()
	att, err := em.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		t.Fatal(err)
	}
	return mustJSON(t, map[string]any{
		"id": b64url.EncodeToString(a.credID), "rawId": b64url.EncodeToString(a.credID), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64url.EncodeToString(cd),
			"attestationObject": b64url.EncodeToString(att),
			"transports":        []string{"usb"},
		},
	})
}

// get answers navigator.credentials.get.
func (a *softAuthenticator) get(t testing.TB, optsJSON []byte) json.RawMessage {
	t.Helper()
	var o requestOptions
	if err := json.Unmarshal(optsJSON, &o); err != nil {
		t.Fatalf("request options: %v\n%s", err, optsJSON)
	}
	pk := o.PublicKey
	cd := a.clientData(t, "webauthn.get", pk.Challenge)
	a.count++
	ad := a.authData(pk.RPID, flagUP|flagUV, nil)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return mustJSON(t, map[string]any{
		"id": b64url.EncodeToString(a.credID), "rawId": b64url.EncodeToString(a.credID), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64url.EncodeToString(cd),
			"authenticatorData": b64url.EncodeToString(ad),
			"signature":         b64url.EncodeToString(sig),
			"userHandle":        b64url.EncodeToString(a.handle),
		},
	})
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
