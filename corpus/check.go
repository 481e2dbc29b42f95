package corpus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Kind classifies a Problem found by Check.
type Kind string

// The kinds of problem Check reports.
const (
	// UnparseableLine: a line of labels.jsonl is not one label object with
	// known fields and the required ones present.
	UnparseableLine Kind = "unparseable-line"
	// UnknownVerdict: the verdict is not one of the four verdicts.
	UnknownVerdict Kind = "unknown-verdict"
	// UnknownCategory: the category id is not in the threat model.
	UnknownCategory Kind = "unknown-category"
	// VerdictMismatch: the category exists but belongs to another verdict.
	VerdictMismatch Kind = "verdict-category-mismatch"
	// MissingFile: the labeled file does not exist or is not a regular file.
	MissingFile Kind = "missing-file"
	// OutsideDir: the labeled file is absolute, climbs out of the corpus
	// directory, or is a symbolic link that leads out of it.
	OutsideDir Kind = "file-outside-dir"
	// DuplicateID: an id is used by more than one label.
	DuplicateID Kind = "duplicate-id"
	// DuplicateContent: two labels name files with the same bytes (SHA-256)
	// or the same normalised body text.
	DuplicateContent Kind = "duplicate-content"
	// UnlabeledFile: a report file (.eml, .txt, .mbox) in the directory is
	// named by no label.
	UnlabeledFile Kind = "unlabeled-file"
	// UnreadableReport: a labeled file exists but intake cannot make a
	// report of it (only checked when the shortcut audit runs).
	UnreadableReport Kind = "unreadable-report"
	// ShortcutCue: a surface feature (length, a fix line, a subject prefix,
	// the year...) alone separates security reports from the rest with a
	// strength at or above CheckOptions.MaxCueAUC.
	ShortcutCue Kind = "shortcut-cue"
)

// CheckOptions configures Check.
type CheckOptions struct {
	// MaxCueAUC turns the shortcut audit on: every report is read and each
	// surface cue whose strength (max(AUC, 1-AUC), security against the
	// rest) reaches it is a problem. 0 leaves the audit off.
	MaxCueAUC float64
}

// ReportExts are the file extensions Check treats as report files when it
// looks for unlabeled ones.
var ReportExts = []string{".eml", ".txt", ".mbox"}

// Problem is one defect of a corpus.
type Problem struct {
	// Line is the line of labels.jsonl concerned (0 for unlabeled files).
	Line int `json:"line"`
	// Kind classifies the problem.
	Kind Kind `json:"kind"`
	// ID is the label's id, when the line had one.
	ID string `json:"id,omitempty"`
	// File is the file concerned, relative to the corpus directory.
	File string `json:"file,omitempty"`
	// Message says what is wrong in one line.
	Message string `json:"message"`
}

// Count is how many labels carry one verdict or one category.
type Count struct {
	// Name is the verdict or the category id.
	Name string `json:"name"`
	// Verdict is the verdict a category belongs to (empty for verdicts
	// and splits).
	Verdict threatmodel.Verdict `json:"verdict,omitempty"`
	// N is the number of labels.
	N int `json:"n"`
}

// CheckReport is the outcome of Check.
type CheckReport struct {
	// Dir is the corpus directory checked.
	Dir string `json:"dir"`
	// Labels counts the label lines that parsed.
	Labels int `json:"labels"`
	// Problems lists every defect, in line order; unlabeled files come last.
	Problems []Problem `json:"problems"`
	// Verdicts counts labels per verdict, every verdict listed.
	Verdicts []Count `json:"verdicts"`
	// Categories counts labels per category, every id of the model listed.
	Categories []Count `json:"categories"`
	// Splits counts labels per split (dev, test).
	Splits []Count `json:"splits"`
	// Notes are remarks that are not problems, such as label fields
	// secscreen ignores.
	Notes []string `json:"notes,omitempty"`
	// Audit is the shortcut audit, when CheckOptions.MaxCueAUC asked for it.
	Audit *Audit `json:"audit,omitempty"`
}

// OK reports whether the corpus has no problems.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

// Check audits the corpus in dir against the threat model tm: it reports
// every problem of every Kind together with the label counts per verdict,
// per category and per split, and, when opt asks for it, the shortcut audit.
// The error is reserved for options out of range (a usage error) and for
// failures to read the corpus at all (no directory, no labels.jsonl);
// defects of its content are Problems.
func Check(ctx context.Context, dir string, tm *threatmodel.Model, opt CheckOptions) (*CheckReport, error) {
	if v := opt.MaxCueAUC; !(v >= 0 && v <= 1) {
		return nil, exit.Usagef("--max-cue-auc: want a number from 0 to 1, got %g", v)
	}
	f, err := os.Open(filepath.Join(dir, LabelsFile))
	if err != nil {
		return nil, fmt.Errorf("check corpus: %w%s", err, partsHint(dir))
	}
	labels, bad, err := parseLabels(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("check corpus %s: %w", dir, err)
	}
	root, err := realRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("check corpus: %w", err)
	}

	rep := &CheckReport{Dir: dir, Labels: len(labels), Problems: []Problem{}}
	for _, b := range bad {
		rep.add(Problem{Line: b.line, Kind: UnparseableLine, Message: b.err.Error()})
	}

	verdictN := map[threatmodel.Verdict]int{}
	categoryN := map[string]int{}
	idLine := map[string]int{}
	hashLine := map[string]Label{}
	bodyLine := map[string]Label{}
	labeled := map[string]bool{}
	splitN := map[string]int{}
	extra := map[string]int{}
	var readable []Label
	raws := map[string][]byte{}

	for _, l := range labels {
		splitN[l.SplitOf()]++
		for name := range l.Extra {
			extra[name]++
		}
		p := Problem{Line: l.Line, ID: l.ID, File: l.File}
		if first, dup := idLine[l.ID]; dup {
			rep.add(p.with(DuplicateID, "id %q is already used on line %d", l.ID, first))
		} else {
			idLine[l.ID] = l.Line
		}

		v, verr := threatmodel.ParseVerdict(string(l.Verdict))
		if verr != nil {
			rep.add(p.with(UnknownVerdict, "verdict %q is not one of %s", l.Verdict, verdictList()))
		} else {
			verdictN[v]++
		}
		owner, known := tm.VerdictOf(l.Category)
		switch {
		case !known:
			rep.add(p.with(UnknownCategory, "category %q is not an id of threat model %s", l.Category, tm.Name))
		case verr == nil && owner != v:
			rep.add(p.with(VerdictMismatch, "category %q belongs to verdict %q, not %q", l.Category, owner, l.Verdict))
		}
		if known {
			categoryN[l.Category]++
		}

		rel, ok := localPath(l.File)
		if !ok {
			rep.add(p.with(OutsideDir, "file %q is not inside the corpus directory", l.File))
			continue
		}
		labeled[rel] = true
		data, problem := readInside(root, rel)
		if problem != nil {
			rep.add(p.with(problem.kind, "%s", problem.msg))
			continue
		}
		sum := sha256.Sum256(data)
		h := hex.EncodeToString(sum[:])
		if first, dup := hashLine[h]; dup {
			rep.add(p.with(DuplicateContent, "file %q has the same bytes as %q (line %d, id %q)", l.File, first.File, first.Line, first.ID))
			continue
		}
		hashLine[h] = l
		if body := normalisedBody(rel, data); body != "" {
			if first, dup := bodyLine[body]; dup {
				rep.add(p.with(DuplicateContent, "file %q has the same body text as %q (line %d, id %q)", l.File, first.File, first.Line, first.ID))
				continue
			}
			bodyLine[body] = l
		}
		if verr == nil && known {
			readable = append(readable, l)
			raws[l.ID] = data
		}
	}
	if len(extra) > 0 {
		names := make([]string, 0, len(extra))
		for name, n := range extra {
			names = append(names, fmt.Sprintf("%s (%d labels)", name, n))
		}
		slices.Sort(names)
		rep.Notes = append(rep.Notes, "labels carry fields secscreen keeps and ignores: "+strings.Join(names, ", "))
	}
	if opt.MaxCueAUC > 0 {
		a, err := auditCorpus(ctx, &Corpus{Dir: dir, Labels: readable}, raws, opt.MaxCueAUC, rep)
		if err != nil {
			return nil, fmt.Errorf("check corpus %s: %w", dir, err)
		}
		rep.Audit = a
	}

	unlabeled, err := unlabeledFiles(root, labeled)
	if err != nil {
		return nil, fmt.Errorf("check corpus %s: %w", dir, err)
	}
	for _, rel := range unlabeled {
		rep.add(Problem{Kind: UnlabeledFile, File: rel, Message: fmt.Sprintf("report file %q has no label", rel)})
	}

	for _, v := range threatmodel.Verdicts {
		rep.Verdicts = append(rep.Verdicts, Count{Name: string(v), N: verdictN[v]})
	}
	for _, c := range tm.Clauses {
		rep.Categories = append(rep.Categories, Count{Name: c.ID, Verdict: c.Verdict, N: categoryN[c.ID]})
	}
	for _, name := range []string{SplitDev, SplitTest} {
		rep.Splits = append(rep.Splits, Count{Name: name, N: splitN[name]})
	}
	return rep, nil
}

// auditCorpus reads the reports of c and runs the shortcut audit on them,
// adding a problem for each report intake cannot read and each cue that
// reaches maxAUC.
func auditCorpus(ctx context.Context, c *Corpus, raws map[string][]byte, maxAUC float64, rep *CheckReport) (*Audit, error) {
	read, err := c.ReadReports(ctx, intake.Options{})
	if err != nil {
		return nil, err
	}
	var in []auditInput
	for _, lr := range read {
		if lr.Err != nil {
			rep.add(Problem{Line: lr.Label.Line, ID: lr.Label.ID, File: lr.Label.File, Kind: UnreadableReport, Message: lr.Err.Error()})
			continue
		}
		in = append(in, auditInput{
			security: lr.Label.Verdict == threatmodel.Security,
			verdict:  lr.Label.Verdict,
			report:   lr.Report,
			raw:      raws[lr.Label.ID],
		})
	}
	a := audit(in, maxAUC)
	for _, cue := range a.Shortcuts() {
		rep.add(Problem{Kind: ShortcutCue, Message: fmt.Sprintf(
			"%s alone separates security from the rest: AUC %.3f (strength %.3f >= %.2f); vary it within every verdict",
			cue.Name, cue.AUC, cue.Strength, maxAUC)})
	}
	return a, nil
}

func (r *CheckReport) add(p Problem) { r.Problems = append(r.Problems, p) }

func (p Problem) with(k Kind, format string, args ...any) Problem {
	p.Kind = k
	p.Message = fmt.Sprintf(format, args...)
	return p
}

func verdictList() string {
	names := make([]string, len(threatmodel.Verdicts))
	for i, v := range threatmodel.Verdicts {
		names[i] = string(v)
	}
	return strings.Join(names, ", ")
}

// localPath turns a label's file into a clean slash-separated path inside the
// corpus directory, or reports that it would leave it.
func localPath(file string) (string, bool) {
	p := filepath.FromSlash(file)
	if !filepath.IsLocal(p) {
		return "", false
	}
	return filepath.ToSlash(filepath.Clean(p)), true
}

type fileProblem struct {
	kind Kind
	msg  string
}

// resolveInside returns the real location of rel under root (symbolic
// links resolved), refusing one that is outside root or not a regular file.
func resolveInside(root, rel string) (string, *fileProblem) {
	full := filepath.Join(root, filepath.FromSlash(rel))
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", &fileProblem{MissingFile, fmt.Sprintf("file %q does not exist", rel)}
	}
	inside, err := filepath.Rel(root, real)
	if err != nil || !filepath.IsLocal(inside) {
		return "", &fileProblem{OutsideDir, fmt.Sprintf("file %q leads outside the corpus directory", rel)}
	}
	st, err := os.Stat(real)
	if err != nil || !st.Mode().IsRegular() {
		return "", &fileProblem{MissingFile, fmt.Sprintf("file %q is not a regular file", rel)}
	}
	return real, nil
}

// readInside reads rel under root, refusing a file whose real location
// (symbolic links resolved) is outside root.
func readInside(root, rel string) ([]byte, *fileProblem) {
	real, problem := resolveInside(root, rel)
	if problem != nil {
		return nil, problem
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return nil, &fileProblem{MissingFile, fmt.Sprintf("file %q cannot be read: %v", rel, err)}
	}
	return data, nil
}

// realRoot returns dir with symbolic links resolved, as an absolute path.
func realRoot(dir string) (string, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	return filepath.Abs(root)
}

// unlabeledFiles walks root for report files that no label names. It skips
// hidden directories and testdata directories below root (the bundled
// corpus shares its directory with the package's test fixtures).
func unlabeledFiles(root string, labeled map[string]bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !slices.Contains(ReportExts, strings.ToLower(filepath.Ext(d.Name()))) {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !labeled[rel] {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// normalisedBody returns the report's body text lower-cased with runs of
// white space folded to one space. For .eml and .mbox files the headers (and
// the mbox "From " line) are dropped first, so that the same report sent with
// different headers counts as a duplicate.
func normalisedBody(rel string, data []byte) string {
	text := data
	switch strings.ToLower(filepath.Ext(rel)) {
	case ".mbox":
		if bytes.HasPrefix(text, []byte("From ")) {
			if i := bytes.IndexByte(text, '\n'); i >= 0 {
				text = text[i+1:]
			} else {
				text = nil
			}
		}
		text = dropHeaders(text)
	case ".eml":
		text = dropHeaders(text)
	}
	return strings.Join(strings.Fields(strings.ToLower(string(text))), " ")
}

// dropHeaders returns what follows the first empty line of a message.
func dropHeaders(msg []byte) []byte {
	msg = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	if i := bytes.Index(msg, []byte("\n\n")); i >= 0 {
		return msg[i+2:]
	}
	return nil
}

// WriteCheck checks the corpus in dir as Check does and writes the report
// to w: as indented JSON when asJSON is set, else as text. A corpus with
// problems is an error, after the report, that counts them.
func WriteCheck(ctx context.Context, w io.Writer, dir string, tm *threatmodel.Model, opt CheckOptions, asJSON bool) error {
	rep, err := Check(ctx, dir, tm, opt)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(w)
	}
	if err != nil {
		return fmt.Errorf("corpus check: %w", err)
	}
	if !rep.OK() {
		return fmt.Errorf("corpus %s has %d problems", rep.Dir, len(rep.Problems))
	}
	return nil
}

// WriteText writes the report for a terminal: one line per problem, then the
// label counts per verdict and per category.
func (r *CheckReport) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "corpus %s: %d labels, %d problems\n", r.Dir, r.Labels, len(r.Problems))
	for _, p := range r.Problems {
		where := LabelsFile
		if p.Line > 0 {
			where = fmt.Sprintf("%s:%d", LabelsFile, p.Line)
		} else if p.File != "" {
			where = p.File
		}
		fmt.Fprintf(&b, "  %s: %s: %s\n", where, p.Kind, p.Message)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nverdict\tlabels")
	for _, c := range r.Verdicts {
		fmt.Fprintf(tw, "  %s\t%d\n", c.Name, c.N)
	}
	fmt.Fprintln(tw, "\ncategory\tverdict\tlabels")
	for _, c := range r.Categories {
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", c.Name, c.Verdict, c.N)
	}
	fmt.Fprintln(tw, "\nsplit\tlabels")
	for _, c := range r.Splits {
		fmt.Fprintf(tw, "  %s\t%d\n", c.Name, c.N)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\nnote: %s\n", n)
	}
	if r.Audit != nil {
		writeAudit(&b, r.Audit)
	}
	_, err := w.Write(b.Bytes())
	return err
}
