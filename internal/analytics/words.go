package analytics

// Reasons in words for the risk map: each sentence is an English format
// string that the messages file (templates/messages.fr.json) translates;
// the numbers are filled in after translation. ReasonFormats lists every
// format so that a test checks each has a French translation.

// Formats of the sentences.
const (
	fmtNearRepeat  = "%.0f offences within %.0f m in the last %d days"
	fmtLongTerm    = "long-term level %s (%.0f offences since records began)"
	fmtRecent      = "%.0f offences in the cell in the last %d days; level %s"
	fmtNeighbours  = "surrounding cells' long-term level %s"
	fmtCalls       = "%.0f calls for service in the cell in the last %d days"
	fmtLAPI        = "%.0f plate-reader detections in the cell in the last %d days"
	fmtOtherSource = "%.0f signals of source %s in the last %d days"
	fmtDensity     = "%.0f offences within %.0f m in the last %d days (smoothed)"
	fmtDensityAll  = "%.0f offences within %.0f m over all history (smoothed)"
	fmtBackground  = "steady level of %.1f offences a week"
	fmtTriggered   = "%.1f offences expected as follow-ups of recent nearby offences"

	// French, like English, puts 1 in the singular (and 0 too).
	fmtNearRepeat1 = "%.0f offence within %.0f m in the last %d days"
	fmtLongTerm1   = "long-term level %s (%.0f offence since records began)"
	fmtRecent1     = "%.0f offence in the cell in the last %d days; level %s"
	fmtCalls1      = "%.0f call for service in the cell in the last %d days"
	fmtLAPI1       = "%.0f plate-reader detection in the cell in the last %d days"
	fmtLevelTop1   = "very high (top 1 %%)"
	fmtLevelHigh   = "high (top %.0f %%)"
	fmtLevelAbove  = "above median (top %.0f %%)"
	fmtLevelLow    = "low"
)

// ReasonFormats lists the formats ReasonText may translate.
var ReasonFormats = []string{fmtNearRepeat, fmtLongTerm, fmtRecent, fmtNeighbours, fmtCalls, fmtLAPI, fmtOtherSource,
	fmtDensity, fmtDensityAll, fmtBackground, fmtTriggered, fmtLevelTop1, fmtLevelHigh, fmtLevelAbove, fmtLevelLow,
	fmtNearRepeat1, fmtLongTerm1, fmtRecent1, fmtCalls1, fmtLAPI1}

// ReasonText words r with tf, which translates a format and fills it in
// (web.Tf for the request's language).
func ReasonText(r Reason, tf func(format string, args ...any) string) string {
	lvl := func(top float64) string {
		switch {
		case top > 0 && top <= 1:
			return tf(fmtLevelTop1)
		case top > 0 && top <= 10:
			return tf(fmtLevelHigh, top)
		case top > 0 && top <= 50:
			return tf(fmtLevelAbove, top)
		}
		return tf(fmtLevelLow)
	}
	one := func(singular, plural string) string {
		if r.Events < 1.5 {
			return singular
		}
		return plural
	}
	switch r.Kind {
	case ReasonNearRepeat:
		return tf(one(fmtNearRepeat1, fmtNearRepeat), r.Events, r.Radius, r.Days)
	case ReasonLongTerm:
		return tf(one(fmtLongTerm1, fmtLongTerm), lvl(r.Top), r.Events)
	case ReasonRecent:
		return tf(one(fmtRecent1, fmtRecent), r.Events, r.Days, lvl(r.Top))
	case ReasonNeighbours:
		return tf(fmtNeighbours, lvl(r.Top))
	case ReasonSource:
		switch Source(r.Source) {
		case SourceCall:
			return tf(one(fmtCalls1, fmtCalls), r.Events, r.Days)
		case SourceLAPI:
			return tf(one(fmtLAPI1, fmtLAPI), r.Events, r.Days)
		}
		return tf(fmtOtherSource, r.Events, r.Source, r.Days)
	case ReasonBackground:
		return tf(fmtBackground, r.Events)
	case ReasonTriggered:
		return tf(fmtTriggered, r.Events)
	}
	if r.Days == 0 {
		return tf(fmtDensityAll, r.Events, r.Radius)
	}
	return tf(fmtDensity, r.Events, r.Radius, r.Days)
}
