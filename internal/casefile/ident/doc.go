// Package ident finds and normalises the identifiers that link cases: phone
// numbers, e-mail addresses, IBANs, French plates, IMEIs, payment cards, web
// addresses and domains. The same Value in two complaints or case files links
// them, across units and départements; this is how serial online scams are
// found (issue 3, "Linked cases").
//
// # Design
//
// Two entry points share the same rules. [Extractor.Normalize] checks a typed
// field (the IBAN of a beneficiary, the IMEI of a stolen phone) and says what
// is wrong in a message fit to show next to the field. [Extractor.Extract]
// reads free text (a narrative, a pasted scam e-mail) and returns what it
// finds with byte offsets, so that the page can highlight it. Every
// identifier that Extract returns is exactly what Normalize returns for the
// text at its offsets: one canonical form, whatever the source.
//
// Extraction favours precision: a false link between two citizens' cases
// costs an agent's time and exposes a stranger's case; a missed one is still
// found by the typed fields. So a candidate must pass its checksum (IBAN
// mod 97, Luhn for IMEIs and cards), its numbering plan (phone numbers are
// validated against libphonenumber's metadata) or its registry (plates, top
// level domains), and must stand as a whole word.
//
// Scanners run independently and each candidate carries a priority; where
// two overlap, the higher priority wins: a link over what it contains, an
// e-mail over its domain, an IBAN over its digits. Phone numbers, IMEIs and
// cards come from one scanner of digit runs that classifies each run once,
// card first, so a card number is never also a phone. Runs that are dates
// (12/03/2024), amounts (1 250,00 €), postcodes and SIRET numbers are not
// phones: a French number has ten digits starting with 0, and a foreign one
// is extracted only with its + or 00 prefix. A 14-digit run (a SIRET, most of
// the time) is never taken for a card in text, nor a 14- or 16-digit run for
// an IMEI unless the word IMEI stands just before it.
//
// Canonical forms: phones in E.164; e-mails in lower case with an ASCII
// (punycode) domain; IBANs compact in upper case; SIV plates AB-123-CD and
// FNI plates "1234 AB 56"; IMEIs as 15 digits (an IMEISV loses its software
// version, a 14-digit IMEI gains its check digit); URLs with the scheme and
// host in lower case, default ports, fragments and tracking parameters
// (utm_*, fbclid, gclid …) removed, the remaining parameters sorted and no
// trailing slash; domains as the registrable domain (eTLD+1 of the public
// suffix list). A URL yields its domain as a second identifier, so that two
// pages of one scam site link; the domain of an e-mail address does not
// (millions of citizens write from gmail.com).
//
// # Security
//
//   - Card numbers are never kept whole. Value is HMAC-SHA256 of the digits
//     under [Config.CardKey], a secret of the deployment: the same card links
//     two cases, but a copy of the database does not give the numbers. The
//     key must live apart from the database (configuration or a secret
//     store): with it, the 10^5 numbers that a masked 16-digit Display leaves
//     (six hidden digits, one fixed by Luhn) are tried in a moment.
//     Display shows the first six and last four digits (497010******1234), as
//     PCI DSS permits. Without a key, cards are recognised (so they are not
//     taken for phones) but not returned.
//   - Internationalised host names are displayed in both forms,
//     "pаypal.com [xn--pypal-4ve.com]", so a homograph cannot pass for the
//     site it imitates; Values are always ASCII.
//   - The user part of a URL (https://www.banque.fr@evil.example/) is
//     dropped: it may hold a password, and the host after the @ is the one
//     that is visited and the one that links.
//   - Scanners are linear in the text (RE2 regular expressions and single
//     passes); overlaps are settled with a byte mask, not pairwise.
//   - Nothing here logs or stores; callers decide what to keep, and keep
//     Value and Display, never the raw text of a card.
package ident
