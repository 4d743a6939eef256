package blob

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie"
	"vigie/internal/web"
)

// Samples of real formats, built here.

func pngFile(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegFile(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const pdfFile = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

func zipFile(t testing.TB, entries ...[2]string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		method := zip.Deflate
		if e[0] == "mimetype" {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func docxFile(t testing.TB) []byte {
	return zipFile(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", "<w:document/>"})
}

func odtFile(t testing.TB) []byte {
	return zipFile(t, [2]string{"mimetype", TypeODT}, [2]string{"content.xml", "<office:document-content/>"})
}

// ftyp builds an ISO BMFF file start: an ftyp box with a major brand and
// compatible brands, then an empty mdat box.
func ftyp(major string, compat ...string) []byte {
	size := 16 + 4*len(compat)
	b := []byte{0, 0, 0, byte(size)}
	b = append(b, "ftyp"+major+"\x00\x00\x00\x00"...)
	for _, c := range compat {
		b = append(b, c...)
	}
	return append(b, 0, 0, 0, 8, 'm', 'd', 'a', 't')
}

func webpFile() []byte {
	return []byte("RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00\x30\x01\x00\x9d\x01\x2a\x01\x00\x01\x00\x02\x00\x34\x25")
}

func mp3File() []byte {
	// An MPEG-1 layer III frame header: 128 kbit/s, 44.1 kHz.
	return append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 413)...)
}

// elfFile returns the start of the running test binary: a real program.
func elfFile(t testing.TB) []byte {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 4096)
	n, _ := io.ReadFull(f, b)
	return b[:n]
}

func peFile() []byte {
	b := make([]byte, 256)
	copy(b, "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")
	b[0x3c] = 0x80
	copy(b[0x80:], "PE\x00\x00")
	return b
}

func refusal(err error) Reason {
	var r *Refused
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

func TestPut(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		file     string
		content  []byte
		lim      Limits
		wantType string
		want     Reason // "" accepted
	}{
		{"pdf", "plainte.pdf", []byte(pdfFile), Limits{}, TypePDF, ""},
		{"pdf in upper case", "PLAINTE.PDF", []byte(pdfFile), Limits{}, TypePDF, ""},
		{"png", "photo.png", pngFile(t), Limits{}, TypePNG, ""},
		{"jpeg", "photo.jpg", jpegFile(t), Limits{}, TypeJPEG, ""},
		{"jpeg named .jpeg", "photo.jpeg", jpegFile(t), Limits{}, TypeJPEG, ""},
		{"no extension takes the content's type", "photo", jpegFile(t), Limits{}, TypeJPEG, ""},
		{"heic", "IMG_0001.HEIC", ftyp("heic", "mif1", "heic"), Limits{}, TypeHEIC, ""},
		{"heif", "image.heif", ftyp("mif1", "mif1"), Limits{}, TypeHEIF, ""},
		{"avif is not heif", "image.avif", ftyp("avif", "mif1", "miaf"), Limits{}, "", NotAllowed},
		{"avif where allowed", "image.avif", ftyp("avif", "mif1", "miaf"), Limits{Allowed: []string{TypeAVIF}}, TypeAVIF, ""},
		{"webp", "capture.webp", webpFile(), Limits{}, TypeWebP, ""},
		{"mp4", "video.mp4", ftyp("isom", "isom", "iso2", "avc1", "mp41"), Limits{}, TypeMP4, ""},
		{"quicktime", "video.mov", ftyp("qt  ", "qt  "), Limits{}, TypeQuickTime, ""},
		{"m4a", "message.m4a", ftyp("M4A ", "M4A ", "mp42", "isom"), Limits{}, TypeM4A, ""},
		{"mp3 frame", "appel.mp3", mp3File(), Limits{}, TypeMP3, ""},
		{"mp3 id3", "appel.mp3", append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), mp3File()...), Limits{}, TypeMP3, ""},
		{"text", "sms.txt", []byte("Bonjour, votre colis est bloqué : payez 1,99 € ici.\n"), Limits{}, TypeText, ""},
		{"docx", "lettre.docx", docxFile(t), Limits{}, TypeDOCX, ""},
		{"odt", "lettre.odt", odtFile(t), Limits{}, TypeODT, ""},

		{"empty", "vide.pdf", nil, Limits{}, "", Empty},
		{"too big", "gros.pdf", []byte(pdfFile + strings.Repeat("x", 100)), Limits{MaxSize: 100}, "", TooBig},
		{"exactly the limit", "juste.pdf", []byte(pdfFile), Limits{MaxSize: int64(len(pdfFile))}, TypePDF, ""},
		{"elf named pdf", "facture.pdf", elfFile(t), Limits{}, "", Executable},
		{"pe named jpg", "photo.jpg", peFile(), Limits{}, "", Executable},
		{"script named txt", "notes.txt", []byte("#!/bin/sh\nrm -rf ~\n"), Limits{}, "", Executable},
		{"exe extension with text", "notes.exe", []byte("hello"), Limits{}, "", Executable},
		{"bat extension", "run.BAT", []byte("echo hello"), Limits{}, "", Executable},
		{"jar as zip", "app.zip", zipFile(t, [2]string{"META-INF/MANIFEST.MF", "Main-Class: X"}), Limits{Allowed: []string{TypeZip}}, "", Executable},
		{"docx with macros", "lettre.docx", zipFile(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", "<w/>"}, [2]string{"word/vbaProject.bin", "x"}), Limits{}, "", Executable},
		{"zip with a program", "photos.docx", zipFile(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", "<w/>"}, [2]string{"word/media/setup.exe", "MZ"}), Limits{}, "", Executable},
		{"png named pdf", "scan.pdf", pngFile(t), Limits{}, "", ExtMismatch},
		{"pdf named jpg", "photo.jpg", []byte(pdfFile), Limits{}, "", ExtMismatch},
		{"text named pdf", "faux.pdf", []byte("not a pdf"), Limits{}, "", ExtMismatch},
		{"html", "page.txt", []byte("<html><script>alert(1)</script></html>"), Limits{}, "", NotAllowed},
		{"svg", "image.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), Limits{}, "", ExtMismatch},
		{"plain zip", "archive.zip", zipFile(t, [2]string{"a.txt", "a"}), Limits{}, "", NotAllowed},
		{"gif", "anim.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), Limits{}, "", NotAllowed},
		{"gif where allowed", "anim.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), Limits{Allowed: []string{TypeGIF}}, TypeGIF, ""},
		{"opus voice message where allowed", "PTT-2026.opus", append([]byte("OggS\x00\x02"), make([]byte, 40)...), Limits{Allowed: []string{TypeOgg}}, TypeOgg, ""},
		{"wav where allowed", "appel.wav", append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 24)...), Limits{Allowed: []string{TypeWAV}}, TypeWAV, ""},
		{"binary noise", "data.txt", []byte{0, 1, 2, 3, 4, 5, 0xfe}, Limits{}, "", NotAllowed},
		{"pdf where only images are allowed", "scan.pdf", []byte(pdfFile), Limits{Allowed: []string{TypeJPEG, TypePNG}}, "", NotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			o, err := s.Put(ctx, tt.file, bytes.NewReader(tt.content), tt.lim)
			if tt.want != "" {
				if err == nil {
					t.Fatalf("Put accepted %s as %s, want refused (%s)", tt.file, o.Type, tt.want)
				}
				if got := refusal(err); got != tt.want {
					t.Fatalf("refusal = %q (%v), want %q", got, err, tt.want)
				}
				if vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "" {
					t.Fatalf("error %v: want KindInvalid with a message for the user", err)
				}
				if o.SHA256 != "" && s.Has(ctx, o.SHA256) {
					t.Fatalf("a refused file was kept")
				}
				// Nothing is left in tmp either.
				if left, _ := os.ReadDir(filepath.Join(s.Dir(), "tmp")); len(left) != 0 {
					t.Fatalf("%d temporary files left", len(left))
				}
				return
			}
			if err != nil {
				t.Fatalf("Put(%s): %v", tt.file, err)
			}
			sum := sha256.Sum256(tt.content)
			if o.SHA256 != hex.EncodeToString(sum[:]) || o.Size != int64(len(tt.content)) || o.Type != tt.wantType {
				t.Fatalf("got %+v, want sha %x size %d type %s", o, sum, len(tt.content), tt.wantType)
			}
			rc, err := s.Open(ctx, o.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, tt.content) {
				t.Fatalf("content read back differs")
			}
		})
	}
}

func TestStoreLayoutAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o, err := s.Put(ctx, "a.txt", strings.NewReader("hello"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// The same content twice is one file.
	o2, err := s.Put(ctx, "b.txt", strings.NewReader("hello"), Limits{})
	if err != nil || o2.SHA256 != o.SHA256 || o2.Name != "b.txt" {
		t.Fatalf("second put: %+v %v", o2, err)
	}
	p := filepath.Join(dir, o.SHA256[:2], o.SHA256[2:4], o.SHA256)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(dir)
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", di.Mode().Perm())
	}
	if ok, err := s.Verify(ctx, o.SHA256); !ok || err != nil {
		t.Errorf("Verify = %v, %v", ok, err)
	}
	// A file changed on disk fails verification.
	os.WriteFile(p, []byte("HELLO"), 0o600)
	if ok, _ := s.Verify(ctx, o.SHA256); ok {
		t.Errorf("Verify accepted a changed file")
	}
	for _, bad := range []string{"", "../../etc/passwd", strings.Repeat("A", 64), o.SHA256[:63]} {
		if _, err := s.Open(ctx, bad); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("Open(%q): %v, want not found", bad, err)
		}
	}
	if err := s.Delete(ctx, o.SHA256); err != nil || s.Has(ctx, o.SHA256) {
		t.Errorf("Delete: %v, still there: %v", err, s.Has(ctx, o.SHA256))
	}
	if err := s.Delete(ctx, o.SHA256); err != nil {
		t.Errorf("Delete of a missing object: %v", err)
	}
}

// failingReader delivers some bytes then fails, as a connection that drops
// in the middle of an upload (or a crash of the client).
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(f.n, len(p))
	for i := range k {
		p[i] = 'a'
	}
	f.n -= k
	return k, nil
}

func TestInterruptedUploadLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	_, err := s.Put(context.Background(), "long.txt", &failingReader{n: 100000}, Limits{})
	if vigie.KindOf(err) != vigie.KindInvalid {
		t.Fatalf("err = %v, want invalid (incomplete)", err)
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if d != nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Fatalf("files left after a failed upload: %v", files)
	}
	// A cancelled request stops the copy.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "a.txt", strings.NewReader("hello"), Limits{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled put: %v", err)
	}
}

func TestOpenRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	stale := filepath.Join(dir, "tmp", "put-crash")
	fresh := filepath.Join(dir, "tmp", "put-running")
	os.WriteFile(stale, []byte("half"), 0o600)
	os.WriteFile(fresh, []byte("half"), 0o600)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	if _, err := Open(s.Dir()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("temp file of an upload in progress removed (another replica may be writing it)")
	}
}

func TestCleanName(t *testing.T) {
	tests := map[string]string{
		"photo.jpg":                       "photo.jpg",
		"C:\\Users\\moi\\photo.jpg":       "photo.jpg",
		"../../etc/passwd":                "passwd",
		"..":                              "file",
		"":                                "file",
		".htaccess":                       "htaccess",
		"facture\u202Egpj.exe":            "facturegpj.exe",
		"a\x00b\r\nc.txt":                 "abc.txt",
		"relevé bancaire.pdf":             "relevé bancaire.pdf",
		"\"quoted\".pdf":                  "quoted.pdf",
		strings.Repeat("é", 150) + ".pdf": strings.Repeat("é", 98) + ".pdf",
	}
	for in, want := range tests {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServeAttachment(t *testing.T) {
	s, _ := Open(t.TempDir())
	ctx := context.Background()
	html := []byte("<html><script>alert(document.cookie)</script></html>")
	tests := []struct {
		name     string
		o        Object
		body     []byte
		seekable bool
		wantType string
	}{
		{"pdf from the store", Object{Name: "récépissé.pdf", Type: TypePDF}, []byte(pdfFile), true, TypePDF},
		{"text from a reader", Object{Name: "sms.txt", Type: TypeText}, []byte("bonjour"), false, "text/plain; charset=utf-8"},
		{"a type outside the list goes as bytes", Object{Name: "page.html", Type: "text/html"}, html, false, "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rc io.Reader = bytes.NewBuffer(tt.body)
			tt.o.Size = int64(len(tt.body))
			if tt.seekable {
				o, err := s.Put(ctx, tt.o.Name, bytes.NewReader(tt.body), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				tt.o = o
				f, err := s.Open(ctx, o.SHA256)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				rc = f
			}
			rec := httptest.NewRecorder()
			ServeAttachment(rec, httptest.NewRequest("GET", "/x", nil), rc, tt.o)
			res := rec.Result()
			h := res.Header
			if res.StatusCode != 200 || !bytes.Equal(rec.Body.Bytes(), tt.body) {
				t.Fatalf("status %d, body %q", res.StatusCode, rec.Body.String())
			}
			if got := h.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") {
				t.Errorf("Content-Disposition %q: must be an attachment", h.Get("Content-Disposition"))
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("missing nosniff or sandbox: %v", h)
			}
		})
	}
	// Non-ASCII names are encoded (RFC 2231), never raw in the header.
	rec := httptest.NewRecorder()
	ServeAttachment(rec, httptest.NewRequest("GET", "/x", nil), strings.NewReader("x"), Object{Name: "récépissé\".pdf", Type: TypePDF, Size: 1})
	if cd := rec.Header().Get("Content-Disposition"); cd != "attachment; filename*=utf-8''r%C3%A9c%C3%A9piss%C3%A9.pdf" {
		t.Errorf("Content-Disposition %q", cd)
	}
	// Ranges are served from a seekable file (videos).
	o, _ := s.Put(ctx, "v.txt", strings.NewReader("0123456789"), Limits{})
	f, _ := s.Open(ctx, o.SHA256)
	defer f.Close()
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("Range", "bytes=2-4")
	rec = httptest.NewRecorder()
	ServeAttachment(rec, req, f, o)
	if rec.Code != http.StatusPartialContent || rec.Body.String() != "234" {
		t.Errorf("range: %d %q", rec.Code, rec.Body.String())
	}
}

// TestMessagesTranslated: every sentence a refusal shows has its French.
func TestMessagesTranslated(t *testing.T) {
	if err := web.LoadMessages(Messages()); err != nil {
		t.Fatal(err)
	}
	for r, m := range messages {
		if !web.HasFrench(m) {
			t.Errorf("%s: no French for %q", r, m)
		}
	}
}

func FuzzSniff(f *testing.F) {
	f.Add([]byte(pdfFile))
	f.Add(pngFile(f))
	f.Add(jpegFile(f))
	f.Add(ftyp("heic", "mif1"))
	f.Add(ftyp("isom", "mp41"))
	f.Add(webpFile())
	f.Add(mp3File())
	f.Add([]byte("texte é à ç"))
	f.Add(peFile())
	f.Add(docxFile(f))
	f.Add([]byte{0xFF, 0xFB})
	f.Add([]byte{0, 0, 0, 0xFF, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c'})
	f.Fuzz(func(t *testing.T, b []byte) {
		typ := Sniff(b)
		if typ == "" {
			t.Fatalf("empty type for %q", b)
		}
		// A program is never given a type that Put accepts.
		if isExecutable(b) && typ != typeExecutable {
			t.Fatalf("executable sniffed as %s", typ)
		}
		if typ == TypeZip {
			sniffZip(bytes.NewReader(b), int64(len(b)))
		}
		// Sniffing is a function of the head only.
		if len(b) > headSize && Sniff(b[:headSize]) != typ {
			t.Fatalf("type depends on bytes past the head")
		}
	})
}
