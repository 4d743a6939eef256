// Command vigie-load measures Vigie under many signed-in users browsing: it
// creates the accounts through the API (with an administrator's token),
// signs each one in through the real pages (password, then TOTP enrolment),
// then has every user browse for a while and reports latency percentiles
// and errors. Results go to docs/benchmarks.md.
//
//	vigie token create --login admin --name load --ttl 1d   # on the server's data dir
//	go run ./cmd/vigie-load --url http://127.0.0.1:8080 --token vig_… --users 200 --duration 30s
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp/totp"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "Vigie's base URL")
	token := flag.String("token", os.Getenv("VIGIE_LOAD_TOKEN"), "API token of an administrator (creates the load accounts)")
	users := flag.Int("users", 200, "concurrent signed-in users")
	duration := flag.Duration("duration", 30*time.Second, "how long they browse")
	think := flag.Duration("think", 0, "mean pause between a user's requests, randomised ±50% (0: none, as hard as possible)")
	prefix := flag.String("prefix", "load", "login prefix of the load accounts")
	flag.Parse()
	if *token == "" {
		fmt.Fprintln(os.Stderr, "vigie-load: --token is required (vigie token create --login admin --name load)")
		os.Exit(2)
	}
	if err := run(*base, *token, *prefix, *users, *duration, *think); err != nil {
		fmt.Fprintln(os.Stderr, "vigie-load:", err)
		os.Exit(1)
	}
}

const password = "Load-Test-Password-2026"

type user struct {
	login  string
	client *http.Client
	pages  []string
}

func run(base, token, prefix string, n int, duration, think time.Duration) error {
	api := &http.Client{Timeout: 30 * time.Second}
	units, err := brigades(api, base, token)
	if err != nil {
		return err
	}
	fmt.Printf("creating and signing in %d users...\n", n)
	start := time.Now()
	us := make([]*user, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			u, err := setup(api, base, token, fmt.Sprintf("%s-%04d", prefix, i), units[i%len(units)], i)
			if err != nil {
				errs <- err
				return
			}
			us[i] = u
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("%d users signed in in %s\n", n, time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	statuses := map[int]int{}
	var failures []string
	for _, u := range us {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Real users are not in step: each starts at a random moment
			// and pauses a random 0.5–1.5 × think between pages.
			if think > 0 {
				time.Sleep(time.Duration(rand.Int64N(int64(think))))
			}
			for i := 0; ctx.Err() == nil; i++ {
				p := u.pages[i%len(u.pages)]
				t0 := time.Now()
				res, err := u.client.Get(base + p)
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						failures = append(failures, p+": "+err.Error())
						mu.Unlock()
					}
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				mu.Lock()
				lat = append(lat, d)
				statuses[res.StatusCode]++
				if res.StatusCode != 200 {
					failures = append(failures, fmt.Sprintf("%s: %d", p, res.StatusCode))
				}
				mu.Unlock()
				if think > 0 {
					time.Sleep(think/2 + time.Duration(rand.Int64N(int64(think))))
				}
			}
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	fmt.Printf("users %d, duration %s, requests %d (%.0f/s)\n", n, duration, len(lat), float64(len(lat))/duration.Seconds())
	fmt.Printf("latency p50 %s p90 %s p99 %s max %s\n", pct(.5), pct(.9), pct(.99), pct(1))
	fmt.Printf("status codes %v, errors %d\n", statuses, len(failures))
	for i, f := range failures {
		if i == 5 {
			break
		}
		fmt.Println("  ", f)
	}
	if len(failures) > 0 {
		return errors.New("some requests failed")
	}
	return nil
}

// brigades lists the brigades the load accounts are attached to.
func brigades(c *http.Client, base, token string) ([]int64, error) {
	req, _ := http.NewRequest("GET", base+"/api/v1/units?kind=brigade", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var body json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("units: %w", err)
	}
	var list []struct {
		ID   int64  `json:"id"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		var wrapped struct {
			Units []struct {
				ID   int64  `json:"id"`
				Kind string `json:"kind"`
			} `json:"units"`
		}
		if err := json.Unmarshal(body, &wrapped); err != nil {
			return nil, fmt.Errorf("units: unexpected answer %.200s", body)
		}
		list = wrapped.Units
	}
	var ids []int64
	for _, u := range list {
		if u.Kind == "brigade" {
			ids = append(ids, u.ID)
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("no brigade: run the server with --demo")
	}
	return ids, nil
}

var secretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// setup creates one gendarme account (or reuses it) and signs it in with
// TOTP enrolment, as a person would.
func setup(api *http.Client, base, token, login string, unit int64, i int) (*user, error) {
	body := fmt.Sprintf(`{"login":%q,"name":"Charge %d","role":"agent","unit_id":%d,"password":%q}`, login, i, unit, password)
	req, _ := http.NewRequest("POST", base+"/api/v1/users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := api.Do(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("create %s: %d %s (use a fresh --prefix)", login, res.StatusCode, b)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	post := func(path string, form url.Values) (*http.Response, string, error) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		res, err := c.Do(req)
		if err != nil {
			return nil, "", err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b), nil
	}
	res, page, err := post("/login", url.Values{"login": {login}, "password": {password}})
	if err != nil {
		return nil, err
	}
	m := secretRE.FindStringSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("sign-in of %s: no TOTP enrolment page (status %d, at %s)", login, res.StatusCode, res.Request.URL.Path)
	}
	code, _ := totp.GenerateCode(m[1], time.Now())
	res, _, err = post("/mfa/enroll", url.Values{"code": {code}})
	if err != nil {
		return nil, err
	}
	if res.Request.URL.Path != "/" {
		return nil, fmt.Errorf("enrolment of %s ended at %s (%d)", login, res.Request.URL.Path, res.StatusCode)
	}
	return &user{login: login, client: c, pages: []string{"/", "/account", "/api/v1/departements", fmt.Sprintf("/api/v1/units/%d", unit)}}, nil
}
