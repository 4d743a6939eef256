package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
)

// BenchmarkPut stores a 1 MiB PDF-like file (distinct content each time:
// no deduplication), fsync included.
func BenchmarkPut(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1<<20)
	copy(body, pdfFile)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rand.Read(body[len(pdfFile) : len(pdfFile)+32])
		if _, err := s.Put(context.Background(), "scan.pdf", bytes.NewReader(body), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSniff(b *testing.B) {
	head := jpegFile(b)
	for b.Loop() {
		Sniff(head)
	}
}
