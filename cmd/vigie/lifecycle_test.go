package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"vigie/internal/db"
)

// TestMain lets a test run the real `vigie` command in a child process:
// the test binary re-executes itself with VIGIE_TEST_ARGS set, and main's
// run() takes over. A crash test can then kill -9 a real server.
func TestMain(m *testing.M) {
	if args := os.Getenv("VIGIE_TEST_ARGS"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, argv, os.Stdout, os.Stderr, os.Getenv)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// vigieCmd returns the command that runs `vigie args...` in a child process.
func vigieCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	b, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "VIGIE_TEST_ARGS="+string(b), "VIGIE_LOG_LEVEL=warn")
	return cmd
}

func runVigie(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := vigieCmd(t, args...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("vigie %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer starts `vigie serve` and waits until /readyz answers 200.
func startServer(t *testing.T, dir, addr string) *exec.Cmd {
	t.Helper()
	cmd := vigieCmd(t, "serve", "--data-dir", dir, "--addr", addr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return cmd
			}
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("server did not become ready; stderr:\n%s", stderr.String())
	return nil
}

// TestKill9LosesNothingAcknowledged writes through the API while the server
// is killed with SIGKILL, restarts it on the same data directory, and
// checks that every write that was acknowledged is there, with its journal
// entry, and that the journal still verifies.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	dir := t.TempDir()
	if out, code := runVigie(t, "user", "add", "--data-dir", dir, "--login", "chef", "--name", "Chef", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	out, code := runVigie(t, "token", "create", "--data-dir", dir, "--login", "chef", "--name", "crash test")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, out)
	}
	token := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	addr := freeAddr(t)
	srv := startServer(t, dir, addr)

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				login := fmt.Sprintf("crash-%d-%d", w, i)
				body := fmt.Sprintf(`{"login":%q,"name":"Crash %d %d","role":"analyst"}`, login, w, i)
				req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/users", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusCreated {
					mu.Lock()
					acked = append(acked, login)
					mu.Unlock()
				} else if res.StatusCode >= 500 {
					t.Errorf("create %s: status %d", login, res.StatusCode)
				}
			}
		}()
	}
	// Let writes flow, then kill without warning.
	for {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			break
		}
	}
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	close(stop)
	wg.Wait()
	mu.Lock()
	want := append([]string(nil), acked...)
	mu.Unlock()

	// Restart: the server verifies the journal before it serves.
	srv = startServer(t, dir, addr)
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Errorf("graceful stop after restart: %v", err)
	}

	d, err := db.Open(context.Background(), filepath.Join(dir, "vigie.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, login := range want {
		var n, j int
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM users WHERE login = ?", login).Scan(&n)
		if n != 1 {
			t.Errorf("acknowledged account %s lost after kill -9", login)
		}
		var id int64
		d.QueryRow(context.Background(), "SELECT id FROM users WHERE login = ?", login).Scan(&id)
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry WHERE object = 'user' AND object_id = ?", fmt.Sprint(id)).Scan(&j)
		if j == 0 {
			t.Errorf("acknowledged account %s has no journal entry", login)
		}
	}
	if out, code := runVigie(t, "audit", "verify", "--data-dir", dir, "--quiet"); code != 0 || !strings.Contains(out, "journal intact") {
		t.Errorf("audit verify after kill -9: exit %d\n%s", code, out)
	}
	t.Logf("%d acknowledged writes, all present after kill -9 and restart", len(want))
}

// TestServeRefusesTamperedJournalAndNewerSchema: a server never half-starts.
func TestServeRefusesTamperedJournalAndNewerSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		if out, code := runVigie(t, "user", "add", "--data-dir", dir, "--login", fmt.Sprintf("user%d", i), "--name", "U", "--role", "analyst"); code != 0 {
			t.Fatalf("user add: %s", out)
		}
	}
	path := filepath.Join(dir, "vigie.db")
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(context.Background(), "UPDATE audit_entry SET detail = 'rewritten' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	out, code := runVigie(t, "serve", "--data-dir", dir, "--addr", freeAddr(t))
	if code == 0 || !strings.Contains(out, "journal fails verification") {
		t.Errorf("serve on a tampered journal: exit %d\n%s", code, out)
	}
	out, code = runVigie(t, "audit", "verify", "--data-dir", dir, "--quiet")
	if code != exitFail || !strings.Contains(out, "2") {
		t.Errorf("audit verify on a tampered journal: exit %d\n%s", code, out)
	}

	_, known, _ := d.SchemaVersions(context.Background())
	d.Exec(context.Background(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", known+1, true)
	d.Close()
	out, code = runVigie(t, "serve", "--data-dir", dir, "--addr", freeAddr(t))
	if code == 0 || !strings.Contains(out, "newer version of Vigie") {
		t.Errorf("serve on a newer schema: exit %d\n%s", code, out)
	}
}

// TestJournalKeyIsNeverReplacedSilently: a lost or foreign signing key stops
// the program instead of starting a new key that would break verification.
func TestJournalKeyIsNeverReplacedSilently(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, other} {
		if out, code := runVigie(t, "user", "add", "--data-dir", d, "--login", "chef", "--name", "Chef", "--role", "admin"); code != 0 {
			t.Fatalf("user add: %s", out)
		}
	}
	key := filepath.Join(dir, "journal.key")
	saved, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(key)
	out, code := runVigie(t, "audit", "verify", "--data-dir", dir, "--quiet")
	if code == 0 || !strings.Contains(out, "journal signing key") || !strings.Contains(out, "missing") {
		t.Errorf("missing key: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(key); err == nil {
		t.Error("a new key was created in place of the missing one")
	}
	foreign, _ := os.ReadFile(filepath.Join(other, "journal.key"))
	os.WriteFile(key, foreign, 0o600)
	out, code = runVigie(t, "audit", "verify", "--data-dir", dir, "--quiet")
	if code == 0 || !strings.Contains(out, "does not belong") {
		t.Errorf("foreign key: exit %d\n%s", code, out)
	}
	os.WriteFile(key, saved, 0o600)
	if out, code := runVigie(t, "audit", "verify", "--data-dir", dir, "--quiet"); code != 0 {
		t.Errorf("own key restored: exit %d\n%s", code, out)
	}
}

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	steps := []struct {
		args []string
		env  string
		code int
		want string
	}{
		{[]string{"user", "add", "--login", "cdt.martin", "--name", "Cdt Martin", "--role", "commander"}, "VIGIE_NEW_PASSWORD=Un-Mot-De-Passe-Solide", 0, "TOTP secret"},
		{[]string{"user", "add", "--login", "cdt.martin", "--name", "Again", "--role", "commander"}, "", 1, ""},
		{[]string{"user", "add", "--login", "x", "--name", "X", "--role", "pope"}, "", 1, ""},
		{[]string{"user", "list"}, "", 0, "cdt.martin"},
		{[]string{"user", "disable", "--login", "cdt.martin"}, "", 0, "disabled"},
		{[]string{"user", "list", "--q", "martin"}, "", 0, "disabled"},
		{[]string{"user", "enable", "--login", "cdt.martin"}, "", 0, "enabled"},
		{[]string{"user", "set-password", "--login", "cdt.martin"}, "VIGIE_NEW_PASSWORD=short", 1, "12"},
		{[]string{"user", "set-password", "--login", "cdt.martin"}, "VIGIE_NEW_PASSWORD=Encore-Un-Mot-De-Passe", 0, "changed"},
		{[]string{"user", "reset-mfa", "--login", "cdt.martin"}, "", 0, "reset"},
		{[]string{"user", "disable", "--login", "nobody"}, "", 1, "No account"},
		{[]string{"user", "frobnicate"}, "", 2, "unknown subcommand"},
		{[]string{"token", "create", "--login", "cdt.martin", "--name", "script", "--ttl", "soon"}, "", 2, "ttl"},
		{[]string{"token", "create", "--login", "cdt.martin", "--name", "script"}, "", 0, "vig_"},
		{[]string{"grant", "--login", "cdt.martin", "--perm", "read", "--unit", "7", "--reason", "joint inquiry 2026-01-000123"}, "", 1, "no unit 7"},
		{[]string{"grant", "--login", "cdt.martin", "--perm", "read", "--kind", "case", "--id", "2026-01-000123", "--reason", "joint inquiry"}, "", 0, "may read"},
		{[]string{"grant", "--revoke", "1"}, "", 0, "permission 1 revoked"},
		{[]string{"grant", "--revoke", "1"}, "", 1, "ot found"},
		{[]string{"grant", "--login", "cdt.martin", "--perm", "org.admin", "--unit", "7", "--reason", "x"}, "", 1, "cannot be granted"},
		{[]string{"grant", "--login", "cdt.martin", "--perm", "read", "--reason", "x"}, "", 1, "Name the record"},
		{[]string{"audit", "verify", "--quiet"}, "", 0, "journal intact"},
	}
	for _, st := range steps {
		cmd := vigieCmd(t, append(st.args, "--data-dir", dir)...)
		if st.env != "" {
			cmd.Env = append(cmd.Env, st.env)
		}
		out, _ := cmd.CombinedOutput()
		code := cmd.ProcessState.ExitCode()
		if code != st.code || !strings.Contains(string(out), st.want) {
			t.Errorf("vigie %s: exit %d, output %q; want exit %d and %q", strings.Join(st.args, " "), code, out, st.code, st.want)
		}
	}
}

func TestDemoRefusesRealData(t *testing.T) {
	dir := t.TempDir()
	if out, code := runVigie(t, "user", "add", "--data-dir", dir, "--login", "vraie.personne", "--name", "Vraie Personne", "--role", "agent"); code != 0 {
		t.Fatalf("user add: %s", out)
	}
	out, code := runVigie(t, "serve", "--demo", "--data-dir", dir, "--addr", freeAddr(t))
	if code != exitFail || !strings.Contains(out, "--demo refused") || !strings.Contains(out, "1 accounts") {
		t.Errorf("serve --demo on real data: exit %d\n%s", code, out)
	}
}

func TestBackupWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real server")
	}
	dir := t.TempDir()
	if out, code := runVigie(t, "user", "add", "--data-dir", dir, "--login", "chef", "--name", "Chef", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %s", out)
	}
	addr := freeAddr(t)
	srv := startServer(t, dir, addr)
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	out := filepath.Join(t.TempDir(), "b")
	if msg, code := runVigie(t, "backup", "--data-dir", dir, "--out", out); code != 0 || !strings.Contains(msg, "not in this backup") {
		t.Fatalf("backup: exit %d\n%s", code, msg)
	}
	for _, name := range []string{"journal.key", "card.key"} {
		if _, err := os.Stat(filepath.Join(out, name)); err == nil {
			t.Errorf("the key %s was copied without --with-key", name)
		}
		// The copy is a working installation once its keys are put back.
		key, _ := os.ReadFile(filepath.Join(dir, name))
		os.WriteFile(filepath.Join(out, name), key, 0o600)
	}
	if msg, code := runVigie(t, "user", "list", "--data-dir", out); code != 0 || !strings.Contains(msg, "chef") {
		t.Errorf("restored copy: exit %d\n%s", code, msg)
	}
	if msg, code := runVigie(t, "audit", "verify", "--data-dir", out, "--quiet"); code != 0 {
		t.Errorf("restored copy's journal: exit %d\n%s", code, msg)
	}
	if msg, code := runVigie(t, "backup", "--data-dir", dir, "--out", out); code != exitConfig || !strings.Contains(msg, "not empty") {
		t.Errorf("backup into a non-empty directory: exit %d\n%s", code, msg)
	}
}
