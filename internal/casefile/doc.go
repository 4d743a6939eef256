// Package casefile is the case-file area of Vigie: the dossier that a
// brigade opens when it accepts a citizen's complaint, and the index of
// identifiers that links complaints and cases across units and
// départements (issue 3, "From complaint to case file" and "Linked cases").
//
// # Case files
//
// A case (casefile.go) has a number (year, unit code, sequence:
// 2026-01053-000042), a holding unit, a status workflow (open →
// investigating → forwarded to the prosecutor | closed; forwarded → closed;
// the allowed moves are the table transitions, nothing else passes), the
// facts (category, time window, place), persons (victim, witness, suspect:
// personal data), items (phone with IMEI, vehicle with plate and VIN, card
// kept masked, object with serial number, money with amount, date and
// beneficiary IBAN), documents (in the blob store, served only as
// attachments), tasks with due dates and assignee, notes, and a timeline
// to which every change appends a line. OpenFromComplaint creates a case
// from an accepted complaint in the complaint area's transaction; reaching
// forwarded or closed calls Config.OnStatus in the same transaction so that
// the citizen's tracking page moves on. The PV de plainte draft (pv.go) is
// a PDF written from the case's data, marked BROUILLON on every page.
//
// # Authorization and journal
//
// Unlike internal/org, the Service checks the policy itself (every read
// vigie.PermRead, every change vigie.PermWrite, on the case's unit), so
// that pages, API and tools cannot forget it. Reading a case, one of its
// documents or its PV, and looking an identifier up, pass the motif gate
// (audit.RequireMotif) and are journaled as vigie.ActConsult with the
// motif; every change is journaled (collect for personal data entered,
// change otherwise) in its transaction, with its timeline line.
//
// # Linked identifiers and access requests
//
// ident_links maps (kind, canonical value) → source (complaint or case,
// département, unit). Links.Index is called by the complaint area at
// submission and by this package when a case, person, item or note is
// recorded (ident.Extract and ident.Normalize; a card's value is the keyed
// hash, never the number). A case page shows, per identifier, how many
// other complaints and cases mention it: records in the reader's scope are
// links; outside it, only the holding unit's name and a button to ask for
// access — never the content. The holding unit's OPJ or commander (policy
// write on that unit) approves a request (access.go), which gives the
// requester a read grant on that one record for 30 days through
// internal/auth's grants (Config.Grant), or refuses; all is journaled.
// The complaint area's page of a complaint shows the same list
// (Links.RelatedToComplaint, through its Links hook), and an agent may ask
// from a complaint not yet accepted (RequestAccessFromComplaint: the
// requester must read the complaint, whose current unit comes from
// Config.ComplaintTarget; the request's from_case is then 0).
//
// # Triage
//
// The sub-package triage suggests a category and a priority from the
// narrative (naive Bayes, explainable); the agent confirms or corrects on
// the case page and each correction is stored and learnt.
//
// Tables (migration 00008): case_seq, cases, case_parties, case_items,
// case_documents, case_tasks, case_notes, case_timeline, ident_links,
// access_requests, triage_corrections.
//
// Routes (handlers.go, api.go): GET /cases (the unit's list), GET
// /cases/{id} (motif gate), GET /cases/{id}/pv.pdf, GET
// /cases/{id}/documents/{doc}, form posts POST /cases/{id}/status,
// /parties, /items, /notes, /tasks, /tasks/{task}/done, /documents,
// /classify; GET /cases/links (search an identifier, motif gate); GET
// /cases/access, POST /cases/access, POST /cases/access/{id}/decide. JSON
// API: GET /api/v1/cases, GET /api/v1/cases/{id}, GET /api/v1/links?kind=&value=
// (motif in the query).
//
// Events (area "casefile", vigie.<dept>.casefile.<event>), enqueued in the
// transaction of the change: opened, status_changed. The payload is the
// recorded offence for analytics — number, unit, status, category,
// priority, time window, INSEE, latitude and longitude — and no personal
// data.
package casefile
