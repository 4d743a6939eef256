// Package bus carries Vigie's domain events: a transactional outbox in the
// database, a relay that moves it to NATS JetStream, and durable consumers.
// Events travel as CloudEvents 1.0 (structured JSON). It is shared
// machinery: it knows no area; areas give it events and handlers.
//
// # Producing: the transactional outbox
//
// An area writes its event in the same database transaction as the change
// it describes:
//
//	err := d.InTx(ctx, func(tx *db.Tx) error {
//		... insert the unit ...
//		return outbox.Enqueue(ctx, tx, bus.Event{Dept: "2A", Area: "org",
//			Type: "unit.created", Subject: id, Data: unit})
//	})
//
// The change and its event commit together or not at all: a rolled-back
// transaction publishes nothing, and a crash after commit loses nothing.
// outbox is the *Outbox that main builds with Relay.Outbox(): it wakes the
// relay when the transaction commits (tx.AfterCommit). The package function
// Enqueue does the same without the wake-up; the relay then finds the row at
// its next poll (200 ms). There is no package-level notifier: no globals.
//
// # Subjects and envelope
//
// Subjects are vigie.<dept>.<area>.<event>: "vigie.2A.org.unit.created",
// "vigie.national.auth.user.locked" (dept "national" when Event.Dept is
// empty). Area is one token and Type one or more dot-separated tokens of
// lower-case letters, digits, '-' and '_'; département codes are "01",
// "2A", "974". Anything else (wildcards, spaces, empty tokens) is refused
// with KindInvalid so that a subject never matches more than it says.
//
// The payload is a structured CloudEvent: specversion "1.0", a random
// UUIDv7 id, source "/vigie/<dept>/<area>", type
// "fr.gendarmerie.vigie.<area>.<event>", subject (the record, e.g. a unit
// id), time (RFC 3339, UTC, milliseconds), datacontenttype
// "application/json" and data. Consumers parse it with DecodeEvent, which
// refuses anything malformed (fuzzed).
//
// # Relaying: at least once, de-duplicated
//
// Relay.Run claims pending rows in id order (batches of 256), publishes
// them with the header Nats-Msg-Id = event id, waits for every PubAck, and
// only then sets sent_at. A crash between publish and mark leaves the rows
// pending: the next relay publishes them again and JetStream drops the
// copies, because it remembers each Nats-Msg-Id for 2 minutes (the
// stream's duplicate window). After a longer outage a copy may get through:
// delivery is at least once, never at most once, so every consumer must be
// idempotent (key its work by the event id).
//
// Several replicas may relay from one PostgreSQL database: each claims its
// rows with SELECT ... FOR UPDATE SKIP LOCKED and publishes inside that
// transaction, so no two relays hold the same row. Order is then kept
// within a batch, not across replicas. On SQLite there is one relay per
// database file; it reads and publishes outside any transaction (SQLite
// takes its write lock at BEGIN) and marks rows in a short one.
//
// A row the bus refuses backs off on its own (attempts, last_error,
// next_try_at: 1 s, 2 s, 4 s ... 5 min) without holding back the rows
// behind it; when the bus refuses a whole batch the relay itself backs off
// (up to 30 s). Relay.Flush publishes everything pending once more,
// ignoring back-off; main calls it at graceful shutdown. Sent rows are
// purged after 7 days. Metrics: vigie_outbox_pending,
// vigie_outbox_published_total, vigie_outbox_errors_total,
// vigie_outbox_lag_seconds.
//
// # The bus: embedded or external
//
// Open with an empty Config.URL runs a NATS server in this process with
// JetStream on local disk (Config.StoreDir), reached through an in-process
// connection: no TCP port unless Config.Listen names a loopback address
// (SECURITY: the embedded server has no authentication). With a URL it
// connects to an external server or cluster and reconnects for ever. Either
// way it ensures the stream "VIGIE" on "vigie.>": file storage, duplicate
// window 2 minutes, Config.Replicas copies.
//
// SECURITY/durability: the embedded server fsyncs every JetStream write
// before acknowledging it (SyncAlways). Jepsen's 2025 analysis of NATS
// JetStream showed acknowledged writes lost after simulated power failures
// with the default setting, which fsyncs only every 2 minutes; since the
// relay forgets an event once it is acknowledged, an acknowledgement must
// mean "on disk".
// Operators of an external server must set `jetstream { sync_interval:
// always }` in its configuration: a client cannot set it per stream (the
// stream is created with the default persist mode, never the asynchronous
// one). The price is one fsync per event: about 1,400 events/s on the
// development machine's disk, far above the pilot's needs.
//
// # Consuming
//
// Bus.Subscribe creates or resumes a durable pull consumer (its position
// survives restarts and is shared by replicas) and runs a Handler on one
// event at a time, in stream order. The event is acknowledged only when the
// handler returns nil; an error redelivers it with a growing delay (1 s to
// 5 min); a message that is not a valid CloudEvent is logged and
// terminated. Events published by this package are consumed by the journal
// (internal/audit) and analytics; this package itself publishes none.
//
// # Tables
//
// outbox (migration 00001) with next_try_at (migration 00005_bus).
package bus
