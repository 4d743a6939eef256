package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"vigie"
	"vigie/internal/db"
)

// The journal's entries are the leaves of an RFC 6962 Merkle tree (leaf i
// is the hash of entry seq i+1). A checkpoint is a signed tree head: tree
// size, root, time, ed25519 signature. An attacker who can write the
// database may rewrite the whole hash chain, but not sign a new root
// without the key file (SECURITY: keep the key out of database backups).

var hasher = rfc6962.DefaultHasher

var rangeFactory = &compact.RangeFactory{Hash: hasher.HashChildren}

// Checkpoint is a signed Merkle tree head.
type Checkpoint struct {
	Size  int64     `json:"size"`
	Root  []byte    `json:"root"`
	At    time.Time `json:"at"`
	KeyID string    `json:"key_id"`
	Sig   []byte    `json:"sig"`
	// hashes of the compact range [0, Size), to resume from.
	rangeHashes [][]byte
}

func checkpointMessage(size int64, root []byte, at time.Time) []byte {
	return []byte("vigie.audit.checkpoint.v1\n" + strconv.FormatInt(size, 10) + "\n" +
		hex.EncodeToString(root) + "\n" + strconv.FormatInt(at.UnixMilli(), 10) + "\n")
}

func anchorMessage(a *anchor) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "vigie.audit.anchor.v1\n%d\n%s\n%d\n%d\n", a.Seq, hex.EncodeToString(a.Hash), a.At.UnixMilli(), a.Before.UnixMilli())
	for _, h := range a.rangeHashes {
		b.WriteString(hex.EncodeToString(h))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func joinHashes(hs [][]byte) []byte {
	b := make([]byte, 0, 32*len(hs))
	for _, h := range hs {
		b = append(b, h...)
	}
	return b
}

func splitHashes(b []byte) ([][]byte, error) {
	if len(b)%32 != 0 {
		return nil, errors.New("range hashes are not a multiple of 32 bytes")
	}
	hs := make([][]byte, 0, len(b)/32)
	for i := 0; i < len(b); i += 32 {
		hs = append(hs, b[i:i+32:i+32])
	}
	return hs, nil
}

func leafHash(entryHash []byte) []byte { return hasher.HashLeaf(entryHash) }

// LoadOrCreateKey reads the ed25519 key that signs checkpoints from path
// (PKCS #8, PEM), creating it with mode 0600 when absent. It refuses a key
// file that others may read.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	const op = "audit.LoadOrCreateKey"
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, op, "Cannot read the journal signing key "+path+".", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, vigie.E(vigie.KindInvalid, op, fmt.Sprintf("The journal signing key %s may be read by other users (mode %v); run chmod 600 on it.", path, st.Mode().Perm()), nil)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, vigie.E(vigie.KindInvalid, op, "The journal signing key "+path+" is not a PEM private key.", nil)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, op, "The journal signing key "+path+" cannot be parsed.", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, vigie.E(vigie.KindInvalid, op, "The journal signing key "+path+" is not an ed25519 key.", nil)
	}
	return ek, nil
}

func createKey(path string) (ed25519.PrivateKey, error) {
	const op = "audit.LoadOrCreateKey"
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, vigie.E(vigie.KindInternal, op, "", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, vigie.E(vigie.KindInternal, op, "", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, vigie.E(vigie.KindInvalid, op, "Cannot create the directory of the journal signing key.", err)
	}
	// O_EXCL: two processes starting at once never overwrite each other's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, op, "Cannot create the journal signing key "+path+".", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, vigie.E(vigie.KindInternal, op, "", err)
	}
	if err := f.Close(); err != nil {
		return nil, vigie.E(vigie.KindInternal, op, "", err)
	}
	return k, nil
}

// RunCheckpoints writes a checkpoint every interval until ctx ends. main
// starts it in a goroutine; several replicas may run it (the first to write
// a given size wins, the others skip).
func (j *Journal) RunCheckpoints(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if cp, err := j.Checkpoint(ctx); err != nil {
			j.log.Error("audit: checkpoint failed", "err", err)
		} else if cp != nil {
			// SECURITY: the log line is a witness kept outside the database
			// (logs are shipped elsewhere): someone who deletes checkpoints
			// and rewrites the journal cannot recall what was logged.
			j.log.Info("audit: checkpoint signed", "size", cp.Size, "root", hex.EncodeToString(cp.Root),
				"key_id", cp.KeyID, "sig", hex.EncodeToString(cp.Sig))
		}
	}
}

// Checkpoint signs the current tree head when the journal grew since the
// last checkpoint; it returns nil when there was nothing new. It checks the
// chain of the entries it adds, so that it never signs a broken chain.
func (j *Journal) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	const op = "audit.Checkpoint"
	head, _, err := readHead(ctx, j.db)
	if err != nil {
		return nil, err
	}
	last, err := lastCheckpoint(ctx, j.db)
	if err != nil {
		return nil, err
	}
	a, err := readAnchor(ctx, j.db)
	if err != nil {
		return nil, err
	}
	var from int64
	var hashes [][]byte
	var prev []byte
	switch {
	case last != nil && (a == nil || last.Size >= a.Seq):
		from, hashes = last.Size, last.rangeHashes
	case a != nil:
		from, hashes, prev = a.Seq, a.rangeHashes, a.Hash
	}
	if head <= from {
		return nil, nil
	}
	rng, err := rangeFactory.NewRange(0, uint64(from), hashes)
	if err != nil {
		return nil, vigie.E(vigie.KindInternal, op, "", err)
	}
	if prev == nil && from > 0 {
		e, err := getEntry(ctx, j.db, from)
		if err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", op, from, err)
		}
		prev = e.Hash
	} else if prev == nil {
		prev = zeroHash
	}
	var buf []byte
	expect := from + 1
	err = streamEntries(ctx, j.db, from, head, func(e *Entry) error {
		var sum [32]byte
		sum, buf = e.computeHash(buf)
		if e.Seq != expect || string(sum[:]) != string(e.Hash) || string(e.PrevHash) != string(prev) {
			return vigie.E(vigie.KindConflict, op, fmt.Sprintf("The journal is broken at entry %d; no checkpoint was signed. Run a verification.", expect), nil)
		}
		expect++
		prev = e.Hash
		return rng.Append(leafHash(e.Hash), nil)
	})
	if err != nil {
		return nil, err
	}
	if expect != head+1 {
		return nil, vigie.E(vigie.KindConflict, op, fmt.Sprintf("The journal is broken at entry %d; no checkpoint was signed. Run a verification.", expect), nil)
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return nil, vigie.E(vigie.KindInternal, op, "", err)
	}
	cp := &Checkpoint{Size: head, Root: root, At: j.now().Truncate(time.Millisecond).UTC(), KeyID: j.keyID, rangeHashes: rng.Hashes()}
	cp.Sig = ed25519.Sign(j.key, checkpointMessage(cp.Size, cp.Root, cp.At))
	if err := insertCheckpoint(ctx, j.db, cp); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, nil // another replica signed this size first
		}
		return nil, err
	}
	return cp, nil
}

// verifyCheckpoint checks the signature of cp with the journal's key.
func (j *Journal) verifyCheckpoint(cp *Checkpoint) bool {
	return cp.KeyID == j.keyID && ed25519.Verify(j.pub, checkpointMessage(cp.Size, cp.Root, cp.At), cp.Sig)
}
