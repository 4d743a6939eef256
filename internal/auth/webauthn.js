// Passkeys (WebAuthn) for Vigie: registration from /account and second
// factor on /login/mfa. No framework, no network beyond this site.
// The server sends options as JSON with binary fields in base64url; the
// browser API wants ArrayBuffers, and back again.
(function () {
  "use strict";

  function fromB64u(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64u(buf) {
    if (!buf) return undefined;
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function ids(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: fromB64u(c.id) });
    });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json" },
      body: body === undefined ? "{}" : JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) throw new Error(data.message || resp.statusText);
        return data;
      });
    });
  }

  function show(el, text, ok) {
    if (!el) return;
    el.hidden = false;
    el.className = "fr-alert fr-alert--sm fr-mt-2w " + (ok ? "fr-alert--success" : "fr-alert--error");
    el.textContent = text;
  }

  // A DOMException from the browser (cancelled, timed out) says little
  // that helps; the page carries a translated sentence for it.
  function failure(el, fallback) {
    return function (err) {
      show(el, err && err.name === "Error" ? err.message : fallback, false);
    };
  }

  function register(btn) {
    var status = document.getElementById("passkey-status");
    var nameInput = document.getElementById("passkey-name");
    var name = nameInput ? nameInput.value.trim() : "";
    if (!name) {
      show(status, btn.dataset.msgName, false);
      if (nameInput) nameInput.focus();
      return;
    }
    btn.disabled = true;
    post("/account/passkeys/begin").then(function (opts) {
      var pk = opts.publicKey;
      pk.challenge = fromB64u(pk.challenge);
      pk.user.id = fromB64u(pk.user.id);
      pk.excludeCredentials = ids(pk.excludeCredentials);
      return navigator.credentials.create({ publicKey: pk });
    }).then(function (cred) {
      var r = cred.response;
      return post("/account/passkeys", {
        name: name,
        credential: {
          id: cred.id,
          rawId: toB64u(cred.rawId),
          type: cred.type,
          authenticatorAttachment: cred.authenticatorAttachment || undefined,
          clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
          response: {
            clientDataJSON: toB64u(r.clientDataJSON),
            attestationObject: toB64u(r.attestationObject),
            transports: r.getTransports ? r.getTransports() : []
          }
        }
      });
    }).then(function () {
      window.location.assign("/account");
    }).catch(failure(status, btn.dataset.msgFailed)).finally(function () {
      btn.disabled = false;
    });
  }

  function signIn(btn) {
    var status = document.getElementById("passkey-status");
    btn.disabled = true;
    post("/login/mfa/passkey/begin").then(function (opts) {
      var pk = opts.publicKey;
      pk.challenge = fromB64u(pk.challenge);
      pk.allowCredentials = ids(pk.allowCredentials);
      return navigator.credentials.get({ publicKey: pk });
    }).then(function (cred) {
      var r = cred.response;
      var next = btn.dataset.next ? "?next=" + encodeURIComponent(btn.dataset.next) : "";
      return post("/login/mfa/passkey" + next, {
        id: cred.id,
        rawId: toB64u(cred.rawId),
        type: cred.type,
        authenticatorAttachment: cred.authenticatorAttachment || undefined,
        clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
        response: {
          clientDataJSON: toB64u(r.clientDataJSON),
          authenticatorData: toB64u(r.authenticatorData),
          signature: toB64u(r.signature),
          userHandle: toB64u(r.userHandle)
        }
      });
    }).then(function (data) {
      window.location.assign(data.redirect || "/");
    }).catch(failure(status, btn.dataset.msgFailed)).finally(function () {
      btn.disabled = false;
    });
  }

  function init() {
    var supported = !!(window.PublicKeyCredential && navigator.credentials);
    document.querySelectorAll("[data-passkey]").forEach(function (el) {
      if (!supported) {
        var note = document.getElementById("passkey-unsupported");
        if (note) note.hidden = false;
        return;
      }
      el.hidden = false;
    });
    var add = document.getElementById("passkey-add");
    if (add) add.addEventListener("click", function () { register(add); });
    var use = document.getElementById("passkey-signin");
    if (use) use.addEventListener("click", function () { signIn(use); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
