package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"vigie"
)

// Message is an e-mail to send.
type Message struct {
	To, Subject, Text string
	HTML              string // optional alternative to Text
	Attachments       []Attachment
}

// Attachment is a file attached to a message (a PDF receipt).
type Attachment struct {
	Name, Type string
	Data       []byte
}

// Bounds of what Enqueue accepts: messages are notifications, not archives.
const (
	maxSubject     = 250
	maxBody        = 1 << 20
	maxAttachments = 10 << 20
)

// ValidAddress reports, as a KindInvalid error with a message for the user,
// whether Enqueue can send to addr: one address (a display name is
// allowed), no line breaks, an ASCII local part, a domain that IDNA
// accepts. Forms that collect an address check it with this, so that the
// mistake is shown next to the field rather than when the mail is queued.
func ValidAddress(addr string) error {
	_, err := (&Message{To: addr}).recipient()
	return err
}

// recipient parses and checks the To address.
func (m *Message) recipient() (*mail.Address, error) {
	const op = "mail.Enqueue"
	to, err := mail.ParseAddress(strings.TrimSpace(m.To))
	if err != nil || strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(to.Address, " ,;<>\"") {
		return nil, vigie.Invalidf(op, "The e-mail address is not valid.")
	}
	if to.Address, err = asciiAddress(to.Address); err != nil {
		return nil, vigie.Invalidf(op, "The e-mail address is not valid.")
	}
	return to, nil
}

// validate checks a message before it is queued. SECURITY: the recipient
// must be one plain address and the subject one line: no header injection
// (a CR or LF in either would add headers or recipients).
func (m *Message) validate() (to *mail.Address, err error) {
	const op = "mail.Enqueue"
	if to, err = m.recipient(); err != nil {
		return nil, err
	}
	switch {
	case strings.ContainsAny(m.Subject, "\r\n"), strings.TrimSpace(m.Subject) == "",
		utf8.RuneCountInString(m.Subject) > maxSubject, !utf8.ValidString(m.Subject):
		return nil, vigie.E(vigie.KindInvalid, op, "", fmt.Errorf("mail: subject must be one line of 1 to %d characters", maxSubject))
	case m.Text == "":
		return nil, vigie.E(vigie.KindInvalid, op, "", fmt.Errorf("mail: a message needs a text body"))
	case len(m.Text) > maxBody || len(m.HTML) > maxBody:
		return nil, vigie.E(vigie.KindInvalid, op, "", fmt.Errorf("mail: body over %d bytes", maxBody))
	case !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML):
		return nil, vigie.E(vigie.KindInvalid, op, "", fmt.Errorf("mail: body is not UTF-8"))
	}
	total := 0
	for _, a := range m.Attachments {
		total += len(a.Data)
		if a.Name == "" || strings.ContainsAny(a.Name, "\r\n\x00/\\") {
			return nil, vigie.E(vigie.KindInvalid, op, "", fmt.Errorf("mail: attachment name %q", a.Name))
		}
		if _, _, err := mime.ParseMediaType(a.Type); err != nil {
			return nil, vigie.E(vigie.KindInvalid, op, "", fmt.Errorf("mail: attachment type %q: %w", a.Type, err))
		}
	}
	if total > maxAttachments {
		return nil, vigie.E(vigie.KindInvalid, op, "", fmt.Errorf("mail: attachments over %d bytes", maxAttachments))
	}
	return to, nil
}

// asciiAddress returns addr with its domain in ASCII (IDNA: "société.fr"
// becomes "xn--socit-esab.fr"). A local part outside ASCII would need
// SMTPUTF8, which relays do not all offer: it is refused.
func asciiAddress(addr string) (string, error) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return "", fmt.Errorf("mail: address without domain")
	}
	local, domain := addr[:i], addr[i+1:]
	for j := 0; j < len(local); j++ {
		if local[j] >= utf8.RuneSelf {
			return "", fmt.Errorf("mail: local part outside ASCII")
		}
	}
	d, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", err
	}
	return local + "@" + d, nil
}

// newMessageID returns a globally unique Message-ID (without the angle
// brackets) in the domain of the sender.
func newMessageID(from *mail.Address, now time.Time) string {
	b := make([]byte, 12)
	rand.Read(b)
	domain := "vigie.invalid"
	if i := strings.LastIndexByte(from.Address, '@'); i >= 0 && i < len(from.Address)-1 {
		domain = from.Address[i+1:]
	}
	return fmt.Sprintf("%d.%s@%s", now.UnixMilli(), hex.EncodeToString(b), domain)
}

// build renders msg as an RFC 5322 message in 7 bits: encoded-word
// (RFC 2047) subject and display names, quoted-printable text and HTML,
// base64 attachments, CRLF line ends. Its structure is
//
//	text only:                text/plain
//	text and HTML:            multipart/alternative
//	with attachments:         multipart/mixed (body part, then the files)
func build(from, to *mail.Address, msg Message, messageID string, date time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", msg.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+messageID+">")
	header("MIME-Version", "1.0")
	// RFC 3834: automatic notifications; no vacation replies, please.
	header("Auto-Submitted", "auto-generated")

	if len(msg.Attachments) == 0 {
		if err := writeBody(&b, msg); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	header("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	var part bytes.Buffer
	if err := writeBody(&part, msg); err != nil {
		return nil, err
	}
	// The body part carries its own headers (written by writeBody).
	ph, rest, _ := bytes.Cut(part.Bytes(), []byte("\r\n\r\n"))
	w, err := mw.CreatePart(parseHeader(ph))
	if err != nil {
		return nil, err
	}
	w.Write(rest)
	for _, a := range msg.Attachments {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", a.Type)
		h.Set("Content-Transfer-Encoding", "base64")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, err
		}
		writeBase64(w, a.Data)
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeBody writes the Content-Type header(s), a blank line and the text
// (and HTML) body: the end of a message, or a part of its own.
func writeBody(b *bytes.Buffer, msg Message) error {
	if msg.HTML == "" {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		return writeQP(b, msg.Text)
	}
	mw := multipart.NewWriter(b)
	b.WriteString("Content-Type: " + mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}) + "\r\n\r\n")
	for _, p := range []struct{ typ, body string }{{"text/plain; charset=utf-8", msg.Text}, {"text/html; charset=utf-8", msg.HTML}} {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", p.typ)
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		var part bytes.Buffer
		if err := writeQP(&part, p.body); err != nil {
			return err
		}
		w.Write(part.Bytes())
	}
	return mw.Close()
}

// writeQP writes s quoted-printable with CRLF line ends.
func writeQP(b *bytes.Buffer, s string) error {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	qp := quotedprintable.NewWriter(b)
	// quotedprintable turns "\n" into CRLF when it is not in binary mode.
	if _, err := qp.Write([]byte(s)); err != nil {
		return err
	}
	return qp.Close()
}

// writeBase64 writes data in base64, 76 characters a line.
func writeBase64(w interface{ Write([]byte) (int, error) }, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	w.Write([]byte(enc + "\r\n"))
}

func parseHeader(raw []byte) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			h.Set(k, v)
		}
	}
	return h
}
