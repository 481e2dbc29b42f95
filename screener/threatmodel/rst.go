package threatmodel

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// ParseRST reads a threat model written in reStructuredText, such as the
// kernel's Documentation/process/threat-model.rst.
//
// The loader understands the subset such documents use: section titles
// (underlined, or over- and underlined, with any punctuation character;
// levels follow the order in which styles first appear), paragraphs,
// bullet lists ("*", "-" or "+") and enumerated lists ("1.", "2)", "#.",
// "(3)") nested by indentation, and two things it skips: literal blocks
// after "::" and explicit markup (".."). It is lenient where the kernel's
// file is: a continuation line may sit at the bullet's own indentation.
// It is strict
// where a document is broken: an underline shorter than its title, an
// overline that does not match its underline, a title level that skips a
// level, or a title glued to the paragraph above are errors naming the line.
//
// A bullet whose text starts with a bold phrase and that holds a nested list
// ("* **Configuration**:") opens a subsection named by that phrase. Each
// leaf bullet, and each paragraph outside a list, is a passage. The
// embedded mapping table (rstmap.yaml) assigns passages to the built-in
// categories; a mapped clause keeps the passage's wording in Text and its
// section path in Section, and takes its title, summary and verdict from
// the built-in clause. A bullet that maps to nothing is kept under an id
// derived from its section and position (e.g. "rst.configuration.3") with
// the verdict its section implies; paragraphs that map to nothing are prose
// and are dropped, as are bullets under sections that imply no verdict.
// The report-quality categories (info.*, invalid.*) are added from the
// built-in model when the document lacks them.
func ParseRST(data []byte, source string) (*Model, error) {
	doc, err := parseRSTDoc(string(data), source)
	if err != nil {
		return nil, err
	}
	name := doc.title
	if name == "" {
		name = nameFromSource(source)
	}
	clauses := passagesToClauses(doc.passages, builtinMapping())
	if len(clauses) == 0 {
		return nil, fmt.Errorf("%s: no threat model clauses found (no bullets under sections that say what is or is not a security bug)", source)
	}
	return New(name, source, withReportQuality(clauses))
}

// passage is a leaf bullet or a paragraph outside any list.
type passage struct {
	line    int
	section []string
	title   string // the bold lead of a bullet, if any
	text    string // cleaned wording
	bullet  bool
}

// rstDoc is what the RST reader extracts.
type rstDoc struct {
	title    string
	passages []passage
}

type rstBullet struct {
	indent   int
	line     int
	section  []string
	text     []string   // first paragraph lines
	body     [][]string // later paragraphs
	children []*rstBullet
}

type rstHeading struct {
	line  int
	level int
	title string
}

var (
	rstBulletRe  = lazyre.New(`^( *)([*+-]|\d+[.)]|#\.|\(\d+\))(?: +(.*))?$`)
	rstBoldLead  = lazyre.New(`^\*\*([^*]+)\*\*\s*:?\s*(.*)$`)
	rstLiteralRe = lazyre.New("``([^`]*)``")
	rstRoleRe    = lazyre.New(":[a-z]+:`([^`<]*?)\\s*(?:<[^>]*>)?`")
	rstStrongRe  = lazyre.New(`\*\*([^*]+)\*\*`)
)

// isAdornment reports whether s is a line of one repeated punctuation
// character, at least two long.
func isAdornment(s string) bool {
	s = strings.TrimRight(s, " \t")
	if len(s) < 2 {
		return false
	}
	c := s[0]
	if !strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", rune(c)) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] != c {
			return false
		}
	}
	return true
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// expandTabs replaces tabs by spaces up to the next multiple of eight, as
// reStructuredText does.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

func parseRSTDoc(text, source string) (*rstDoc, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(expandTabs(lines[i]), " ")
	}
	at := func(i int) string {
		if i >= 0 && i < len(lines) {
			return lines[i]
		}
		return ""
	}

	var (
		styles    []string // heading styles in order of first use
		headings  []rstHeading
		path      []string // current heading titles, one per level
		stack     []*rstBullet
		roots     []*rstBullet
		paras     []passage
		para      *[]string // the paragraph continuation lines go to
		paraStart int
	)
	flushPara := func() { para = nil }
	// closeTopParagraph records a finished paragraph outside lists.
	var topPara []string
	endTop := func() {
		if topPara != nil {
			paras = append(paras, passage{line: paraStart, section: append([]string(nil), path...), text: strings.Join(topPara, " ")})
			topPara = nil
		}
	}

	heading := func(lineNo int, style, title string) error {
		level := 0
		for i, s := range styles {
			if s == style {
				level = i + 1
			}
		}
		if level == 0 {
			styles = append(styles, style)
			level = len(styles)
		}
		if level > len(path)+1 {
			return fmt.Errorf("%s:%d: title %q is at level %d right under a level-%d section (title level inconsistent)", source, lineNo, title, level, len(path))
		}
		path = append(path[:level-1], title)
		headings = append(headings, rstHeading{line: lineNo, level: level, title: title})
		stack = nil
		return nil
	}

	literalAfter := -1 // indentation of a paragraph that ended with "::"
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		n := i + 1 // 1-based line number
		if isBlank(line) {
			endTop()
			flushPara()
			continue
		}
		ind := indentOf(line)
		trimmed := line[ind:]

		// A literal block (code, traces) follows "::", indented more than
		// the paragraph that introduced it; it ends at the first line
		// indented less than its own first line. Skip it.
		if literalAfter >= 0 && isBlank(at(i-1)) {
			if ind > literalAfter {
				for i+1 < len(lines) && (isBlank(lines[i+1]) || indentOf(lines[i+1]) >= ind) {
					i++
				}
				literalAfter = -1
				continue
			}
			literalAfter = -1
		}
		literalAfter = -1
		if strings.HasSuffix(trimmed, "::") && !strings.HasPrefix(trimmed, "..") {
			literalAfter = ind
		}

		// Explicit markup (comments, targets, directives): skip the block.
		if trimmed == ".." || strings.HasPrefix(trimmed, ".. ") {
			endTop()
			flushPara()
			for i+1 < len(lines) && (isBlank(lines[i+1]) || indentOf(lines[i+1]) > ind) {
				i++
			}
			continue
		}

		// Over- and underlined title.
		if ind == 0 && isAdornment(line) && !isBlank(at(i+1)) && isAdornment(at(i+2)) && !isAdornment(at(i+1)) {
			title := strings.TrimSpace(at(i + 1))
			if at(i+2) != line {
				return nil, fmt.Errorf("%s:%d: title overline and underline (line %d) differ", source, n, n+2)
			}
			if utf8.RuneCountInString(line) < utf8.RuneCountInString(title) {
				return nil, fmt.Errorf("%s:%d: title overline too short for %q", source, n, title)
			}
			endTop()
			flushPara()
			if err := heading(n+1, "over"+line[:1], title); err != nil {
				return nil, err
			}
			i += 2
			continue
		}

		// Underlined title.
		if ind == 0 && !isAdornment(line) && isAdornment(at(i+1)) && !rstBulletRe.MatchString(line) {
			under := at(i + 1)
			title := strings.TrimSpace(line)
			if utf8.RuneCountInString(under) < utf8.RuneCountInString(title) {
				return nil, fmt.Errorf("%s:%d: title underline too short for %q (line %d)", source, n+1, title, n)
			}
			if topPara != nil || para != nil {
				return nil, fmt.Errorf("%s:%d: section title %q follows a paragraph without a blank line", source, n, title)
			}
			if err := heading(n, under[:1], title); err != nil {
				return nil, err
			}
			i++
			continue
		}

		// A lone adornment line: a transition between blank lines, or a
		// stray underline.
		if isAdornment(line) && len(strings.TrimSpace(line)) >= 3 {
			if isBlank(at(i-1)) && isBlank(at(i+1)) {
				continue
			}
			return nil, fmt.Errorf("%s:%d: punctuation line %q is neither a title underline nor a transition", source, n, strings.TrimSpace(line))
		}

		// Bullet item.
		if m := rstBulletRe.FindStringSubmatch(line); m != nil {
			endTop()
			for len(stack) > 0 && stack[len(stack)-1].indent >= ind {
				stack = stack[:len(stack)-1]
			}
			b := &rstBullet{indent: ind, line: n, section: append([]string(nil), path...)}
			if m[3] != "" {
				b.text = []string{m[3]}
			}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.children = append(top.children, b)
			} else {
				roots = append(roots, b)
			}
			stack = append(stack, b)
			para = &b.text
			continue
		}

		// Text: continues the current paragraph, or starts a new one.
		if para != nil {
			*para = append(*para, trimmed)
			continue
		}
		if topPara != nil {
			topPara = append(topPara, trimmed)
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= ind {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if len(top.text) == 0 && len(top.body) == 0 {
				para = &top.text
			} else {
				top.body = append(top.body, nil)
				para = &top.body[len(top.body)-1]
			}
			*para = append(*para, trimmed)
			continue
		}
		paraStart = n
		topPara = []string{trimmed}
	}
	endTop()

	// A lone top-level title over subsections is the document's title, not
	// a section.
	doc := &rstDoc{}
	ones, deeper := 0, false
	for _, h := range headings {
		if h.level == 1 {
			ones++
		} else {
			deeper = true
		}
	}
	dropTitle := len(headings) > 0 && headings[0].level == 1 && ones == 1 && deeper
	if dropTitle {
		doc.title = headings[0].title
	}
	strip := func(sec []string) []string {
		if dropTitle && len(sec) > 0 && sec[0] == doc.title {
			return sec[1:]
		}
		return sec
	}

	// Walk bullets depth-first, turning parents into subsections. Top-level
	// paragraphs are merged in by line number so that passages stay in
	// document order.
	var bulletPassages []passage
	var walk func(b *rstBullet, sec []string) error
	walk = func(b *rstBullet, sec []string) error {
		raw := strings.Join(b.text, " ")
		title, rest := "", raw
		if m := rstBoldLead.FindStringSubmatch(strings.TrimSpace(raw)); m != nil {
			title, rest = cleanInline(m[1]), m[2]
		}
		if len(b.children) > 0 {
			name := title
			if name == "" {
				name = strings.TrimRight(cleanInline(rest), ":")
			}
			sub := append(append([]string(nil), sec...), name)
			for _, c := range b.children {
				if err := walk(c, sub); err != nil {
					return err
				}
			}
			return nil
		}
		parts := []string{}
		if rest != "" {
			parts = append(parts, rest)
		}
		for _, p := range b.body {
			parts = append(parts, strings.Join(p, " "))
		}
		body := cleanInline(strings.Join(parts, " "))
		if body == "" && title == "" {
			return fmt.Errorf("%s:%d: empty bullet item", source, b.line)
		}
		psec := sec
		text := body
		if title != "" {
			psec = append(append([]string(nil), sec...), title)
			if body != "" {
				text = title + ": " + body
			} else {
				text = title
			}
		}
		bulletPassages = append(bulletPassages, passage{line: b.line, section: psec, title: title, text: text, bullet: true})
		return nil
	}
	for _, b := range roots {
		if err := walk(b, strip(b.section)); err != nil {
			return nil, err
		}
	}
	for i := range paras {
		paras[i].section = strip(paras[i].section)
		paras[i].text = cleanInline(paras[i].text)
	}
	// Merge the two ordered lists by line.
	i, j := 0, 0
	for i < len(bulletPassages) || j < len(paras) {
		if j >= len(paras) || (i < len(bulletPassages) && bulletPassages[i].line < paras[j].line) {
			doc.passages = append(doc.passages, bulletPassages[i])
			i++
		} else {
			doc.passages = append(doc.passages, paras[j])
			j++
		}
	}
	return doc, nil
}

// cleanInline removes RST inline markup (literals, strong emphasis, roles)
// and collapses white space, keeping the wording.
func cleanInline(s string) string {
	s = rstRoleRe.ReplaceAllString(s, "$1")
	s = rstLiteralRe.ReplaceAllString(s, "$1")
	s = rstStrongRe.ReplaceAllString(s, "$1")
	return strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
}

// passagesToClauses maps passages to clauses with the mapping table: mapped
// passages become (or merge into) the built-in clause of their id; unmapped
// bullets get a derived id and the verdict of their section; unmapped
// paragraphs are dropped.
func passagesToClauses(ps []passage, mp *docMapping) []Clause {
	k := Kernel()
	var clauses []Clause
	index := map[string]int{}
	ordinal := map[string]int{}
	for _, p := range ps {
		section := strings.Join(p.section, " / ")
		nsec := normalise(section)
		if p.bullet {
			ordinal[section]++
		}
		if id := mp.match(nsec, normalise(p.text)); id != "" {
			if i, ok := index[id]; ok {
				clauses[i].Text += "\n" + p.text
				continue
			}
			c, _ := k.Clause(id)
			c.Text = p.text
			c.Section = section
			index[id] = len(clauses)
			clauses = append(clauses, c)
			continue
		}
		if !p.bullet {
			continue
		}
		v, ok := mp.verdictFor(nsec)
		if !ok {
			continue
		}
		last := "top"
		if len(p.section) > 0 {
			last = slug(p.section[len(p.section)-1])
		}
		id := fmt.Sprintf("rst.%s.%d", last, ordinal[section])
		for n := 2; ; n++ {
			if _, dup := index[id]; !dup {
				break
			}
			id = fmt.Sprintf("rst.%s.%d.%d", last, ordinal[section], n)
		}
		title := p.title
		if title == "" {
			title = shortTitle(p.text)
		}
		index[id] = len(clauses)
		clauses = append(clauses, Clause{ID: id, Verdict: v, Title: title, Summary: p.text, Section: section, Text: p.text})
	}
	return clauses
}
