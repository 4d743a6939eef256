package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"vigie/internal/db"
)

// Problems that Verify reports.
const (
	ProblemAltered    = "altered"    // an entry's content no longer matches its hash
	ProblemMissing    = "missing"    // an entry was removed (gap in seq)
	ProblemReordered  = "reordered"  // an entry is not where it was written
	ProblemChain      = "chain"      // an entry does not link to the one before it
	ProblemCheckpoint = "checkpoint" // a signed tree head does not match, or its signature is bad
	ProblemAnchor     = "anchor"     // the purge anchor is not signed by the journal's key
)

// Report is the outcome of a verification. Message names the first problem
// found (its seq and what is wrong), in English; the page translates it.
type Report struct {
	OK          bool          `json:"ok"`
	At          time.Time     `json:"at"`
	Entries     int64         `json:"entries"`     // entries checked
	Checkpoints int64         `json:"checkpoints"` // checkpoints checked
	AnchorSeq   int64         `json:"anchor_seq"`  // verification started after this seq (purged before)
	LastSeq     int64         `json:"last_seq"`
	BadSeq      int64         `json:"bad_seq,omitempty"` // first entry (or checkpoint size) at fault
	Problem     string        `json:"problem,omitempty"`
	Message     string        `json:"message"`
	Duration    time.Duration `json:"duration_ns"`
}

func (r *Report) fail(problem string, seq int64, format string, args ...any) {
	r.OK, r.Problem, r.BadSeq, r.Message = false, problem, seq, fmt.Sprintf(format, args...)
}

// errStop ends a walk early once a problem is reported.
var errStop = errors.New("stop")

// walkState is the result of walking the journal up to some seq.
type walkState struct {
	rng  *compact.Range
	last []byte // hash of the last entry checked
}

// walk checks entries (anchor, to] (to <= 0: all), every checkpoint in that
// range, and the anchor. It fills rep; a problem is not an error.
func (j *Journal) walk(ctx context.Context, to int64, progress func(done, total int64), rep *Report) (*walkState, error) {
	rep.OK = true
	a, err := readAnchor(ctx, j.db)
	if err != nil {
		return nil, err
	}
	rng := rangeFactory.NewEmptyRange(0)
	prev := zeroHash
	if a != nil {
		rep.AnchorSeq = a.Seq
		if a.KeyID != j.keyID || !ed25519.Verify(j.pub, anchorMessage(a), a.Sig) {
			rep.fail(ProblemAnchor, a.Seq, "The purge anchor at entry %d is not signed by the journal's key.", a.Seq)
			return nil, nil
		}
		if rng, err = rangeFactory.NewRange(0, uint64(a.Seq), a.rangeHashes); err != nil {
			rep.fail(ProblemAnchor, a.Seq, "The purge anchor at entry %d is malformed.", a.Seq)
			return nil, nil
		}
		prev = a.Hash
	}
	head, _, err := readHead(ctx, j.db)
	if err != nil {
		return nil, err
	}
	if to <= 0 || to > head {
		to = head
	}
	total := to - rep.AnchorSeq
	expect := rep.AnchorSeq + 1
	rep.LastSeq = rep.AnchorSeq

	// Checkpoints come in batches beside the entries, by size.
	var cps []*Checkpoint
	cpAfter := rep.AnchorSeq - 1 // a checkpoint at the anchor itself is checked too
	if cpAfter < 0 {
		cpAfter = 0
	}
	nextCP := func() (*Checkpoint, error) {
		if len(cps) == 0 {
			var err error
			if cps, err = checkpointsAfter(ctx, j.db, cpAfter, 1000); err != nil || len(cps) == 0 {
				return nil, err
			}
			cpAfter = cps[len(cps)-1].Size
		}
		return cps[0], nil
	}
	checkCPs := func(size int64) error {
		for {
			cp, err := nextCP()
			if err != nil || cp == nil || cp.Size > size {
				return err
			}
			cps = cps[1:]
			if cp.Size < size { // only possible at the anchor: older checkpoints are purged
				continue
			}
			if !j.verifyCheckpoint(cp) {
				rep.fail(ProblemCheckpoint, cp.Size, "The signature of the checkpoint of %d entries is not valid.", cp.Size)
				return errStop
			}
			root, err := rng.GetRootHash(nil)
			if err != nil {
				return err
			}
			if !bytes.Equal(root, cp.Root) {
				rep.fail(ProblemCheckpoint, cp.Size, "The journal does not match the signed checkpoint of %d entries: an entry at or before %d was changed and the chain rewritten.", cp.Size, cp.Size)
				return errStop
			}
			rep.Checkpoints++
		}
	}
	if rep.AnchorSeq > 0 {
		if err := checkCPs(rep.AnchorSeq); err != nil {
			return nil, ignoreStop(err)
		}
	}

	var buf []byte
	err = pipeEntries(ctx, j.db, rep.AnchorSeq, to, func(e *Entry) error {
		if e.Seq != expect {
			rep.fail(ProblemMissing, expect, "Entry %d is missing: the journal goes from entry %d to entry %d.", expect, expect-1, e.Seq)
			return errStop
		}
		var sum [32]byte
		sum, buf = e.computeHash(buf)
		hashOK, linkOK := bytes.Equal(sum[:], e.Hash), bytes.Equal(e.PrevHash, prev)
		if !hashOK || !linkOK {
			return j.classify(ctx, rep, e, prev, hashOK)
		}
		prev = e.Hash
		if err := rng.Append(leafHash(e.Hash), nil); err != nil {
			return err
		}
		rep.Entries++
		rep.LastSeq = e.Seq
		expect++
		if err := checkCPs(e.Seq); err != nil {
			return err
		}
		if progress != nil && rep.Entries%16384 == 0 {
			progress(rep.Entries, total)
		}
		return nil
	})
	if err != nil {
		return nil, ignoreStop(err)
	}
	if rep.OK && rep.LastSeq < to {
		rep.fail(ProblemMissing, rep.LastSeq+1, "Entry %d is missing: the journal ends at entry %d but recorded %d entries.", rep.LastSeq+1, rep.LastSeq, to)
	}
	// A signed checkpoint beyond the last entry proves that the tail was cut
	// (entries deleted and the head row rewound to hide it).
	if rep.OK && to == head {
		cp, err := nextCP()
		if err != nil {
			return nil, err
		}
		if cp != nil && cp.Size > rep.LastSeq && j.verifyCheckpoint(cp) {
			rep.fail(ProblemMissing, rep.LastSeq+1, "Entries %d to %d were removed: a signed checkpoint covers %d entries, the journal ends at %d.", rep.LastSeq+1, cp.Size, cp.Size, rep.LastSeq)
		}
	}
	if progress != nil {
		progress(rep.Entries, total)
	}
	return &walkState{rng: rng, last: prev}, nil
}

func ignoreStop(err error) error {
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// classify names what is wrong with entry e, whose hash or link to the
// entry before does not match. If the entry written after the previous one
// still exists elsewhere, entries were moved; otherwise e was altered or
// replaced.
func (j *Journal) classify(ctx context.Context, rep *Report, e *Entry, prev []byte, hashOK bool) error {
	succ, err := successorOf(ctx, j.db, prev)
	if err != nil {
		return err
	}
	switch {
	case succ != 0 && succ != e.Seq:
		rep.fail(ProblemReordered, e.Seq, "Entry %d is out of order: the entry written after entry %d is now at %d.", e.Seq, e.Seq-1, succ)
	case !hashOK:
		rep.fail(ProblemAltered, e.Seq, "Entry %d was altered: its content does not match its hash.", e.Seq)
	default:
		rep.fail(ProblemChain, e.Seq, "Entry %d does not follow entry %d: the chain is broken (an entry was removed or replaced).", e.Seq, e.Seq-1)
	}
	return errStop
}

// pipeEntries is streamEntries with the reading in its own goroutine, in
// batches: decoding rows and hashing them then use both cores, which is
// what brings a million entries under the verification budget.
func pipeEntries(ctx context.Context, d *db.DB, from, to int64, each func(*Entry) error) error {
	const batch = 512
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []Entry, 4)
	free := make(chan []Entry, 6)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		cur := make([]Entry, 0, batch)
		err := streamEntries(ctx, d, from, to, func(e *Entry) error {
			cur = append(cur, *e)
			if len(cur) == batch {
				select {
				case batches <- cur:
				case <-ctx.Done():
					return ctx.Err()
				}
				select {
				case cur = <-free:
					cur = cur[:0]
				default:
					cur = make([]Entry, 0, batch)
				}
			}
			return nil
		})
		if err == nil && len(cur) > 0 {
			select {
			case batches <- cur:
			case <-ctx.Done():
			}
		}
		readErr <- err
	}()
	for b := range batches {
		for i := range b {
			if err := each(&b[i]); err != nil {
				cancel()
				for range batches { // let the reader finish
				}
				<-readErr
				return err
			}
		}
		select {
		case free <- b:
		default:
		}
	}
	return <-readErr
}

// Verify reads the whole journal in seq order and checks every entry's
// hash, the chain, the signed checkpoints (Merkle roots recomputed at each
// checkpoint size) and the purge anchor. It reports the first problem; err
// is only for failures to read. progress (may be nil) is called every few
// thousand entries. The outcome is saved for the status page.
func (j *Journal) Verify(ctx context.Context, progress func(done, total int64)) (Report, error) {
	rep := Report{At: j.now().UTC()}
	start := time.Now()
	j.setVerifying(true, nil)
	defer func() { j.setVerifying(false, &rep) }()
	prog := func(done, total int64) {
		j.setProgress(done, total)
		if progress != nil {
			progress(done, total)
		}
	}
	if _, err := j.walk(ctx, 0, prog, &rep); err != nil {
		return rep, err
	}
	rep.Duration = time.Since(start)
	if rep.OK {
		rep.Message = fmt.Sprintf("The journal is intact: %d entries and %d checkpoints checked.", rep.Entries, rep.Checkpoints)
	}
	if err := insertVerification(ctx, j.db, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

func (j *Journal) setVerifying(on bool, r *Report) {
	j.vmu.Lock()
	defer j.vmu.Unlock()
	j.vrun = on
	if on {
		j.vdone, j.vtotal = 0, 0
	}
	if r != nil {
		j.vreport = r
	}
}

func (j *Journal) setProgress(done, total int64) {
	j.vmu.Lock()
	j.vdone, j.vtotal = done, total
	j.vmu.Unlock()
}

// Progress says whether this process is verifying the journal, and how far.
func (j *Journal) Progress() (running bool, done, total int64) {
	j.vmu.Lock()
	defer j.vmu.Unlock()
	return j.vrun, j.vdone, j.vtotal
}
