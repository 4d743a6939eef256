package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigie/internal/analytics"
	"vigie/internal/analytics/model"
	"vigie/internal/bus"
	"vigie/internal/db"
)

// unitID returns the id of a unit by code pattern: the groupement of dept,
// or the brigade of a commune.
func (ta *testApp) groupementID(t *testing.T, dept string) int64 {
	t.Helper()
	var id int64
	if err := ta.db.QueryRow(context.Background(), "SELECT id FROM units WHERE dept = ? AND kind = 'groupement'", dept).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (ta *testApp) userUnit(t *testing.T, login string) int64 {
	t.Helper()
	var id int64
	if err := ta.db.QueryRow(context.Background(), "SELECT unit_id FROM users WHERE login = ?", login).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRiskMap: the demo's offences give the analyst of the Ain a risk map of
// the whole département, in French, with the shipped model named and linked
// to its card, flagged cells explained in words, the stability of the flags,
// and the consultation journaled. Other départements, citizens and
// anonymous visitors are refused.
func TestRiskMap(t *testing.T) {
	ta := newTestApp(t)
	g01 := ta.groupementID(t, "01")
	analyst := ta.signIn(t, "analyste")
	path := "/analytics/risk?unit=" + strconv.FormatInt(g01, 10) + "&horizon=week&layer=call&layer=lapi"
	code, body := ta.get(t, analyst, path)
	if code != http.StatusOK {
		t.Fatalf("analyst risk map: status %d\n%s", code, body)
	}
	for _, want := range []string{"Carte des risques", `href="/analytics/models#counts-all"`, "<svg", "Cellules signalées et pourquoi",
		"à moins de 300 m ces 14 derniers jours", "niveau de long terme très élevé (1 % les plus hautes)", "D’une semaine à l’autre", `data-source="call"`} {
		if !strings.Contains(body, want) {
			t.Errorf("risk map lacks %q", want)
		}
	}
	if strings.Contains(body, "ZgotmplZ") || strings.Contains(body, "style=") {
		t.Error("the page has a value the template escaper refused, or a style attribute the CSP blocks")
	}
	if strings.Contains(body, `data-source="offence"`) {
		t.Error("the offence layer is drawn although not asked for")
	}
	var n int
	ta.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry WHERE action = 'consult' AND object = 'risk_map' AND object_id = ? AND actor_login = 'analyste'",
		strconv.FormatInt(g01, 10)).Scan(&n)
	if n != 1 {
		t.Errorf("journal entries of the map: %d, want 1", n)
	}

	// The agent of a brigade sees its own territory by default.
	agent := ta.signIn(t, "agent")
	if code, body := ta.get(t, agent, "/analytics/risk?horizon=shift"); code != http.StatusOK || !strings.Contains(body, "Carte des risques") {
		t.Fatalf("agent's own map: %d", code)
	}
	// Overseas and Corsican brigades get their own map (UTM 40S for La
	// Réunion), or the reason there is none.
	clients := map[string]*http.Client{"agent": agent}
	for _, login := range []string{"agent2a", "agent974"} {
		clients[login] = ta.signIn(t, login)
		code, body := ta.get(t, clients[login], "/analytics/risk")
		hasMap, says := strings.Contains(body, "<svg"), strings.Contains(body, "Pas de prévision pour ce territoire")
		if code != http.StatusOK || hasMap == says {
			t.Errorf("%s's own map: status %d, map %v, no-forecast message %v", login, code, hasMap, says)
		}
		t.Logf("%s: map %v", login, hasMap)
	}
	for _, c := range []struct {
		login string
		want  int
	}{{"agent2a", http.StatusForbidden}, {"agent", http.StatusForbidden}, {"citoyen", http.StatusForbidden}, {"admin", http.StatusForbidden}} {
		cl := clients[c.login] // a second sign-in within the TOTP step would be a replay
		if cl == nil {
			cl = ta.signIn(t, c.login)
		}
		if code, _ := ta.get(t, cl, path); code != c.want {
			t.Errorf("%s on the Ain's map: %d, want %d", c.login, code, c.want)
		}
	}
	if code, _ := ta.get(t, ta.client(), path); code != http.StatusSeeOther {
		t.Errorf("anonymous: %d, want a redirect to sign in", code)
	}

	// Without history, the map says so instead of drawing an empty one.
	if _, err := ta.db.Exec(context.Background(), "DELETE FROM analytics_events WHERE dept = '2A'"); err != nil {
		t.Fatal(err)
	}
	if code, body := ta.get(t, clients["agent2a"], "/analytics/risk"); code != 200 || strings.Contains(body, "<svg") ||
		!strings.Contains(body, "Trop peu d’infractions enregistrées sur ce territoire") {
		t.Errorf("map without history: status %d, drawn %v", code, strings.Contains(body, "<svg"))
	}

	// The JSON API gives the same cells with their reasons.
	res, err := analyst.Get(ta.srv.URL + "/api/v1/analytics/risk?unit=" + strconv.FormatInt(g01, 10))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Model   string `json:"model"`
		Flagged []struct {
			Lon, Lat float64
			Reasons  []string
		} `json:"flagged"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if res.StatusCode != 200 || out.Model != "counts-all" || len(out.Flagged) == 0 {
		t.Fatalf("API risk: %d model %q, %d cells", res.StatusCode, out.Model, len(out.Flagged))
	}
	if f := out.Flagged[0]; f.Lon < 4.7 || f.Lon > 6.2 || f.Lat < 45.5 || f.Lat > 46.6 || len(f.Reasons) == 0 {
		t.Errorf("first flagged cell %+v: not in the Ain or without reasons", f)
	}
}

// TestPatrolPlanJourney: the agent plans a shift, reads the plan (map and
// PDF), files the patrol report once; the report becomes patrol events;
// another département's agent cannot see the plan.
func TestPatrolPlanJourney(t *testing.T) {
	ta := newTestApp(t)
	agent := ta.signIn(t, "agent")
	unit := strconv.FormatInt(ta.userUnit(t, "agent"), 10)
	if code, body := ta.get(t, agent, "/analytics/plans?unit="+unit); code != 200 || !strings.Contains(body, "Planifier le service") {
		t.Fatalf("plans page: %d", code)
	}
	start := time.Now().Add(time.Hour).Format("2006-01-02T15:04")
	res := ta.post(t, agent, "/analytics/plans", url.Values{"unit": {unit}, "start": {start}, "patrols": {"2"}, "minutes": {"240"},
		"speed": {"40"}, "dwell": {"20"}, "avoid": {"7"}})
	loc := res.Header.Get("Location")
	m := regexp.MustCompile(`^/analytics/plans/(\d+)$`).FindStringSubmatch(loc)
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create plan: %d %q", res.StatusCode, loc)
	}
	code, body := ta.get(t, agent, loc)
	if code != 200 || !strings.Contains(body, "Patrouille 1 :") || !strings.Contains(body, "data-patrol=\"1\"") {
		t.Fatalf("plan page: %d\n%s", code, body)
	}
	stops := regexp.MustCompile(`name="visited" value="(\d+\.\d+)"`).FindAllStringSubmatch(body, -1)
	if len(stops) == 0 {
		t.Fatal("the plan has no place to visit")
	}
	pdf, err := agent.Get(ta.srv.URL + loc + "/pdf")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(pdf.Body)
	pdf.Body.Close()
	if pdf.StatusCode != 200 || !bytes.HasPrefix(b, []byte("%PDF")) {
		t.Fatalf("PDF: %d %q", pdf.StatusCode, b[:min(len(b), 20)])
	}
	var views int
	ta.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry WHERE action = 'consult' AND object = 'patrol_plan' AND object_id = ? AND actor_login = 'agent'", m[1]).Scan(&views)
	if views != 2 {
		t.Errorf("journaled views of the plan (page, PDF): %d, want 2", views)
	}
	other := ta.signIn(t, "agent2a")
	if code, _ := ta.get(t, other, loc); code != http.StatusNotFound {
		t.Errorf("another département's agent on the plan: %d, want 404", code)
	}
	if code, _ := ta.get(t, other, loc+"/pdf"); code != http.StatusNotFound {
		t.Errorf("another département's agent on the PDF: %d, want 404", code)
	}

	res = ta.post(t, agent, loc+"/report", url.Values{"visited": {stops[0][1]}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("report: %d", res.StatusCode)
	}
	var n int
	ta.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM analytics_events WHERE source = 'patrol' AND plan_id = ?", m[1]).Scan(&n)
	if n != 1 {
		t.Errorf("patrol events after the report: %d, want 1", n)
	}
	res = ta.post(t, agent, loc+"/report", url.Values{"visited": {stops[0][1]}})
	if res.StatusCode != http.StatusConflict {
		t.Errorf("second report: %d, want 409", res.StatusCode)
	}

	// A plan of three days ago is measured: how many of the offences of
	// its shift and the following day fell in its places.
	past := time.Now().Add(-72 * time.Hour).Format("2006-01-02T15:04")
	res = ta.post(t, agent, "/analytics/plans", url.Values{"unit": {unit}, "start": {past}, "patrols": {"1"}, "minutes": {"480"}})
	old := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("plan in the past: %d", res.StatusCode)
	}
	if _, body := ta.get(t, agent, old); !strings.Contains(body, "sont survenues dans les lieux prévus, qui représentent") {
		t.Error("the past plan is not measured")
	}
	if _, body := ta.get(t, agent, "/analytics/plans?unit="+unit); !strings.Contains(body, "Sur les 1 plans mesurés") ||
		!strings.Contains(body, "Le seul classement des risques") || !strings.Contains(body, "<th>Semaine du</th>") {
		t.Error("the plans page does not sum up the measured plans week by week against the ranking alone")
	}
	// Bad input goes back to the form with the reason, nothing stored.
	req, _ := http.NewRequest("POST", ta.srv.URL+"/analytics/plans", strings.NewReader(url.Values{"unit": {unit}, "start": {start}, "patrols": {"40"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Referer", ta.srv.URL+"/analytics/plans?unit="+unit)
	res, err = agent.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/analytics/plans?unit=") {
		t.Errorf("40 patrols: %d %q, want back to the form", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = ta.get(t, agent, "/analytics/plans?unit="+unit)
	if !strings.Contains(body, "Le nombre de patrouilles doit être compris entre 1 et 12.") {
		t.Error("the form does not say why the plan was refused")
	}
}

// TestImportEvents: the API stores good rows, counts bad ones by reason,
// refuses rows outside the unit's territory, and refuses a unit of
// another département.
func TestImportEvents(t *testing.T) {
	ta := newTestApp(t)
	analyst := ta.signIn(t, "analyste")
	g01 := strconv.FormatInt(ta.groupementID(t, "01"), 10)
	csv := "time,lon,lat,category\n" +
		"2026-01-05 22:10,5.2256,46.2052,burglary\n" + // Bourg-en-Bresse
		"2026-01-06 01:00,5.3500,46.1000,vandalism\n" +
		"not a date,5.2256,46.2052,burglary\n" +
		"2026-01-06 02:00,,46.2,burglary\n" +
		"2026-01-06 03:00,2.3522,48.8566,burglary\n" // Paris: outside
	post := func(c *http.Client, unit, src, body string) (*http.Response, map[string]any) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "events.csv")
		fw.Write([]byte(body))
		mw.Close()
		req, _ := http.NewRequest("POST", ta.srv.URL+"/api/v1/analytics/events?unit="+unit+"&source="+src, &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		return res, out
	}
	res, out := post(analyst, g01, "call", csv)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("import: %d %v", res.StatusCode, out)
	}
	if out["stored"] != float64(2) {
		t.Errorf("stored %v, want 2", out["stored"])
	}
	sk, _ := out["skipped"].(map[string]any)
	for reason, want := range map[string]float64{"bad time": 1, "bad coordinates": 1, "outside the unit's territory": 1} {
		if sk[reason] != want {
			t.Errorf("skipped[%q] = %v, want %v (%v)", reason, sk[reason], want, sk)
		}
	}
	var n int
	ta.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM analytics_events WHERE batch = ?", out["batch"]).Scan(&n)
	if n != 2 {
		t.Errorf("rows of the batch: %d, want 2", n)
	}
	if res, _ := post(analyst, g01, "call", "time,lon,lat\nbad,1,2\n"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("file without a good row: %d, want 400", res.StatusCode)
	}
	if res, _ := post(ta.signIn(t, "agent2a"), g01, "call", csv); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent of 2A importing into the Ain: %d, want 403", res.StatusCode)
	}
	if res, _ := post(analyst, g01, "gossip", csv); res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown source: %d, want 400", res.StatusCode)
	}

	// GeoJSON as the body, as application/json (the firewall's list of
	// content types has no application/geo+json).
	geo := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[5.2256,46.2052]},"properties":{"time":"2026-01-07 10:00","category":"theft"}}]}`
	for _, ctype := range []string{"application/json"} {
		req, _ := http.NewRequest("POST", ta.srv.URL+"/api/v1/analytics/events?unit="+g01+"&source=lapi", strings.NewReader(geo))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Accept", "application/json")
		res, err := analyst.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Errorf("GeoJSON body as %s: %d, want 201", ctype, res.StatusCode)
		}
	}

	// The page: same import, result in French.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("unit", g01)
	mw.WriteField("source", "call")
	fw, _ := mw.CreateFormFile("file", "events.csv")
	fw.Write([]byte(csv))
	mw.Close()
	req, _ := http.NewRequest("POST", ta.srv.URL+"/analytics/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := analyst.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "2 événements enregistrés.") || !strings.Contains(string(page), "date illisible : 1") ||
		!strings.Contains(string(page), "hors du territoire de l’unité : 1") {
		t.Errorf("import page: %d\n%s", res.StatusCode, page)
	}
}

// TestModelCards: the cards page names the model in use.
func TestModelCards(t *testing.T) {
	ta := newTestApp(t)
	code, body := ta.get(t, ta.signIn(t, "analyste"), "/analytics/models")
	if code != 200 || !strings.Contains(body, `id="counts-all"`) || !strings.Contains(body, "en service") ||
		!strings.Contains(body, "Aucune évaluation n’a encore été faite pour ce département") {
		t.Fatalf("models page: %d", code)
	}
}

// TestDeptBacktestDecidesTheModel: before any backtest, the backtest page
// says so and the maps use counts-all; after the worker's backtest of the
// Ain (every model, on the demo's offences), the page shows every model's
// figures and the rule's decision, the model cards carry the figures, and
// the Ain's risk map uses the offered model. La Réunion's map is unchanged
// (its own backtest) and gives its times in its own time zone (UTC+4).
func TestDeptBacktestDecidesTheModel(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	analyst := ta.signIn(t, "analyste")
	code, body := ta.get(t, analyst, "/analytics/backtest")
	if code != 200 || !strings.Contains(body, "Pas encore d’évaluation pour ce département") ||
		!strings.Contains(body, "Les cartes de risque du département utilisent counts-all.") {
		t.Fatalf("backtest page before any: %d\n%s", code, body)
	}
	start := time.Now()
	b, err := ta.analytics.svc.RunBacktest(ctx, "01", analytics.BacktestWeeks)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Ain backtest: %s, %d weeks, %d cells, offered %s", time.Since(start).Round(time.Millisecond), b.Weeks, b.Cells, b.Offered)
	if len(b.Methods) != len(model.All()) || b.Weeks < analytics.DefaultRule.MinWeeks {
		t.Fatalf("backtest: %d methods, %d weeks", len(b.Methods), b.Weeks)
	}
	code, body = ta.get(t, analyst, "/analytics/backtest")
	if code != 200 || !strings.Contains(body, "Les cartes de risque du département utilisent "+b.Offered+".") ||
		!strings.Contains(body, "Meilleure référence de comptage") || !strings.Contains(body, "Taux de capture à 5 %") {
		t.Fatalf("backtest page: %d\n%s", code, body)
	}
	for _, m := range b.Methods {
		if !strings.Contains(body, `#`+m.Name+`">`+m.Name+`</a>`) {
			t.Errorf("backtest page misses %s", m.Name)
		}
	}
	code, body = ta.get(t, analyst, "/analytics/models")
	if code != 200 || strings.Count(body, "Dernière évaluation du département") != len(b.Methods) {
		t.Errorf("model cards: %d, %d cards with figures", code, strings.Count(body, "Dernière évaluation du département"))
	}
	g01 := strconv.FormatInt(ta.groupementID(t, "01"), 10)
	code, body = ta.get(t, analyst, "/analytics/risk?horizon=day&unit="+g01)
	if code != 200 || !strings.Contains(body, `href="/analytics/models#`+b.Offered+`"`) || !strings.Contains(body, "(UTC&#43;01:00)") {
		t.Errorf("Ain's map after the backtest: %d, model %s linked: %v", code, b.Offered, strings.Contains(body, "#"+b.Offered))
	}
	// Another département's backtest page is refused like its map.
	if code, _ := ta.get(t, analyst, "/analytics/backtest?unit="+strconv.FormatInt(ta.groupementID(t, "974"), 10)); code != http.StatusForbidden {
		t.Errorf("analyst of the Ain on La Réunion's backtest: %d", code)
	}
	agent974 := ta.signIn(t, "agent974")
	code, body = ta.get(t, agent974, "/analytics/risk?horizon=shift")
	if code != 200 || !strings.Contains(body, "counts-all") || !strings.Contains(body, "(UTC&#43;04:00)") ||
		!strings.Contains(body, "classe les cellules de la même façon quel que soit l’horizon") {
		t.Errorf("La Réunion's map: %d", code)
	}
	// The times are those of La Réunion (html/template writes + as &#43;):
	// the period starts at the start of the current hour, local time.
	loc, _ := time.LoadLocation("Indian/Reunion")
	hour := time.Now().UTC().Truncate(time.Hour)
	want, before := hour.In(loc).Format("02/01/2006 15:04"), hour.Add(-time.Hour).In(loc).Format("02/01/2006 15:04")
	if !strings.Contains(body, want+" (UTC&#43;04:00)") && !strings.Contains(body, before+" (UTC&#43;04:00)") { // the hour may have turned
		t.Errorf("La Réunion's map does not start at %s local time", want)
	}
	if code, body := ta.get(t, agent974, "/analytics/backtest"); code != 200 || !strings.Contains(body, "Pas encore d’évaluation") {
		t.Errorf("La Réunion's backtest page: %d", code)
	}
}

// TestCaseFilesFeedTheRiskMap: an opened case file with a place, published
// on the bus (real NATS, through the outbox relay), becomes a recorded
// offence of the risk map, once even when delivered twice.
func TestCaseFilesFeedTheRiskMap(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	ev := bus.Event{Dept: "01", Area: "casefile", Type: "opened", Subject: "987654", Data: map[string]any{
		"id": 987654, "dept": "01", "unit_id": ta.userUnit(t, "agent"), "category": "burglary",
		"facts_from": time.Now().Add(-3 * time.Hour), "facts_to": time.Now().Add(-2 * time.Hour), "lat": 46.2052, "lon": 5.2256}}
	for range 2 {
		if err := ta.db.InTx(ctx, func(tx *db.Tx) error { return ta.outbox.Enqueue(ctx, tx, ev) }); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	var n int
	for time.Now().Before(deadline) {
		ta.db.QueryRow(ctx, "SELECT COUNT(*) FROM analytics_events WHERE ref = 'casefile:987654' AND source = 'offence' AND category = 'burglary'").Scan(&n)
		if n > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n != 1 {
		t.Fatalf("offences from the case file: %d, want 1", n)
	}
	time.Sleep(time.Second) // the second delivery
	ta.db.QueryRow(ctx, "SELECT COUNT(*) FROM analytics_events WHERE ref = 'casefile:987654'").Scan(&n)
	if n != 1 {
		t.Errorf("after the second event: %d rows, want 1", n)
	}
}

// TestBrowserRiskMap: in a real browser (CSP, labels, headings, console
// errors checked on every page by the tab), the analyst reaches the risk
// map from the menu, turns a layer on, and the agent plans a shift and
// opens the plan; the model cards page loads.
func TestBrowserRiskMap(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("browser tests skipped: install chromium (apt-get install chromium)")
	}
	ta := newTestApp(t)
	b := startBrowser(t, exe, ta.srv.URL)

	tb := b.newTab(t)
	tb.open("/")
	tb.signIn("analyste")
	tb.click(link(`nav[contains(@class,"fr-nav")]`, "Carte des risques"))
	tb.wantText("h1", "Carte des risques")
	if n := tb.count(`figure svg rect[data-rank]`); n == 0 {
		t.Error("no flagged cell on the analyst's map")
	}
	tb.run("turn the calls layer on", chromedp.Click(`//label[@for="l-call"]`, chromedp.NodeVisible))
	tb.click(button("Afficher"))
	if n := tb.count(`circle[data-source="call"]`); n == 0 {
		t.Error("the calls layer shows no call")
	}
	tb.screenshot("risk-map-analyst")
	tb.open("/analytics/models")
	tb.wantText("h1", "Fiches des modèles")
	tb.signOut()

	tb = b.newTab(t)
	tb.open("/")
	tb.signIn("agent")
	tb.open("/analytics/plans")
	tb.wantText("h1", "Plans de patrouille")
	tb.click(button("Planifier le service"))
	if !strings.HasPrefix(tb.path(), "/analytics/plans/") {
		t.Fatalf("after planning: %s", tb.path())
	}
	tb.wantText("h1", "Plan de patrouille")
	if n := tb.count(`polyline[data-patrol]`); n != 2 {
		t.Errorf("%d routes on the plan's map, want 2", n)
	}
	tb.screenshot("patrol-plan")
	tb.signOut()
}
