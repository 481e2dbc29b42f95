package history

import (
	"fmt"
	"io"
	"strings"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Flag names the history (Open's target): a SQLite file or a postgres://
// DSN. Every history command and screen take it.
var Flag = cliflag.Flag{Name: "history", Env: "SECSCREEN_HISTORY",
	Usage: "history of screened reports: a SQLite `FILE`, or a postgres:// DSN a team shares (default $XDG_DATA_HOME/secscreen/history.db)"}

// formatFlag is a request's --format, def unless given.
func formatFlag(def string, values ...string) cliflag.Flag {
	return cliflag.Flag{Name: "format", Aliases: []string{"f"}, Default: def, Usage: "`FORMAT`: " + strings.Join(values, ", ")}
}

// The flags of each request, Flag first, in the order of their help.
var (
	SearchFlags = []cliflag.Flag{Flag, formatFlag("text", "text", "json"),
		{Name: "like", Usage: "list the reports most like the one in `FILE` (email, text...) and say which are duplicates"},
		{Name: "limit", Default: 20, Usage: "most reports listed"}}
	ShowFlags   = []cliflag.Flag{Flag, formatFlag("text", "text", "json")}
	StatsFlags  = []cliflag.Flag{Flag, formatFlag("text", "text", "json"), {Name: "clusters", Default: 10, Usage: "largest clusters listed"}}
	ExportFlags = []cliflag.Flag{Flag, formatFlag("jsonl", "jsonl", "csv"),
		{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"}}
	// LabelFlags follow Flag and the threat model's flag, which the
	// caller loads the model from.
	LabelFlags = []cliflag.Flag{
		{Name: "verdict", Required: true, Usage: "`VERDICT`: security, not-security, needs-info or invalid"},
		{Name: "category", Required: true, Usage: "threat model `CATEGORY` id (see 'secscreen threatmodel show')"},
		{Name: "note", Usage: "why, in a `SENTENCE`"},
		{Name: "by", Usage: "who decided (default: the user name)"}}
	CorpusExportFlags = []cliflag.Flag{Flag,
		{Name: "from-history", Required: true, Usage: "new corpus `DIR` to write labels.jsonl and reports/ into"}}
)

// NewSearchRequest is the search of words the flags v describe
// (SearchFlags).
func NewSearchRequest(v cliflag.Values, words []string) *SearchRequest {
	return &SearchRequest{Words: words, Like: v.String("like"), Limit: v.Int("limit"), Format: docformat.Format(v.String("format"))}
}

// NewShowRequest is the show of the one ID in args the flags v describe
// (ShowFlags).
func NewShowRequest(v cliflag.Values, args []string) (*ShowRequest, error) {
	id, err := oneID("show", args)
	return &ShowRequest{ID: id, Format: docformat.Format(v.String("format"))}, err
}

// NewStatsRequest is the stats the flags v describe (StatsFlags).
func NewStatsRequest(v cliflag.Values) *StatsRequest {
	return &StatsRequest{Clusters: v.Int("clusters"), Format: docformat.Format(v.String("format"))}
}

// NewExportRequest is the export the flags v describe (ExportFlags).
func NewExportRequest(v cliflag.Values) *ExportRequest {
	return &ExportRequest{Format: ExportFormat(v.String("format")), Output: v.String("output")}
}

// NewLabelRequest is the label of the one ID in args the flags v describe
// (LabelFlags). The caller sets its ThreatModel, from the flag that
// LabelFlags follow.
func NewLabelRequest(v cliflag.Values, args []string) (*LabelRequest, error) {
	id, err := oneID("label", args)
	l := Label{Label: threatmodel.Label{Verdict: threatmodel.Verdict(v.String("verdict")), Category: v.String("category")}, Note: v.String("note"), By: v.String("by")}
	return &LabelRequest{ID: id, Label: l}, err
}

// NewCorpusExportRequest is the corpus export the flags v describe
// (CorpusExportFlags), which takes no arguments; log receives its notes.
func NewCorpusExportRequest(v cliflag.Values, args []string, log io.Writer) (*CorpusExportRequest, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("corpus export: unexpected arguments %v", args)
	}
	return &CorpusExportRequest{Dir: v.String("from-history"), Log: log}, nil
}

// oneID is the ID argument of history show and label.
func oneID(op string, args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("history %s: want one ID (a report id or #N)", op)
	}
	return args[0], nil
}
