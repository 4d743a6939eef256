package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf8"

	"vigie"
)

// Entry is one line of the journal as stored: the Record an area handed in,
// plus who, when, from where, and its place in the chain.
type Entry struct {
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	ActorID    int64     `json:"actor_id"`
	ActorLogin string    `json:"actor_login"`
	ActorRole  string    `json:"actor_role"`
	ActorUnit  int64     `json:"actor_unit"`
	ActorDept  string    `json:"actor_dept"`
	IP         string    `json:"ip"`
	RequestID  string    `json:"request_id"`
	Action     string    `json:"action"`
	Object     string    `json:"object"`
	ObjectID   string    `json:"object_id"`
	Dept       string    `json:"dept"`
	UnitID     int64     `json:"unit_id"`
	Motif      string    `json:"motif"`
	Detail     string    `json:"detail"`
	PrevHash   []byte    `json:"prev_hash"`
	Hash       []byte    `json:"hash"`
}

// SystemLogin is the actor recorded when no user is in the context (jobs,
// the checkpointer, the purge, command-line tools without a signed-in user).
const SystemLogin = "system"

// Limits keep one entry small: the journal is written on every read of
// personal data, so a runaway detail must not bloat it.
const (
	maxShort  = 200  // object, object id, login, motif...
	maxDetail = 2000 // detail
)

var actions = []string{vigie.ActCollect, vigie.ActConsult, vigie.ActChange, vigie.ActCommunicate, vigie.ActErase, vigie.ActAdmin, vigie.ActAuth}

// ValidAction reports whether a is one of the vigie.Act* constants.
func ValidAction(a string) bool {
	for _, x := range actions {
		if x == a {
			return true
		}
	}
	return false
}

// Actions lists the journal actions, in the order shown in search forms.
func Actions() []string { return append([]string(nil), actions...) }

// checkRecord validates what an area hands to the journal. ActConsult is by
// definition a read of personal data, which French law only allows for a
// stated reason: no motif, no entry — and since the entry is written in the
// caller's transaction, no read either.
func checkRecord(r vigie.Record) error {
	const op = "audit.Record"
	if !ValidAction(r.Action) {
		return vigie.Invalidf(op, "The journal action %q is unknown.", r.Action)
	}
	if strings.TrimSpace(r.Object) == "" {
		return vigie.Invalidf(op, "A journal entry must name the kind of record it is about.")
	}
	if r.Action == vigie.ActConsult && strings.TrimSpace(r.Motif) == "" {
		return vigie.Invalidf(op, "A reason (motif) is required to consult personal data.")
	}
	for _, s := range []string{r.Object, r.ObjectID, r.Dept, r.Motif} {
		if len(s) > maxShort || !utf8.ValidString(s) {
			return vigie.Invalidf(op, "A journal field is too long or not valid text.")
		}
	}
	if len(r.Detail) > maxDetail || !utf8.ValidString(r.Detail) {
		return vigie.Invalidf(op, "The journal detail is too long or not valid text.")
	}
	return nil
}

// newEntry fills the parts of an entry that come from the record and the
// context; seq, prev_hash and hash are set by the store under the head lock.
func newEntry(r vigie.Record, u *vigie.User, c vigie.Client, at time.Time) Entry {
	e := Entry{
		At:         at.Truncate(time.Millisecond).UTC(),
		ActorLogin: SystemLogin,
		IP:         clip(c.IP, maxShort),
		RequestID:  clip(c.RequestID, maxShort),
		Action:     r.Action,
		Object:     r.Object,
		ObjectID:   r.ObjectID,
		Dept:       r.Dept,
		UnitID:     r.UnitID,
		Motif:      r.Motif,
		Detail:     r.Detail,
	}
	if u != nil {
		e.ActorID, e.ActorLogin, e.ActorRole = u.ID, clip(u.Login, maxShort), string(u.Role)
		e.ActorUnit, e.ActorDept = u.UnitID, clip(u.Dept, maxShort)
	}
	return e
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// hashDomain starts every hashed encoding, so that an entry hash can never
// be confused with any other SHA-256 in the system (SECURITY).
const hashDomain = "vigie.audit.entry.v1"

// appendCanonical appends the canonical encoding of e (every field but Hash,
// then PrevHash): integers as 8 bytes big-endian, strings and bytes with a
// 4-byte length prefix. Length prefixes make the encoding injective: no two
// different entries encode to the same bytes, whatever their text holds.
func (e *Entry) appendCanonical(b []byte) []byte {
	str := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	num := func(n int64) { b = binary.BigEndian.AppendUint64(b, uint64(n)) }
	str(hashDomain)
	num(e.Seq)
	num(e.At.UnixMilli())
	num(e.ActorID)
	str(e.ActorLogin)
	str(e.ActorRole)
	num(e.ActorUnit)
	str(e.ActorDept)
	str(e.IP)
	str(e.RequestID)
	str(e.Action)
	str(e.Object)
	str(e.ObjectID)
	str(e.Dept)
	num(e.UnitID)
	str(e.Motif)
	str(e.Detail)
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.PrevHash)))
	return append(b, e.PrevHash...)
}

// computeHash returns SHA-256 of the canonical encoding, using buf as
// scratch space (verification hashes a million entries; no allocation each).
func (e *Entry) computeHash(buf []byte) (sum [32]byte, scratch []byte) {
	scratch = e.appendCanonical(buf[:0])
	return sha256.Sum256(scratch), scratch
}

// zeroHash is the prev_hash of entry 1.
var zeroHash = make([]byte, 32)
