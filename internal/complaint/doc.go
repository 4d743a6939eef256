// Package complaint is online filing of complaints (plainte en ligne): the
// citizen's guided complaint, its receipt, its tracking page, and the
// brigade's queue and delays dashboard (issue 3, the complaint part; the
// case file it becomes belongs to internal/casefile).
//
// # The citizen's side
//
// A citizen (role citizen) answers a guided form, one step per page, in
// plain French (complaint.go: Form, the steps, and the validation of each
// answer with a message for its own field): eligibility first (an
// emergency is sent to 17/112; a known author or violence against persons
// needs a hearing in person), what happened (category, narrative), where
// (commune with suggestions, or a position typed or clicked on the
// server-drawn map of the département's communes, placemap.go; online
// offences may have no place), when (a time window; impossible windows are refused), who was
// harmed, typed items (phone with IMEI, vehicle with plate and VIN, card,
// object with serial number), the money trail of scams (IBAN checked by
// internal/casefile/ident, amounts, dates, website, the scammer's phone and
// e-mail), witnesses and evidence files (internal/blob). The draft is saved
// server-side at every step, answers as typed, so a refused answer is shown
// again with its message and nothing is lost. Card numbers are never
// stored: they are reduced to a masked form and a keyed hash on arrival.
//
// Submission (Service.Submit) is one transaction: number (PL-2026-01-000123,
// dense per département and year), complaint row, files, timeline, the
// IndexIdentifiers hook, a pending "receipt" line in the timeline, journal
// entry (vigie.ActCollect) and the complaint.submitted event; the draft is
// deleted in the same transaction. The receipt e-mail with the PDF attached
// follows (receiptmail.go, Service.RunReceipts, a worker wired by main):
// the PDF is built outside the write lock, then one transaction marks the
// line "sent" and queues the e-mail (internal/mail); a crash in between
// leaves the line pending and the sweep at start sends it, once. Routing: the brigade whose territory holds the
// place (internal/org); online complaints with no place, and communes in no
// brigade's territory, go to the unit the département designates
// (complaint_settings), its groupement by default.
//
// The receipt (receipt.go) is shown on screen, e-mailed and offered as a
// PDF (go-pdf/fpdf) with a QR code (boombuler/barcode) of the public page
// /verify/{code}. The code is 100 random bits: unguessable; the page
// confirms number, date, category and receiving unit, and nothing else.
//
// The tracking page shows the steps (received, being processed,
// information requested, appointment proposed, registered, forwarded,
// closed, rejected), the brigade's messages; the citizen replies, adds
// information (identifiers in it are indexed too) or evidence, and books or
// moves an appointment among the slots the brigade publishes.
//
// # The brigade's side
//
// The queue (queue.go) lists the complaints of the units the actor's role
// reaches (the agent's brigade; a commander's subtree), with no personal
// data, filtered by step, category and age, sorted by age, priority or
// category, each with its age against the deadlines (taken in hand within
// 48 hours, decided within 15 days: AckWithin, DecideWithin). Opening a
// complaint is a consultation of personal data: the motif gate asks why
// and the journal records it (vigie.ActConsult). Actions (actions.go):
// claim, assign, transfer (to any unit of the département; another
// département needs the right to write there), request information,
// propose an appointment, reject with a reason, accept (the OpenCase hook
// opens the case file in the same transaction), message, and confirm or
// correct the triage suggestion (the Suggest hook; the correction is kept
// on the complaint and published as complaint.triaged for retraining).
// Each action is journaled (vigie.ActChange) and, when the citizen sees
// it, e-mailed. The page also lists the other complaints and cases that
// share an identifier (the Links hook, served by internal/casefile's index
// with the case page's scope rules: out of scope, the holding unit and an
// access request form posting to /cases/access with from_complaint). The case file moves the citizen's step afterwards through
// Service.SetStep (forwarded, closed).
//
// The delays dashboard (delays.go, vigie.PermStats) gives, per brigade,
// compagnie and département of the reader's scope, the median times to
// acknowledge, to first action and to close, the backlog, the late ones,
// and the monthly trend as an inline SVG chart.
//
// # Tables (migration 00007_complaint)
//
// complaint_drafts, complaints (the validated form as JSON in data; the
// columns that queues and dashboards query), complaint_events (timeline),
// complaint_files, complaint_slots, complaint_numbers (counters),
// complaint_settings (designated unit per département). Migration
// 00014_hearing adds hearing_requests and complaint_slots.hearing_id: the
// hearings in person booked from the eligibility step (hearing.go). Drafts untouched
// for 90 days are purged (PurgeDrafts, a daily worker wired by main).
//
// # Routes (handlers.go, queue.go, delays.go, api.go)
//
// Public: GET /verify, GET /verify/{code}. Citizen: GET /complaints,
// POST /complaint-drafts, GET|POST /complaint-drafts/{id}/{step},
// POST /complaint-drafts/{id}/delete, GET /complaints/{id} (also the agent's
// page), GET /complaints/{id}/receipt, GET /complaints/{id}/receipt.pdf,
// POST /complaints/{id}/reply, POST /complaints/{id}/files,
// POST /complaints/{id}/book, GET|POST /complaint-drafts/{id}/hearing
// (book a hearing in person), POST /hearings/{id}/cancel (citizen),
// GET /hearings/{id} (the brigade, motif gate),
// GET /complaints/{id}/files/{sha}, and
// GET /complaints/communes?q= (JSON suggestions). Staff: GET
// /complaints/queue, POST /complaints/{id}/act, GET|POST /complaints/slots,
// GET /complaints/delays; administrators: GET|POST /complaints/settings
// (the designated unit per département). API: GET /api/v1/complaints,
// GET /api/v1/complaints/{id}, POST /api/v1/complaints/{id}/actions,
// GET /api/v1/verify/{code}.
//
// # Events (area "complaint", vigie.<dept>.complaint.<event>)
//
// complaint.submitted, .assigned, .transferred, .info_requested,
// .appointment_proposed, .appointment_booked, .rejected, .accepted,
// .triaged, .message, .replied, .step. The payload carries no personal
// data: id, number, département, unit, step, category, priority, dates.
package complaint
