package complaint

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/mail"
)

// The receipt e-mail, with the PDF receipt attached.
//
// Building the PDF takes a few milliseconds of CPU; inside the submission
// transaction it would hold SQLite's write lock that much longer for every
// citizen. So the submission writes, in its own transaction, a "receipt"
// line in the complaint's timeline (internal, text "pending"); once it has
// committed, a worker builds the PDF from the stored complaint and, in a
// second transaction, marks the line "sent" and queues the e-mail with its
// attachment (internal/mail). Hence:
//
//   - a receipt is never mailed for a complaint that does not exist: the
//     mail is queued only after the complaint committed;
//   - a complaint never goes without its receipt: a crash between the two
//     transactions leaves the line "pending", and the sweep at start (and
//     every minute over the recent complaints) sends it;
//   - a receipt is mailed once: the second transaction queues the mail only
//     if its UPDATE turned "pending" into "sent" (two replicas may race;
//     one wins).
//
// A message internal/mail refuses for good (an address it cannot write
// to) marks the line "failed" with the reason, for the agents to see.

const (
	receiptPending = "pending"
	receiptSent    = "sent"
	receiptFailed  = "failed"
	// receiptRecent is how many of the latest complaints the periodic sweep
	// looks at (the one at start looks at all).
	receiptRecent = 20000
	// receiptBatch is how many pending lines a sweep reads at a time.
	receiptBatch = 500
	// receiptTxBatch is how many receipts one transaction queues at most.
	receiptTxBatch = 32
)

// receiptJob is a receipt line waiting for its e-mail.
type receiptJob struct{ event, complaint int64 }

// queueReceipt writes the pending receipt line in the submission's
// transaction and hands it to the workers once committed.
func (s *Service) queueReceipt(ctx context.Context, tx *db.Tx, c *Complaint) error {
	if s.cfg.Mail == nil || c.OwnerID == 0 {
		return nil
	}
	ev := Event{ComplaintID: c.ID, At: c.SubmittedAt, Kind: "receipt", Text: receiptPending}
	if err := insertEvent(ctx, tx, &ev); err != nil {
		return fmt.Errorf("complaint: receipt line: %w", err)
	}
	job := receiptJob{event: ev.ID, complaint: c.ID}
	tx.AfterCommit(func() {
		select {
		case s.receipts <- job:
		default: // workers far behind, or not running: a sweep sends it
			for {
				m := s.missedUpTo.Load()
				if m >= job.event || s.missedUpTo.CompareAndSwap(m, job.event) {
					break
				}
			}
			select {
			case s.missed <- struct{}{}:
			default:
			}
		}
	})
	return nil
}

// receiptWorkers is how many receipts are built at once (CPU: ~4 ms each).
const receiptWorkers = 2

// RunReceipts sends the receipt e-mails until ctx ends: those of new
// submissions as they commit, those left pending by a crash at start, and
// a sweep of the recent complaints every minute (and as soon as the
// workers catch up after a burst that overflowed their queue).
func (s *Service) RunReceipts(ctx context.Context) {
	if s.cfg.Mail == nil {
		return
	}
	sweep := func(recent bool) {
		if _, err := s.SendPendingReceipts(ctx, recent); err != nil && ctx.Err() == nil {
			s.log.Error("complaint: pending receipts", "err", err)
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for range receiptWorkers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-s.receipts:
					// Take what else is waiting: one transaction for all.
					jobs := []receiptJob{j}
				more:
					for len(jobs) < receiptTxBatch {
						select {
						case j := <-s.receipts:
							jobs = append(jobs, j)
						default:
							break more
						}
					}
					if _, err := s.sendReceipts(ctx, jobs); err != nil && ctx.Err() == nil {
						s.log.Error("complaint: receipt e-mails", "complaints", len(jobs), "err", err)
					}
				}
			}
		})
	}
	sweep(false)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sweep(true)
		case <-s.missed:
			// Let the workers empty their queue first, so that the sweep
			// does not build the receipts they are about to build.
			// The receipts queued after the last one missed are theirs.
			upTo := s.missedUpTo.Load()
			for len(s.receipts) > 0 && ctx.Err() == nil {
				time.Sleep(50 * time.Millisecond)
			}
			if _, err := s.sendPending(ctx, true, upTo); err != nil && ctx.Err() == nil {
				s.log.Error("complaint: pending receipts", "err", err)
			}
		}
	}
}

// SendPendingReceipts sends the receipt e-mails still pending (of the
// latest complaints only, if recent) and returns how many it sent.
func (s *Service) SendPendingReceipts(ctx context.Context, recent bool) (int, error) {
	return s.sendPending(ctx, recent, 0)
}

// sendPending sends the pending receipts whose line's id is at most upTo
// (0: all).
func (s *Service) sendPending(ctx context.Context, recent bool, upTo int64) (int, error) {
	if upTo <= 0 {
		upTo = math.MaxInt64
	}
	total := 0
	for {
		n, more, err := s.sendPendingBatch(ctx, recent, upTo)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// sendPendingBatch sends up to receiptBatch pending receipts; more says a
// full batch was found.
func (s *Service) sendPendingBatch(ctx context.Context, recent bool, upTo int64) (n int, more bool, err error) {
	var from int64
	if recent {
		var max int64
		if err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM complaints`).Scan(&max); err != nil {
			return 0, false, err
		}
		from = max - receiptRecent
	}
	rows, err := s.db.Query(ctx, `SELECT id, complaint_id FROM complaint_events WHERE complaint_id > ? AND kind = 'receipt' AND text = ? AND id <= ? ORDER BY id LIMIT ?`, from, receiptPending, upTo, receiptBatch)
	if err != nil {
		return 0, false, err
	}
	var jobs []receiptJob
	for rows.Next() {
		var j receiptJob
		if err := rows.Scan(&j.event, &j.complaint); err != nil {
			rows.Close()
			return 0, false, err
		}
		jobs = append(jobs, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	for i := 0; i < len(jobs); i += receiptTxBatch {
		k, err := s.sendReceipts(ctx, jobs[i:min(i+receiptTxBatch, len(jobs))])
		n += k
		if err != nil {
			return n, false, err
		}
	}
	return n, len(jobs) == receiptBatch, nil
}

// sendReceipts builds the PDFs outside any transaction, then, in one,
// marks each line sent and queues its e-mail; it returns how many e-mails
// it queued. A message internal/mail refuses marks its line failed (the
// others go); any other error rolls back the lot, left pending.
func (s *Service) sendReceipts(ctx context.Context, jobs []receiptJob) (int, error) {
	type built struct {
		job receiptJob
		c   Complaint
		att mail.Attachment
	}
	var todo []built
	for _, j := range jobs {
		c, err := s.Get(ctx, j.complaint)
		if err != nil {
			return 0, err
		}
		pdf, err := s.ReceiptBytes(&c, s.receiptOf(ctx, &c).Unit)
		if err != nil {
			return 0, err
		}
		todo = append(todo, built{j, c, mail.Attachment{Name: "recepisse-" + c.Number + ".pdf", Type: "application/pdf", Data: pdf}})
	}
	if s.db.Dialect == db.SQLite {
		s.writes.Lock() // with the submissions: see Service.writes
		defer s.writes.Unlock()
	}
	var n int
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		n = 0
		for _, b := range todo {
			res, err := tx.Exec(ctx, `UPDATE complaint_events SET text = ? WHERE id = ? AND text = ?`, receiptSent, b.job.event, receiptPending)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil {
				return err
			} else if k != 1 {
				continue // sent already (another replica, or a sweep)
			}
			err = s.notify(ctx, tx, &b.c, "Your complaint was received", s.receiptText(&b.c), b.att)
			if vigie.KindOf(err) == vigie.KindInvalid {
				// Refused for good (internal/mail checks before writing
				// anything): say so on the line rather than retry.
				s.log.Warn("complaint: receipt e-mail refused", "complaint", b.c.ID, "err", err)
				msg := err.Error()
				if len(msg) > 200 {
					msg = strings.ToValidUTF8(msg[:200], "")
				}
				if _, err := tx.Exec(ctx, `UPDATE complaint_events SET text = ? WHERE id = ?`, receiptFailed+": "+msg, b.job.event); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
