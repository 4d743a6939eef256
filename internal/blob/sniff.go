package blob

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"
)

// MIME types Put recognises from content.
const (
	TypePDF       = "application/pdf"
	TypeJPEG      = "image/jpeg"
	TypePNG       = "image/png"
	TypeHEIC      = "image/heic"
	TypeHEIF      = "image/heif"
	TypeWebP      = "image/webp"
	TypeMP4       = "video/mp4"
	TypeQuickTime = "video/quicktime"
	TypeMP3       = "audio/mpeg"
	TypeM4A       = "audio/mp4"
	TypeText      = "text/plain"
	TypeDOCX      = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeODT       = "application/vnd.oasis.opendocument.text"
	TypeZip       = "application/zip"
	// Recognised by the standard library's sniffer, not in DefaultAllowed:
	// a caller may allow them (voice messages are often Ogg/Opus).
	TypeGIF  = "image/gif"
	TypeBMP  = "image/bmp"
	TypeOgg  = "application/ogg"
	TypeWAV  = "audio/wave"
	TypeWebM = "video/webm"
	TypeAVIF = "image/avif"

	// typeExecutable marks programs and scripts: always refused.
	typeExecutable = "application/x-executable"
	// typeUnknown is what no rule recognised: refused.
	typeUnknown = "application/octet-stream"
)

// DefaultAllowed are the types a citizen may send as evidence: documents,
// photos, videos, sounds and text. Generic zip archives are recognised but
// not in this list (they hide their content from the checks).
var DefaultAllowed = []string{TypePDF, TypeJPEG, TypePNG, TypeHEIC, TypeHEIF, TypeWebP, TypeMP4,
	TypeQuickTime, TypeMP3, TypeM4A, TypeText, TypeDOCX, TypeODT}

// extensions lists, for each type, the file name extensions that may carry
// it. A name whose extension is not listed for the content's type lies
// about the content (a ".pdf" that is a program) and is refused.
var extensions = map[string][]string{
	TypePDF:       {".pdf"},
	TypeJPEG:      {".jpg", ".jpeg", ".jpe", ".jfif"},
	TypePNG:       {".png"},
	TypeHEIC:      {".heic", ".heif", ".hif"},
	TypeHEIF:      {".heif", ".heic", ".hif"},
	TypeWebP:      {".webp"},
	TypeMP4:       {".mp4", ".m4v"},
	TypeQuickTime: {".mov", ".qt"},
	TypeMP3:       {".mp3"},
	TypeM4A:       {".m4a", ".mp4"},
	TypeText:      {".txt", ".text", ".log", ".csv", ".md"},
	TypeDOCX:      {".docx"},
	TypeODT:       {".odt"},
	TypeZip:       {".zip"},
	TypeGIF:       {".gif"},
	TypeBMP:       {".bmp"},
	TypeOgg:       {".ogg", ".oga", ".opus", ".ogv"},
	TypeWAV:       {".wav"},
	TypeWebM:      {".webm"},
	TypeAVIF:      {".avif"},
}

// executableExt are extensions of programs and scripts that run when
// opened on a common system, whatever the content: refused even when the
// content looks harmless, and inside documents.
var executableExt = map[string]bool{
	".exe": true, ".com": true, ".bat": true, ".cmd": true, ".scr": true, ".pif": true, ".msi": true,
	".msp": true, ".cpl": true, ".dll": true, ".sys": true, ".lnk": true, ".ps1": true, ".psm1": true,
	".vbs": true, ".vbe": true, ".js": true, ".jse": true, ".wsf": true, ".wsh": true, ".hta": true,
	".jar": true, ".apk": true, ".app": true, ".dmg": true, ".pkg": true, ".deb": true, ".rpm": true,
	".sh": true, ".bash": true, ".zsh": true, ".csh": true, ".ksh": true, ".py": true, ".pl": true,
	".rb": true, ".php": true, ".elf": true, ".run": true, ".so": true, ".dylib": true, ".class": true,
	".wasm": true, ".reg": true, ".scf": true, ".desktop": true, ".appimage": true, ".xpi": true,
	".crx": true, ".docm": true, ".xlsm": true, ".pptm": true,
}

// headSize is how much of the start of a file the sniffer reads.
const headSize = 8 << 10

// Sniff returns the MIME type of content from its first bytes (up to 8 KiB
// are used). Zip-based documents (DOCX, ODT) need the whole file to be told
// apart from other archives: Sniff returns TypeZip for them, and sniffZip
// refines it once the file is complete. Programs and scripts, in any
// format, are typeExecutable.
func Sniff(head []byte) string {
	if len(head) > headSize {
		head = head[:headSize]
	}
	switch {
	case len(head) == 0:
		return typeUnknown
	case isExecutable(head):
		return typeExecutable
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return TypePDF
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	case len(head) >= 12 && bytes.Equal(head[0:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return TypeWebP
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return TypeZip
	}
	if t := sniffISOBMFF(head); t != "" {
		return t
	}
	if isMP3(head) {
		return TypeMP3
	}
	if isText(head) {
		// The standard library tells HTML, XML and scripts-in-markup from
		// plain text; those are refused as not allowed (they run in a
		// browser), never stored as text.
		if t := http.DetectContentType(head); !strings.HasPrefix(t, "text/plain") {
			return strings.TrimSpace(strings.SplitN(t, ";", 2)[0])
		}
		return TypeText
	}
	// Fall back on the standard library for the rest (GIF, archives,
	// fonts...): recognised, but not in DefaultAllowed.
	t := http.DetectContentType(head)
	return strings.TrimSpace(strings.SplitN(t, ";", 2)[0])
}

// isExecutable recognises native programs and scripts by their magic
// numbers: ELF, Windows PE ("MZ"), Mach-O (both byte orders, fat),
// WebAssembly, Dalvik, Java class files, shebang scripts, Windows
// shortcuts.
func isExecutable(head []byte) bool {
	magics := [][]byte{
		[]byte("\x7fELF"),
		{0xFE, 0xED, 0xFA, 0xCE}, {0xFE, 0xED, 0xFA, 0xCF},
		{0xCE, 0xFA, 0xED, 0xFE}, {0xCF, 0xFA, 0xED, 0xFE},
		{0xCA, 0xFE, 0xBA, 0xBE}, // Mach-O fat binary and Java class file
		[]byte("\x00asm"),
		[]byte("dex\n"),
		[]byte("#!"),
		{0x4C, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00}, // .lnk
	}
	for _, m := range magics {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	// DOS and Windows programs start with "MZ" and a binary header; a text
	// that happens to start with the two letters is still text.
	if bytes.HasPrefix(head, []byte("MZ")) && (len(head) < 64 || !isText(head)) {
		return true
	}
	// A byte-order mark before a shebang still runs on some systems.
	return bytes.HasPrefix(head, []byte("\xEF\xBB\xBF#!"))
}

// sniffISOBMFF reads the "ftyp" box of ISO base media files (MP4, M4A,
// QuickTime, HEIC/HEIF) and maps its brands to a type.
func sniffISOBMFF(head []byte) string {
	if len(head) < 12 || !bytes.Equal(head[4:8], []byte("ftyp")) {
		return ""
	}
	size := int(head[0])<<24 | int(head[1])<<16 | int(head[2])<<8 | int(head[3])
	if size < 16 || size > 4096 {
		size = 16
	}
	if size > len(head) {
		size = len(head)
	}
	brands := []string{string(head[8:12])}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(head[i:i+4]))
	}
	var heic, heif, avif, m4a, qt, mp4 bool
	for _, b := range brands {
		switch b {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs":
			heic = true
		case "mif1", "msf1":
			heif = true
		case "avif", "avis":
			avif = true
		case "M4A ", "M4B ", "M4P ":
			m4a = true
		case "qt  ":
			qt = true
		case "isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "M4V ", "M4VH", "M4VP",
			"dash", "3gp4", "3gp5", "3gp6", "3g2a", "MSNV", "NDAS", "f4v ", "mmp4":
			mp4 = true
		}
	}
	// The major brand decides first, then the compatible ones.
	switch major := brands[0]; {
	case avif:
		return TypeAVIF
	case heic || (heif && major != "isom"):
		if heic {
			return TypeHEIC
		}
		return TypeHEIF
	case major == "qt  ":
		return TypeQuickTime
	case m4a:
		return TypeM4A
	case mp4:
		return TypeMP4
	case qt:
		return TypeQuickTime
	}
	return ""
}

// isMP3 recognises an ID3v2 tag or an MPEG audio frame header (layer III)
// with valid bit rate and sampling frequency fields.
func isMP3(head []byte) bool {
	if bytes.HasPrefix(head, []byte("ID3")) && len(head) >= 10 && head[3] < 0xFF && head[4] < 0xFF {
		return true
	}
	if len(head) < 4 || head[0] != 0xFF || head[1]&0xE0 != 0xE0 {
		return false
	}
	version := (head[1] >> 3) & 0x03 // 01 is reserved
	layer := (head[1] >> 1) & 0x03   // 01 is layer III
	bitrate := head[2] >> 4          // 0000 free, 1111 bad
	freq := (head[2] >> 2) & 0x03    // 11 reserved
	return version != 1 && layer == 1 && bitrate != 0 && bitrate != 0x0F && freq != 3
}

// isText reports whether head is UTF-8 text without control characters
// other than tab, new line, carriage return and form feed. The last bytes
// may be a character cut by the end of the head.
func isText(head []byte) bool {
	b := head
	if bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		b = b[3:]
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7F {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			// Only a character cut by the end of a full head is forgiven.
			return len(head) == headSize && !utf8.FullRune(b[i:])
		}
		i += n
	}
	return true
}

// sniffZip tells DOCX and ODT documents from other zip archives, and finds
// programs packaged as archives (Java, Android, browser extensions). ra
// holds the whole file.
func sniffZip(ra io.ReaderAt, size int64) string {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return typeUnknown
	}
	var docx, odt bool
	for _, f := range zr.File {
		name := path.Clean(strings.ReplaceAll(f.Name, "\\", "/"))
		switch {
		case name == "META-INF/MANIFEST.MF", name == "AndroidManifest.xml", name == "classes.dex",
			name == "manifest.json" && hasEntry(zr, "background.js"):
			return typeExecutable
		case strings.HasPrefix(name, "word/vbaProject"):
			return typeExecutable // macros
		case name == "word/document.xml":
			docx = true
		case name == "mimetype":
			if f.Method == zip.Store && f.UncompressedSize64 < 100 {
				rc, err := f.Open()
				if err == nil {
					b, _ := io.ReadAll(io.LimitReader(rc, 100))
					rc.Close()
					odt = strings.TrimSpace(string(b)) == TypeODT
				}
			}
		}
		// Programs hidden in the document are refused as well.
		if executableExt[strings.ToLower(path.Ext(name))] {
			return typeExecutable
		}
	}
	switch {
	case docx && hasEntry(zr, "[Content_Types].xml"):
		return TypeDOCX
	case odt && hasEntry(zr, "content.xml"):
		return TypeODT
	}
	return TypeZip
}

func hasEntry(zr *zip.Reader, name string) bool {
	for _, f := range zr.File {
		if f.Name == name {
			return true
		}
	}
	return false
}

// extOK reports whether the extension of name may carry content of type
// typ. A name without extension takes the content's type.
func extOK(name, typ string) bool {
	ext := strings.ToLower(path.Ext(name))
	if ext == "" {
		return true
	}
	for _, e := range extensions[typ] {
		if e == ext {
			return true
		}
	}
	return false
}
