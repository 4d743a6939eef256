package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie"
)

// DefaultMaxSize bounds a file when Limits.MaxSize is 0: 20 MiB.
const DefaultMaxSize = 20 << 20

// Object describes a stored file.
type Object struct {
	SHA256 string `json:"sha256"` // hex, lower case: the address of the content
	Size   int64  `json:"size"`
	Type   string `json:"type"` // MIME type sniffed from the content, never taken from the client
	Name   string `json:"name"` // the name the user gave, cleaned (see CleanName)
}

// Limits bounds what Put accepts.
type Limits struct {
	MaxSize int64    // bytes; 0 means DefaultMaxSize
	Allowed []string // MIME types; empty means DefaultAllowed
}

// Reason says why Put refused a file.
type Reason string

const (
	Empty       Reason = "empty"
	TooBig      Reason = "too_big"
	Executable  Reason = "executable"
	NotAllowed  Reason = "not_allowed"
	ExtMismatch Reason = "extension_mismatch"
)

// Refused is the cause (Err) of the KindInvalid error Put returns for a file
// it refuses. The error's message is a fixed sentence, translated by the web
// layer; callers that want to say more (the limit, the type found) read
// this with errors.As.
type Refused struct {
	Reason Reason
	Limit  int64  // for TooBig: the limit in bytes
	Type   string // the type found in the content
	Ext    string // the extension of the name, lower case
}

func (r *Refused) Error() string {
	return fmt.Sprintf("blob refused: %s (type %q, extension %q, limit %d)", r.Reason, r.Type, r.Ext, r.Limit)
}

// The sentences users read (messages.fr.json translates them).
var messages = map[Reason]string{
	Empty:       "The file is empty.",
	TooBig:      "The file is too large.",
	Executable:  "This file is a program or a script: such files are never accepted.",
	NotAllowed:  "This type of file is not accepted here.",
	ExtMismatch: "The file name's extension does not match its content: a disguised file is refused.",
}

func refuse(r *Refused) error {
	return vigie.E(vigie.KindInvalid, "blob.Put", messages[r.Reason], r)
}

// Store keeps files under a directory, each under the hex SHA-256 of its
// content: <dir>/<2 hex>/<2 hex>/<64 hex>. Identical files are stored once.
//
// SECURITY: the directory is 0700 and files 0600: only the service's
// account reads them. A file is written to <dir>/tmp, fsynced, then renamed
// to its final name (and the directory fsynced), so a crash never leaves a
// partial file under a final name; leftovers in tmp are removed at Open.
type Store struct {
	dir string
	tmp string
}

// Open opens (creating it, mode 0700) a store under dir.
func Open(dir string) (*Store, error) {
	const op = "blob.Open"
	if dir == "" {
		return nil, vigie.E(vigie.KindInvalid, op, "No file storage directory given.", nil)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	s := &Store{dir: abs, tmp: filepath.Join(abs, "tmp")}
	if err := os.MkdirAll(s.tmp, 0o700); err != nil {
		return nil, vigie.E(vigie.KindUnavailable, op, "The file storage directory cannot be created.", err)
	}
	// Tighten a directory created by hand with looser permissions.
	for _, d := range []string{s.dir, s.tmp} {
		if err := os.Chmod(d, 0o700); err != nil {
			return nil, vigie.E(vigie.KindUnavailable, op, "The file storage directory's permissions cannot be set.", err)
		}
	}
	// Partial files of a previous run (crash during an upload).
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
			os.Remove(filepath.Join(s.tmp, e.Name()))
		}
	}
	return s, nil
}

// Dir returns the root directory of the store.
func (s *Store) Dir() string { return s.dir }

// Put stores the content read from r under its SHA-256 and returns what it
// found: size, type (from the content), cleaned name. It refuses, with a
// KindInvalid error whose cause is a *Refused: an empty file, a file larger
// than the limit (checked while reading: nothing more than MaxSize+1 bytes
// is read), a program or script (by content or by extension), a type not in
// lim.Allowed, and a name whose extension does not match the content.
// Nothing is kept of a refused file.
func (s *Store) Put(ctx context.Context, name string, r io.Reader, lim Limits) (Object, error) {
	const op = "blob.Put"
	max := lim.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	allowed := lim.Allowed
	if len(allowed) == 0 {
		allowed = DefaultAllowed
	}
	o := Object{Name: CleanName(name)}
	ext := strings.ToLower(filepath.Ext(o.Name))
	if executableExt[ext] {
		return o, refuse(&Refused{Reason: Executable, Ext: ext})
	}

	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return o, vigie.E(vigie.KindUnavailable, op, "The file could not be stored; please try again.", err)
	}
	tmp := f.Name()
	kept := false
	defer func() {
		if !kept {
			f.Close()
			os.Remove(tmp)
		}
	}()

	h := sha256.New()
	head := &headWriter{max: headSize}
	n, err := io.Copy(io.MultiWriter(f, h, head), io.LimitReader(ctxReader{ctx, r}, max+1))
	if err != nil {
		if ctx.Err() != nil {
			return o, ctx.Err()
		}
		return o, vigie.E(vigie.KindInvalid, op, "The file could not be received completely; please send it again.", err)
	}
	switch {
	case n == 0:
		return o, refuse(&Refused{Reason: Empty, Ext: ext})
	case n > max:
		return o, refuse(&Refused{Reason: TooBig, Limit: max, Ext: ext})
	}
	o.Size = n
	o.SHA256 = hex.EncodeToString(h.Sum(nil))
	o.Type = Sniff(head.b)
	if o.Type == TypeZip {
		o.Type = sniffZip(f, n)
	}
	switch {
	case o.Type == typeExecutable:
		return o, refuse(&Refused{Reason: Executable, Type: o.Type, Ext: ext})
	case !slices.Contains(allowed, o.Type):
		return o, refuse(&Refused{Reason: NotAllowed, Type: o.Type, Ext: ext})
	case !extOK(o.Name, o.Type):
		return o, refuse(&Refused{Reason: ExtMismatch, Type: o.Type, Ext: ext})
	}

	if err := f.Sync(); err != nil {
		return o, vigie.E(vigie.KindUnavailable, op, "The file could not be stored; please try again.", err)
	}
	if err := f.Close(); err != nil {
		return o, vigie.E(vigie.KindUnavailable, op, "The file could not be stored; please try again.", err)
	}
	final := s.path(o.SHA256)
	if _, err := os.Stat(final); err == nil {
		return o, nil // the same content is already stored: the temp file goes
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return o, vigie.E(vigie.KindUnavailable, op, "The file could not be stored; please try again.", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return o, vigie.E(vigie.KindUnavailable, op, "The file could not be stored; please try again.", err)
	}
	kept = true
	// The rename is durable once the directory entry is.
	if err := syncDir(filepath.Dir(final)); err != nil {
		return o, vigie.E(vigie.KindUnavailable, op, "The file could not be stored; please try again.", err)
	}
	return o, nil
}

// Open returns the content of the object with the given SHA-256.
func (s *Store) Open(ctx context.Context, sum string) (io.ReadCloser, error) {
	const op = "blob.Open"
	if !validSHA(sum) {
		return nil, vigie.E(vigie.KindNotFound, op, "Not found.", nil)
	}
	f, err := os.Open(s.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, vigie.E(vigie.KindNotFound, op, "Not found.", err)
	}
	if err != nil {
		return nil, vigie.E(vigie.KindUnavailable, op, "The file cannot be read right now.", err)
	}
	return f, nil
}

// Has reports whether the object is stored.
func (s *Store) Has(ctx context.Context, sum string) bool {
	if !validSHA(sum) {
		return false
	}
	_, err := os.Stat(s.path(sum))
	return err == nil
}

// Delete removes an object (erasure at the end of the retention period).
// Identical files share one object: the caller deletes it only when no
// record refers to that SHA-256 any more. Deleting a missing object is not
// an error.
func (s *Store) Delete(ctx context.Context, sum string) error {
	if !validSHA(sum) {
		return vigie.E(vigie.KindNotFound, "blob.Delete", "Not found.", nil)
	}
	err := os.Remove(s.path(sum))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob.Delete: %w", err)
	}
	return nil
}

// Verify re-reads an object and reports whether its content still has its
// SHA-256 (for backups and audits: a disk error, a file changed by hand).
func (s *Store) Verify(ctx context.Context, sum string) (bool, error) {
	rc, err := s.Open(ctx, sum)
	if err != nil {
		return false, err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, rc}); err != nil {
		return false, fmt.Errorf("blob.Verify: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)) == sum, nil
}

func (s *Store) path(sum string) string {
	return filepath.Join(s.dir, sum[0:2], sum[2:4], sum)
}

func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// CleanName returns a file name safe to keep and to offer for download: the
// last element of the path the client sent, without control characters,
// bidirectional overrides or leading dots, at most 200 bytes (extension
// kept), "file" when nothing is left.
func CleanName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "_")
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '"', r == ':', r == '*',
			r == '?', r == '<', r == '>', r == '|':
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	name = strings.TrimRight(name, ". ")
	if len(name) > 200 {
		ext := filepath.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		base := name[:200-len(ext)]
		for !utf8.ValidString(base) {
			base = base[:len(base)-1]
		}
		name = base + ext
	}
	if name == "" {
		return "file"
	}
	return name
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	b   []byte
	max int
}

func (h *headWriter) Write(p []byte) (int, error) {
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// ctxReader stops a long copy when the request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
