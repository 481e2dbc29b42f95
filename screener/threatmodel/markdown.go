package threatmodel

import (
	"fmt"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// ParseMarkdown reads a threat model written in Markdown, such as
// secscreen's shared taxonomy.md.
//
// Headings (ATX "#" or setext underlines) give each clause its section and,
// usually, its verdict: a heading that names a verdict id (`not-security`,
// `needs-info`; the one-word ids must be backticked) or says "is a security
// bug" / "not a security bug" sets the verdict for everything under it
// until a heading of the same or a higher level. Clauses are
//
//   - bullets "- `id`: text" or numbered items "1. `id`: text" (an
//     optional "(verdict)" after the id overrides the heading), and
//   - table rows whose first cell is a backticked id; a column headed
//     "verdict" overrides the heading and one headed "title" gives the
//     title, the other columns are the clause's text.
//
// Rows whose id is itself a verdict name describe verdicts and are skipped.
// When a heading names several verdicts, a clause without its own verdict
// takes the built-in model's verdict for its id if that is among them.
// Other bullets, paragraphs and code blocks are ignored. A clause with no
// verdict in scope, a duplicate id, a bad verdict or a table row with the
// wrong number of cells is an error naming the line. The first heading is
// the model's name (and left out of sections) when it is the only level-1
// heading and has subsections; titles of ids the
// built-in model knows come from it. The report-quality categories are
// added from the built-in model when the document lacks them.
func ParseMarkdown(data []byte, source string) (*Model, error) {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	p := &mdParser{source: source, lines: lines, seen: map[string]int{}}
	if err := p.run(); err != nil {
		return nil, err
	}
	if len(p.clauses) == 0 {
		return nil, fmt.Errorf("%s: no clauses found (want bullets \"- `id`: text\" or table rows whose first cell is a backticked id)", source)
	}
	name := ""
	ones, deeper := 0, false
	for _, h := range p.headings {
		if h.level == 1 {
			ones++
		} else {
			deeper = true
		}
	}
	if len(p.headings) > 0 && p.headings[0].level == 1 && ones == 1 && deeper {
		name = p.headings[0].title
		for i := range p.clauses {
			p.clauses[i].Section = strings.TrimPrefix(strings.TrimPrefix(p.clauses[i].Section, name), " / ")
		}
	}
	if name == "" {
		name = nameFromSource(source)
	}
	return New(name, source, withReportQuality(p.clauses))
}

type mdHeading struct {
	line     int
	level    int
	title    string
	verdicts []Verdict
}

type mdParser struct {
	source   string
	lines    []string
	headings []mdHeading // every heading, in order
	open     []mdHeading // the headings in scope
	clauses  []Clause
	seen     map[string]int // id -> line
}

var (
	mdATXRe      = lazyre.New(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	mdSetextRe   = lazyre.New(`^ {0,3}(=+|-+)[ \t]*$`)
	mdFenceRe    = lazyre.New("^ {0,3}(```|~~~)")
	mdBulletRe   = lazyre.New("^(\\s*)(?:[-*+]|\\d+[.)])[ \\t]+`([^`]*)`(?:[ \\t]*\\(([^)]*)\\))?[ \\t]*(?:[:—–]|-)?[ \\t]*(.*)$")
	mdAnyBullet  = lazyre.New(`^\s*([-*+]|\d+[.)])[ \t]`)
	mdRowRe      = lazyre.New(`^\s*\|.*\|\s*$`)
	mdSepRe      = lazyre.New(`^\s*\|?(\s*:?-+:?\s*\|)+\s*(:?-+:?\s*)?\|?\s*$`)
	mdTickedRe   = lazyre.New("^`([^`]+)`$")
	mdTickWordRe = lazyre.New("`([a-z-]+)`")
	mdBareRe     = lazyre.New(`(?i)(^|[^a-z-])(not-security|needs-info)($|[^a-z-])`)
	mdNotSecRe   = lazyre.New(`(?i)\bnot\s+(considered\s+(as\s+)?|constitute\s+)?(a\s+)?security\s+bugs?\b`)
	mdSecRe      = lazyre.New(`(?i)\b(is|are|constitutes?)\s+(a\s+)?security\s+bugs?\b`)
)

// headingVerdicts returns the verdicts a heading names.
func headingVerdicts(title string) []Verdict {
	var vs []Verdict
	add := func(v Verdict) {
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	if mdNotSecRe.MatchString(title) {
		add(NotSecurity)
	} else if mdSecRe.MatchString(title) {
		add(Security)
	}
	for _, m := range mdTickWordRe.FindAllStringSubmatch(title, -1) {
		if v, err := ParseVerdict(m[1]); err == nil {
			add(v)
		}
	}
	for _, m := range mdBareRe.FindAllStringSubmatch(title, -1) {
		add(Verdict(strings.ToLower(m[2])))
	}
	return vs
}

func (p *mdParser) heading(line, level int, title string) {
	for len(p.open) > 0 && p.open[len(p.open)-1].level >= level {
		p.open = p.open[:len(p.open)-1]
	}
	h := mdHeading{line: line, level: level, title: title, verdicts: headingVerdicts(title)}
	p.open = append(p.open, h)
	p.headings = append(p.headings, h)
}

func (p *mdParser) section() string {
	titles := make([]string, len(p.open))
	for i, h := range p.open {
		titles[i] = h.title
	}
	return strings.Join(titles, " / ")
}

// scope returns the innermost heading that names a verdict.
func (p *mdParser) scope() (mdHeading, bool) {
	for i := len(p.open) - 1; i >= 0; i-- {
		if len(p.open[i].verdicts) > 0 {
			return p.open[i], true
		}
	}
	return mdHeading{}, false
}

func (p *mdParser) run() error {
	inFence := ""
	for i := 0; i < len(p.lines); i++ {
		line := p.lines[i]
		n := i + 1
		if m := mdFenceRe.FindStringSubmatch(line); m != nil {
			switch {
			case inFence == "":
				inFence = m[1]
			case inFence == m[1]:
				inFence = ""
			}
			continue
		}
		if inFence != "" {
			continue
		}
		if m := mdATXRe.FindStringSubmatch(line); m != nil {
			p.heading(n, len(m[1]), strings.TrimSpace(m[2]))
			continue
		}
		if strings.TrimSpace(line) != "" && !mdAnyBullet.MatchString(line) && !mdRowRe.MatchString(line) && i+1 < len(p.lines) {
			if m := mdSetextRe.FindStringSubmatch(p.lines[i+1]); m != nil && (i == 0 || strings.TrimSpace(p.lines[i-1]) == "") {
				level := 2
				if m[1][0] == '=' {
					level = 1
				}
				p.heading(n, level, strings.TrimSpace(line))
				i++
				continue
			}
		}
		if m := mdBulletRe.FindStringSubmatch(line); m != nil {
			indent := len(m[1])
			text := []string{m[4]}
			for i+1 < len(p.lines) {
				next := p.lines[i+1]
				if strings.TrimSpace(next) == "" || len(next)-len(strings.TrimLeft(next, " \t")) <= indent ||
					mdAnyBullet.MatchString(next) || mdATXRe.MatchString(next) {
					break
				}
				text = append(text, strings.TrimSpace(next))
				i++
			}
			if err := p.add(n, m[2], m[3], "", strings.Join(text, " ")); err != nil {
				return err
			}
			continue
		}
		if mdRowRe.MatchString(line) {
			var err error
			i, err = p.table(i)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// splitRow splits a table row into trimmed cells.
func splitRow(line string) []string {
	s := strings.TrimSpace(line)
	s = strings.TrimPrefix(s, "|")
	s = strings.TrimSuffix(s, "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '|':
			cur.WriteByte('|')
			i++
		case s[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// table reads the table starting at line index i and returns the index of
// its last line.
func (p *mdParser) table(i int) (int, error) {
	var header []string
	start := i
	if i+1 < len(p.lines) && mdSepRe.MatchString(p.lines[i+1]) {
		header = splitRow(p.lines[i])
		for k := range header {
			header[k] = strings.ToLower(strings.Trim(header[k], "`* "))
		}
		i += 2
	}
	verdictCol, titleCol := slices.Index(header, "verdict"), slices.Index(header, "title")
	for ; i < len(p.lines) && mdRowRe.MatchString(p.lines[i]); i++ {
		cells := splitRow(p.lines[i])
		n := i + 1
		m := mdTickedRe.FindStringSubmatch(cells[0])
		if m == nil {
			continue
		}
		if _, err := ParseVerdict(m[1]); err == nil {
			continue // a row describing a verdict, not a clause
		}
		if header != nil && len(cells) != len(header) {
			return i, fmt.Errorf("%s:%d: table row has %d cells, its header (line %d) has %d", p.source, n, len(cells), start+1, len(header))
		}
		verdict, title := "", ""
		var text []string
		for k := 1; k < len(cells); k++ {
			switch k {
			case verdictCol:
				verdict = strings.Trim(cells[k], "` ")
			case titleCol:
				title = cells[k]
			default:
				if cells[k] != "" {
					text = append(text, cells[k])
				}
			}
		}
		if verdictCol >= 0 && verdict == "" {
			return i, fmt.Errorf("%s:%d: clause %q has an empty verdict cell", p.source, n, m[1])
		}
		if err := p.add(n, m[1], verdict, title, strings.Join(text, "; ")); err != nil {
			return i, err
		}
	}
	return i - 1, nil
}

// add records one clause found at line n.
func (p *mdParser) add(n int, id, verdict, title, text string) error {
	id = strings.TrimSpace(id)
	if err := checkID(id); err != nil {
		return fmt.Errorf("%s:%d: %w", p.source, n, err)
	}
	if first, dup := p.seen[id]; dup {
		return fmt.Errorf("%s:%d: duplicate clause id %q (first defined at line %d)", p.source, n, id, first)
	}
	var v Verdict
	builtin, known := Kernel().Clause(id)
	if verdict != "" {
		pv, err := ParseVerdict(verdict)
		if err != nil {
			return fmt.Errorf("%s:%d: clause %q: %w", p.source, n, id, err)
		}
		v = pv
	} else {
		h, ok := p.scope()
		switch {
		case !ok:
			return fmt.Errorf("%s:%d: clause %q has no verdict: no heading above it names one (say `security`, `not-security`, `needs-info` or `invalid` in a heading, or give the clause's own verdict)", p.source, n, id)
		case len(h.verdicts) == 1:
			v = h.verdicts[0]
		case known && slices.Contains(h.verdicts, builtin.Verdict):
			v = builtin.Verdict
		default:
			return fmt.Errorf("%s:%d: clause %q: the heading at line %d names several verdicts (%s); give the clause's own verdict", p.source, n, id, h.line, joinVerdicts(h.verdicts))
		}
	}
	text = strings.TrimSpace(spaceRe.ReplaceAllString(text, " "))
	title = strings.TrimSpace(title)
	if title == "" {
		if known {
			title = builtin.Title
		} else if text != "" {
			title = shortTitle(text)
		} else {
			title = id
		}
	}
	p.seen[id] = n
	p.clauses = append(p.clauses, Clause{ID: id, Verdict: v, Title: title, Summary: text, Section: p.section(), Text: text})
	return nil
}

func joinVerdicts(vs []Verdict) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
