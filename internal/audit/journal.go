package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"vigie"
	"vigie/internal/db"
)

// Journal appends to, checkpoints, verifies and purges the consultation
// journal. One Journal per process; several processes (replicas) may share
// one database.
type Journal struct {
	db    *db.DB
	key   ed25519.PrivateKey
	pub   ed25519.PublicKey
	keyID string
	log   *slog.Logger
	now   func() time.Time

	// head caches the last (seq, hash) this process saw committed. It is an
	// optimisation only: every append checks it against the audit_head row
	// in the same statement that locks that row, so a stale cache (another
	// replica appended) costs one extra query, never a broken chain.
	mu       sync.Mutex
	headSeq  int64
	headHash []byte

	// progress of the verification running in this process, for the page.
	vmu     sync.Mutex
	vrun    bool
	vdone   int64
	vtotal  int64
	vreport *Report
	bg      sync.WaitGroup // background verifications
}

// New returns the journal stored in d, signing checkpoints with key (see
// LoadOrCreateKey). log may be nil.
func New(d *db.DB, key ed25519.PrivateKey, log *slog.Logger) *Journal {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pub := key.Public().(ed25519.PublicKey)
	id := sha256.Sum256(pub)
	return &Journal{db: d, key: key, pub: pub, keyID: hex.EncodeToString(id[:8]), log: log, now: time.Now}
}

// PublicKey returns the key that verifies the checkpoints, for operators who
// keep a copy of it away from the server.
func (j *Journal) PublicKey() ed25519.PublicKey { return j.pub }

// Record appends r to the journal in the caller's transaction tx, so that
// the entry exists if and only if the action it records was committed. The
// actor and client come from ctx ("system" when nobody is signed in).
//
// Concurrency: the chain needs one writer at a time. On SQLite the write
// transaction already holds the database write lock (BEGIN IMMEDIATE). On
// PostgreSQL the append locks the one-row audit_head table until tx ends:
// every transaction that journals anything is serialized from its append to
// its commit. That is the price of a dense, hash-chained sequence across
// replicas; areas keep it small by journaling last, just before commit.
func (j *Journal) Record(ctx context.Context, tx *db.Tx, r vigie.Record) error {
	if err := checkRecord(r); err != nil {
		return err
	}
	e := newEntry(r, vigie.UserFrom(ctx), vigie.ClientFrom(ctx), j.now())
	if err := j.append(ctx, tx, &e); err != nil {
		return err
	}
	seq, hash := e.Seq, e.Hash
	tx.AfterCommit(func() { j.advance(seq, hash) })
	return nil
}

// RecordTx records r in a transaction of its own, for actions that write
// nothing else (a consultation, an export).
func (j *Journal) RecordTx(ctx context.Context, r vigie.Record) error {
	return j.db.InTx(ctx, func(tx *db.Tx) error { return j.Record(ctx, tx, r) })
}

// append chains e after the head and inserts it.
func (j *Journal) append(ctx context.Context, tx *db.Tx, e *Entry) error {
	var buf [512]byte
	seal := func(seq int64, prev []byte) {
		e.Seq, e.PrevHash = seq+1, prev
		sum, _ := e.computeHash(buf[:])
		e.Hash = sum[:]
	}
	if seq, prev, ok := j.cachedHead(); ok {
		seal(seq, prev)
		moved, err := advanceHeadIf(ctx, tx, seq, prev, e.Seq, e.Hash)
		if err != nil {
			return err
		}
		if moved {
			return insertEntry(ctx, tx, e)
		}
	}
	seq, prev, err := lockHead(ctx, tx)
	if err != nil {
		return err
	}
	seal(seq, prev)
	if err := setHead(ctx, tx, e.Seq, e.Hash); err != nil {
		return err
	}
	return insertEntry(ctx, tx, e)
}

func (j *Journal) cachedHead() (int64, []byte, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.headSeq, j.headHash, j.headHash != nil
}

// advance moves the cached head forward only: commit callbacks of
// concurrent transactions may run out of order.
func (j *Journal) advance(seq int64, hash []byte) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if seq > j.headSeq {
		j.headSeq, j.headHash = seq, hash
	}
}

// Head returns the last seq and hash of the journal.
func (j *Journal) Head(ctx context.Context) (int64, []byte, error) {
	return readHead(ctx, j.db)
}
