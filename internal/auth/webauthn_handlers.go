package auth

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"vigie"
	"vigie/internal/web"
)

// webauthnJS drives navigator.credentials.create/get on the account and
// second-factor pages; it is served from this area, never from a CDN.
//
//go:embed webauthn.js
var webauthnJS []byte

// registerWebAuthn adds the passkey routes when passkeys are enabled.
func (h *handler) registerWebAuthn() {
	if h.a.rp == nil {
		return
	}
	s := h.s
	s.Route("GET /auth/webauthn.js", h.webauthnScript)
	s.Route("POST /account/passkeys/begin", h.passkeyRegisterBegin)
	s.Route("POST /account/passkeys", h.passkeyRegisterFinish)
	s.Route("POST /account/passkeys/{id}/rename", h.passkeyRename)
	s.Route("POST /account/passkeys/{id}/delete", h.passkeyDelete)
	s.Route("GET /api/v1/account/passkeys", h.passkeyListAPI)
	s.Route("POST /login/mfa/passkey/begin", h.passkeyMFABegin)
	s.Route("POST /login/mfa/passkey", h.passkeyMFAFinish)
}

func (h *handler) webauthnScript(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(webauthnJS)
	return err
}

// readCeremonyBody reads the JSON a ceremony's "finish" posts, bounded:
// an attestation with its certificates fits well under 64 KiB.
func readCeremonyBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, "auth.passkey", "The passkey response is too large or could not be read.", err)
	}
	return b, nil
}

func (h *handler) passkeyRegisterBegin(w http.ResponseWriter, r *http.Request) error {
	opts, err := h.a.BeginPasskeyRegistration(r.Context())
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, opts)
	return nil
}

// passkeyRegistration is what the browser posts to finish a registration:
// the name its owner gives the passkey, and the PublicKeyCredential.
type passkeyRegistration struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

func (h *handler) passkeyRegisterFinish(w http.ResponseWriter, r *http.Request) error {
	if err := Require(r.Context()); err != nil {
		return err
	}
	b, err := readCeremonyBody(w, r)
	if err != nil {
		return err
	}
	var in passkeyRegistration
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return vigie.E(vigie.KindInvalid, "auth.passkeyRegisterFinish", "The passkey response could not be read.", err)
	}
	p, err := h.a.FinishPasskeyRegistration(r.Context(), in.Name, in.Credential)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, p)
	return nil
}

func (h *handler) passkeyListAPI(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.a.MyPasskeys(r.Context())
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []Passkey{}
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"passkeys": ps})
	return nil
}

// accountPasskeys is the passkey section of the account page.
type accountPasskeys struct {
	Items []Passkey
}

// accountPasskeys returns the passkey section of the account page, nil
// when passkeys are off or the account may not have any.
func (h *handler) accountPasskeys(r *http.Request) (*accountPasskeys, error) {
	if _, err := h.a.passkeyOwner(r.Context()); err != nil {
		return nil, nil
	}
	ps, err := h.a.MyPasskeys(r.Context())
	if err != nil {
		return nil, err
	}
	return &accountPasskeys{Items: ps}, nil
}

func passkeyID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, vigie.E(vigie.KindNotFound, "auth.passkey", "Unknown passkey.", err)
	}
	return id, nil
}

func (h *handler) passkeyRename(w http.ResponseWriter, r *http.Request) error {
	id, err := passkeyID(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		return vigie.E(vigie.KindInvalid, "auth.passkeyRename", "The form could not be read.", err)
	}
	if err := h.a.RenamePasskey(r.Context(), id, r.PostForm.Get("name")); err != nil {
		if vigie.KindOf(err) == vigie.KindInvalid {
			return h.account(w, r, http.StatusBadRequest, accountData{Error: web.T(web.Lang(r), vigie.MessageOf(err))})
		}
		return err
	}
	http.Redirect(w, r, "/account#passkeys", http.StatusSeeOther)
	return nil
}

func (h *handler) passkeyDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := passkeyID(r)
	if err != nil {
		return err
	}
	if err := h.a.DeletePasskey(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/account#passkeys", http.StatusSeeOther)
	return nil
}

func (h *handler) passkeyMFABegin(w http.ResponseWriter, r *http.Request) error {
	opts, err := h.a.BeginPasskeyMFA(r.Context(), sessionCookie(r))
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, opts)
	return nil
}

// passkeyMFAFinish checks the assertion; on success it sets the new
// session cookie and tells the script where to go.
func (h *handler) passkeyMFAFinish(w http.ResponseWriter, r *http.Request) error {
	b, err := readCeremonyBody(w, r)
	if err != nil {
		return err
	}
	in, err := h.a.FinishPasskeyMFA(r.Context(), sessionCookie(r), b)
	if err != nil {
		return err
	}
	h.a.setCookie(w, r, in.Token)
	web.WriteJSON(w, http.StatusOK, map[string]string{"redirect": orHome(safeNext(r.URL.Query().Get("next")))})
	return nil
}
