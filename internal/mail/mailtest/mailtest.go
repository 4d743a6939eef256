// Package mailtest starts a real SMTP server (github.com/emersion/go-smtp)
// inside a test, records what it receives, and can refuse on demand, so
// that tests of e-mail go through a real SMTP conversation, never a mock.
// It is imported by tests only.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is a message the server accepted.
type Received struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool   // the conversation was protected by TLS
	AuthUser string // the user that authenticated, if any
}

// Server is a running SMTP server.
type Server struct {
	Addr string
	// ClientTLS trusts the server's certificate (with WithTLS).
	ClientTLS *tls.Config

	srv  *smtp.Server
	mu   sync.Mutex
	got  []Received
	cond chan struct{} // closed and replaced at each message

	refuseData []int // codes answered to the next DATA commands
	dropData   int   // next DATA commands answered by hanging up
	refuseRcpt map[string]int
	user, pass string
	implicit   bool
}

// Option configures Start.
type Option func(*Server, *smtp.Server)

// WithTLS offers STARTTLS with a fresh self-signed certificate for
// 127.0.0.1; the client trusts it through Server.ClientTLS.
func WithTLS() Option {
	return func(s *Server, srv *smtp.Server) {
		cert, pool := selfSigned()
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.ClientTLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	}
}

// WithImplicitTLS speaks TLS from the first byte (as on port 465), with a
// fresh self-signed certificate that Server.ClientTLS trusts.
func WithImplicitTLS() Option {
	return func(s *Server, srv *smtp.Server) {
		WithTLS()(s, srv)
		s.implicit = true
	}
}

// WithAuth requires PLAIN authentication with these credentials.
// go-smtp offers AUTH only over TLS unless WithInsecureAuth is also given.
func WithAuth(user, pass string) Option {
	return func(s *Server, srv *smtp.Server) { s.user, s.pass = user, pass }
}

// WithInsecureAuth offers AUTH without TLS.
func WithInsecureAuth() Option {
	return func(s *Server, srv *smtp.Server) { srv.AllowInsecureAuth = true }
}

// Start starts a server on 127.0.0.1, stopped when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{cond: make(chan struct{}), refuseRcpt: map[string]int{}}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 32 << 20
	srv.ErrorLog = quiet{} // clients that hang up are what tests do
	for _, o := range opts {
		o(s, srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	if s.implicit {
		l = tls.NewListener(l, srv.TLSConfig)
	}
	s.srv = srv
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// RefuseData makes the server answer the next DATA commands with these
// codes (4xx: try later; 5xx: never), one per message.
func (s *Server) RefuseData(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseData = append(s.refuseData, codes...)
}

// DropData makes the server hang up, without accepting, on the next n
// messages (a crash or a network cut in the middle of a conversation).
func (s *Server) DropData(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropData += n
}

// RefuseRcpt makes the server refuse a recipient with code.
func (s *Server) RefuseRcpt(addr string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseRcpt[strings.ToLower(addr)] = code
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

// Wait returns the messages once there are at least n, failing the test
// after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got, ch := append([]Received(nil), s.got...), s.cond
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("mailtest: %d messages received, want %d", len(got), n)
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: b.s, conn: c, tls: isTLS}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != ss.s.user || pass != ss.s.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	code := ss.s.refuseRcpt[strings.ToLower(to)]
	ss.s.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "<" + to + ">: mailbox refused"} // as real servers quote it
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.dropData > 0 {
		ss.s.dropData--
		ss.conn.Conn().Close()
		return errors.New("mailtest: connection dropped")
	}
	if len(ss.s.refuseData) > 0 {
		code := ss.s.refuseData[0]
		ss.s.refuseData = ss.s.refuseData[1:]
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 3, 0}, Message: "refused by the test"}
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.s.got = append(ss.s.got, Received{From: ss.from, To: ss.to, Data: b, TLS: isTLS || ss.tls, AuthUser: ss.user})
	close(ss.s.cond)
	ss.s.cond = make(chan struct{})
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// Message parses the received message.
func (r Received) Message() (*mail.Message, error) {
	return mail.ReadMessage(bytes.NewReader(r.Data))
}

// Subject returns the decoded subject.
func (r Received) Subject() string {
	m, err := r.Message()
	if err != nil {
		return ""
	}
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return ""
	}
	return s
}

// Part is a leaf of a MIME message, decoded.
type Part struct {
	Type     string // media type, lower case
	Filename string
	Body     []byte
}

// Parts returns the leaves of the message in order, their bodies decoded
// (quoted-printable, base64).
func (r Received) Parts() ([]Part, error) {
	m, err := r.Message()
	if err != nil {
		return nil, err
	}
	var out []Part
	err = walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body, &out)
	return out, err
}

// Text returns the decoded text/plain body.
func (r Received) Text() string {
	parts, _ := r.Parts()
	for _, p := range parts {
		if p.Type == "text/plain" && p.Filename == "" {
			return string(p.Body)
		}
	}
	return ""
}

func walk(ctype, cte, disposition string, body io.Reader, out *[]Part) error {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p, out); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(cte) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64Reader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	p := Part{Type: mt, Body: b}
	if disposition != "" {
		if _, dp, err := mime.ParseMediaType(disposition); err == nil {
			p.Filename = dp["filename"]
		}
	}
	*out = append(*out, p)
	return nil
}

func selfSigned() (tls.Certificate, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// base64Reader decodes base64 (the decoder skips the CRLF line ends).
func base64Reader(r io.Reader) io.Reader { return base64.NewDecoder(base64.StdEncoding, r) }

type quiet struct{}

func (quiet) Printf(string, ...interface{}) {}
func (quiet) Println(...interface{})        {}
