package audit

import (
	"bufio"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"vigie"
)

// export streams the entries of a search as CSV or JSON (format=csv|json;
// CSV by default on pages, JSON on the API). The export is journaled before
// the first byte leaves, as a communication of personal data.
func (h *Handler) export(w http.ResponseWriter, r *http.Request) error {
	const op = "audit.export"
	api := strings.HasPrefix(r.URL.Path, "/api/")
	q, err := h.searchQuery(r, vigie.PermJournalExport, false)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
		if api {
			format = "json"
		}
	}
	if format != "csv" && format != "json" {
		return vigie.Invalidf(op, "The export format must be csv or json.")
	}
	var motif string
	if api {
		motif, err = MotifFrom(r)
	} else {
		var ok bool
		if motif, ok, err = RequireMotif(h.s, w, r); !ok {
			return err
		}
	}
	if err != nil {
		return err
	}
	if err := h.j.RecordTx(r.Context(), vigie.Record{Action: vigie.ActCommunicate, Object: "journal", Dept: q.Dept,
		Motif: motif, Detail: clip("export "+format+" "+q.Values().Encode(), maxDetail)}); err != nil {
		return err
	}
	name := "journal-" + time.Now().UTC().Format("20060102-150405") + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		err = writeCSV(bw, r, h, q)
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		err = writeJSON(bw, r, h, q)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		// Headers are gone: the error cannot reach the client any more.
		h.j.log.Error("audit: export interrupted", "err", err)
	}
	return nil
}

var csvHeader = []string{"seq", "at", "actor_id", "actor_login", "actor_role", "actor_unit", "actor_dept", "ip", "request_id",
	"action", "object", "object_id", "dept", "unit_id", "motif", "detail", "prev_hash", "hash"}

func writeCSV(bw *bufio.Writer, r *http.Request, h *Handler, q Query) error {
	cw := csv.NewWriter(bw)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	n := strconv.FormatInt
	err := search(r.Context(), h.j.db, q, 0, func(e *Entry) error {
		return cw.Write([]string{n(e.Seq, 10), e.At.Format(time.RFC3339Nano), n(e.ActorID, 10), cell(e.ActorLogin), cell(e.ActorRole),
			n(e.ActorUnit, 10), cell(e.ActorDept), cell(e.IP), cell(e.RequestID), e.Action, cell(e.Object), cell(e.ObjectID),
			cell(e.Dept), n(e.UnitID, 10), cell(e.Motif), cell(e.Detail), hex.EncodeToString(e.PrevHash), hex.EncodeToString(e.Hash)})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// cell defuses spreadsheet formulas (CSV injection): a cell that a
// spreadsheet would evaluate gets a leading quote (SECURITY).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeJSON(bw *bufio.Writer, r *http.Request, h *Handler, q Query) error {
	if _, err := bw.WriteString("[\n"); err != nil {
		return err
	}
	first := true
	err := search(r.Context(), h.j.db, q, 0, func(e *Entry) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if !first {
			bw.WriteString(",\n")
		}
		first = false
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	_, err = bw.WriteString("\n]\n")
	return err
}
