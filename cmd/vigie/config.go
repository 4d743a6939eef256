package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/shield"
)

// Config is every setting of Vigie. Each one is a flag and a VIGIE_*
// environment variable (the flag wins); settings is the single table that
// declares them, so the README's list is checked against it by a test.
type Config struct {
	DataDir        string
	Addr           string
	DatabaseURL    string
	NATSURL        string
	BlobDir        string
	TLSCert        string
	TLSKey         string
	BaseURL        string
	LogLevel       string
	LogFormat      string
	Demo           bool
	TrustedProxies string
	SessionIdle    time.Duration
	SessionMax     time.Duration
	JournalKeep    time.Duration
	CheckpointEach time.Duration
	OIDCIssuer     string
	OIDCClientID   string
	OIDCSecret     string
	// FranceConnect (citizens' OpenID Connect sign-in); empty issuer: off.
	FranceConnectIssuer   string
	FranceConnectClientID string
	FranceConnectSecret   string
	SMTPAddr              string
	SMTPFrom              string
	SMTPUser              string
	SMTPPassword          string
	SMTPTLS               string
	SMTPHello             string
	SMTPInsecure          bool
	ShieldAllow           string
	// ShieldAccountLock is how long an account attacked from several
	// addresses is locked; 0: alert only.
	ShieldAccountLock time.Duration
	WAFParanoia       int
	WAFThreshold      int
	WAFMode           string // block | detect
}

type setting struct {
	flag, env, def, help string
	set                  func(c *Config, v string) error
}

func str(p func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func num(name string, p func(c *Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s: %q is not a whole number", name, v)
		}
		*p(c) = n
		return nil
	}
}

func dur(name string, p func(c *Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := parseDuration(v)
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration (examples: 30m, 12h, 3y)", name, v)
		}
		*p(c) = d
		return nil
	}
}

// parseDuration accepts Go durations plus whole days (d) and years (y).
func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "y": 365 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			i, err := strconv.Atoi(n)
			if err != nil || i < 0 {
				return 0, fmt.Errorf("bad duration")
			}
			return time.Duration(i) * unit, nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration")
	}
	return d, nil
}

var settings = []setting{
	{"data-dir", "VIGIE_DATA_DIR", "./vigie-data", "directory for the embedded database, bus storage, blobs and keys",
		str(func(c *Config) *string { return &c.DataDir })},
	{"addr", "VIGIE_ADDR", "127.0.0.1:8080", "address to listen on",
		str(func(c *Config) *string { return &c.Addr })},
	{"database-url", "VIGIE_DATABASE_URL", "", "postgres://… for PostgreSQL; empty: SQLite file <data-dir>/vigie.db",
		str(func(c *Config) *string { return &c.DatabaseURL })},
	{"nats-url", "VIGIE_NATS_URL", "", "nats://… of an external NATS JetStream cluster; empty: embedded server",
		str(func(c *Config) *string { return &c.NATSURL })},
	{"blob-dir", "VIGIE_BLOB_DIR", "", "directory for stored files; empty: <data-dir>/blobs",
		str(func(c *Config) *string { return &c.BlobDir })},
	{"tls-cert", "VIGIE_TLS_CERT", "", "PEM certificate file: serve HTTPS (with --tls-key)",
		str(func(c *Config) *string { return &c.TLSCert })},
	{"tls-key", "VIGIE_TLS_KEY", "", "PEM private key file for --tls-cert",
		str(func(c *Config) *string { return &c.TLSKey })},
	{"base-url", "VIGIE_BASE_URL", "", "public URL of this deployment (for links and OIDC redirects); empty: derived from --addr",
		str(func(c *Config) *string { return &c.BaseURL })},
	{"log-level", "VIGIE_LOG_LEVEL", "info", "debug, info, warn or error",
		str(func(c *Config) *string { return &c.LogLevel })},
	{"log-format", "VIGIE_LOG_FORMAT", "json", "json or text",
		str(func(c *Config) *string { return &c.LogFormat })},
	{"demo", "VIGIE_DEMO", "false", "seed demo data for the 12 pilot départements on first start (refused on real data)",
		func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("demo: %q is not true or false", v)
			}
			c.Demo = b
			return nil
		}},
	{"trusted-proxies", "VIGIE_TRUSTED_PROXIES", "", "comma-separated networks of reverse proxies whose X-Forwarded-For is believed",
		str(func(c *Config) *string { return &c.TrustedProxies })},
	{"session-idle", "VIGIE_SESSION_IDLE", "30m", "staff sessions end after this long without activity",
		dur("session-idle", func(c *Config) *time.Duration { return &c.SessionIdle })},
	{"session-max", "VIGIE_SESSION_MAX", "12h", "sessions end this long after sign-in, whatever the activity",
		dur("session-max", func(c *Config) *time.Duration { return &c.SessionMax })},
	{"journal-retention", "VIGIE_JOURNAL_RETENTION", "3y", "how long consultation journal entries are kept",
		dur("journal-retention", func(c *Config) *time.Duration { return &c.JournalKeep })},
	{"journal-checkpoint", "VIGIE_JOURNAL_CHECKPOINT", "1m", "how often the journal's Merkle root is signed",
		dur("journal-checkpoint", func(c *Config) *time.Duration { return &c.CheckpointEach })},
	{"oidc-issuer", "VIGIE_OIDC_ISSUER", "", "OpenID Connect issuer URL for agents' sign-in (Keycloak, ProConnect); empty: off",
		str(func(c *Config) *string { return &c.OIDCIssuer })},
	{"oidc-client-id", "VIGIE_OIDC_CLIENT_ID", "", "OpenID Connect client id",
		str(func(c *Config) *string { return &c.OIDCClientID })},
	{"oidc-client-secret", "VIGIE_OIDC_CLIENT_SECRET", "", "OpenID Connect client secret (never logged)",
		str(func(c *Config) *string { return &c.OIDCSecret })},
	{"franceconnect-issuer", "VIGIE_FRANCECONNECT_ISSUER", "", "FranceConnect (OpenID Connect) issuer URL for citizens' sign-in; empty: off",
		str(func(c *Config) *string { return &c.FranceConnectIssuer })},
	{"franceconnect-client-id", "VIGIE_FRANCECONNECT_CLIENT_ID", "", "FranceConnect client id",
		str(func(c *Config) *string { return &c.FranceConnectClientID })},
	{"franceconnect-client-secret", "VIGIE_FRANCECONNECT_CLIENT_SECRET", "", "FranceConnect client secret (never logged)",
		str(func(c *Config) *string { return &c.FranceConnectSecret })},
	{"smtp-addr", "VIGIE_SMTP_ADDR", "", "host:port of the SMTP server for e-mail notifications; empty: e-mail stays queued",
		str(func(c *Config) *string { return &c.SMTPAddr })},
	{"smtp-from", "VIGIE_SMTP_FROM", "Vigie <no-reply@localhost>", "sender of e-mail notifications (its domain names the Message-IDs)",
		str(func(c *Config) *string { return &c.SMTPFrom })},
	{"smtp-user", "VIGIE_SMTP_USER", "", "SMTP user name (PLAIN authentication, over TLS only)",
		str(func(c *Config) *string { return &c.SMTPUser })},
	{"smtp-password", "VIGIE_SMTP_PASSWORD", "", "SMTP password (never logged)",
		str(func(c *Config) *string { return &c.SMTPPassword })},
	{"smtp-tls", "VIGIE_SMTP_TLS", "auto", "auto (STARTTLS when offered), starttls (required), tls (port 465) or none",
		str(func(c *Config) *string { return &c.SMTPTLS })},
	{"smtp-hello", "VIGIE_SMTP_HELLO", "localhost", "name given in the SMTP EHLO",
		str(func(c *Config) *string { return &c.SMTPHello })},
	{"smtp-insecure-skip-verify", "VIGIE_SMTP_INSECURE_SKIP_VERIFY", "false", "accept any certificate from the SMTP server (an internal relay with a self-signed one; never on the Internet)",
		func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("smtp-insecure-skip-verify: %q is not true or false", v)
			}
			c.SMTPInsecure = b
			return nil
		}},
	{"shield-account-lock", "VIGIE_SHIELD_ACCOUNT_LOCK", "30m", "how long an account attacked from several addresses is locked (0: alert only)",
		dur("shield-account-lock", func(c *Config) *time.Duration { return &c.ShieldAccountLock })},
	{"waf-paranoia", "VIGIE_WAF_PARANOIA", "1", "paranoia level of the web application firewall (OWASP CRS), 1 to 4",
		num("waf-paranoia", func(c *Config) *int { return &c.WAFParanoia })},
	{"waf-threshold", "VIGIE_WAF_THRESHOLD", "5", "anomaly score at which the firewall blocks a request",
		num("waf-threshold", func(c *Config) *int { return &c.WAFThreshold })},
	{"waf-mode", "VIGIE_WAF_MODE", "block", "block, or detect (report only, while tuning; never unprotected by accident)",
		str(func(c *Config) *string { return &c.WAFMode })},
	{"shield-allow", "VIGIE_SHIELD_ALLOW", "", "comma-separated addresses and networks never banned (loopback and trusted proxies always are)",
		str(func(c *Config) *string { return &c.ShieldAllow })},
}

// parseConfig reads the environment, then the flags of fs (args), into a
// Config. Only the settings named in keep are registered as flags (every
// subcommand takes the settings it uses); nil means all.
func parseConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	vals := map[string]*string{}
	bools := map[string]*bool{}
	for _, s := range settings {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		if s.def == "false" || s.def == "true" {
			// Boolean settings are boolean flags: "--demo" alone means true.
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not true or false", s.env, v)
			}
			bools[s.flag] = fs.Bool(s.flag, b, s.help+" ("+s.env+")")
			continue
		}
		vals[s.flag] = fs.String(s.flag, v, s.help+" ("+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, s := range settings {
		v, ok := vals[s.flag]
		if !ok {
			v = new(string)
			*v = strconv.FormatBool(*bools[s.flag])
		}
		if err := s.set(c, *v); err != nil {
			return nil, err
		}
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("data-dir must not be empty")
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "vigie.db")
	}
	if c.BlobDir == "" {
		c.BlobDir = filepath.Join(c.DataDir, "blobs")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("tls-cert and tls-key go together: give both or neither")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log-level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return fmt.Errorf("log-format: %q is not json or text", c.LogFormat)
	}
	if _, err := c.proxies(); err != nil {
		return err
	}
	if c.SessionIdle <= 0 || c.SessionMax <= 0 {
		return fmt.Errorf("session-idle and session-max must be positive")
	}
	if c.JournalKeep < 24*time.Hour {
		return fmt.Errorf("journal-retention: %s is too short (at least 1d)", c.JournalKeep)
	}
	if _, err := shield.ParseAllowList(c.ShieldAllow); err != nil {
		return fmt.Errorf("shield-allow: %s", vigie.MessageOf(err))
	}
	if c.SMTPFrom == "" {
		c.SMTPFrom = "Vigie <no-reply@localhost>"
	}
	if c.SMTPHello == "" {
		c.SMTPHello = "localhost"
	}
	switch c.SMTPTLS {
	case "":
		c.SMTPTLS = "auto"
	case "auto", "starttls", "tls", "none":
	default:
		return fmt.Errorf("smtp-tls: %q is not one of auto, starttls, tls, none", c.SMTPTLS)
	}
	switch c.WAFMode {
	case "":
		c.WAFMode = "block"
	case "block", "detect":
	default:
		return fmt.Errorf("waf-mode: %q is not block or detect", c.WAFMode)
	}
	if c.WAFParanoia == 0 {
		c.WAFParanoia = 1
	}
	if c.WAFThreshold == 0 {
		c.WAFThreshold = 5
	}
	if c.WAFParanoia < 1 || c.WAFParanoia > 4 {
		return fmt.Errorf("waf-paranoia: %d is not between 1 and 4", c.WAFParanoia)
	}
	if c.WAFThreshold < 1 {
		return fmt.Errorf("waf-threshold: %d must be at least 1", c.WAFThreshold)
	}
	if c.FranceConnectIssuer != "" && c.FranceConnectClientID == "" {
		return fmt.Errorf("franceconnect-issuer is set but franceconnect-client-id is empty")
	}
	if c.OIDCIssuer != "" && c.OIDCClientID == "" {
		return fmt.Errorf("oidc-issuer is set but oidc-client-id is empty")
	}
	if c.BaseURL == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.BaseURL = scheme + "://" + c.Addr
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return nil
}

func (c *Config) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, fmt.Errorf("trusted-proxies: %q is not a network (example: 10.0.0.0/8)", p)
			}
			pre = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, pre)
	}
	return out, nil
}

// checkDataDir makes sure the data directory exists and is writable, with a
// clear message when it is not.
func checkDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("the data directory %s cannot be created: %v", dir, err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("the data directory %s is not writable: %v", dir, err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}
