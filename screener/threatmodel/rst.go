package threatmodel

import (
	"fmt"
	"slices"
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

// indentOf returns the number of spaces s starts with.
func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// isBlank reports whether s holds nothing but white space.
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

// parseRSTDoc reads an RST document into its title and passages (see
// ParseRST for the subset it understands).
func parseRSTDoc(text, source string) (*rstDoc, error) {
	p := newRSTParser(text, source)
	if err := p.readLines(); err != nil {
		return nil, err
	}
	return p.document()
}

// rstParser reads an RST document line by line. The first pass
// (readLines) collects the section titles, the bullet trees and the
// paragraphs outside lists; the second (document) turns them into
// passages.
type rstParser struct {
	source string
	lines  []string // the document's lines, tabs expanded, trailing blanks cut
	i      int      // index of the line being read

	styles   []string     // title adornment styles in order of first use; a style's level is its index + 1
	headings []rstHeading // every section title, in document order
	path     []string     // the titles of the current section, one per level

	roots []*rstBullet // top-level bullets of every list
	open  []*rstBullet // the bullets that enclose the current line, outermost first

	// The paragraph being read: either lines of a bullet (bulletPara
	// points at that bullet's text or at one of its body paragraphs) or a
	// paragraph outside lists (topPara, started at line topParaStart).
	bulletPara   *[]string
	topPara      []string
	topParaStart int
	paras        []passage // finished paragraphs outside lists

	literalIndent int // indentation of the last non-blank line if it ended with "::", else -1
}

// rstBullet is a list item: its first paragraph, later paragraphs and
// nested items.
type rstBullet struct {
	indent   int
	line     int
	section  []string   // the section path the item sits in
	text     []string   // first paragraph lines
	body     [][]string // later paragraphs
	children []*rstBullet
}

// rstHeading is a section title and its level (1 is the outermost).
type rstHeading struct {
	line  int
	level int
	title string
}

// newRSTParser splits text into lines, with CRLF line ends, tabs and
// trailing blanks normalised.
func newRSTParser(text, source string) *rstParser {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(expandTabs(lines[i]), " ")
	}
	return &rstParser{source: source, lines: lines, literalIndent: -1}
}

// line returns line i, or "" outside the document.
func (p *rstParser) line(i int) string {
	if i >= 0 && i < len(p.lines) {
		return p.lines[i]
	}
	return ""
}

// errorf returns an error located at the 1-based line lineNo.
func (p *rstParser) errorf(lineNo int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: "+format, append([]any{p.source, lineNo}, args...)...)
}

// readLines is the first pass: it reads every line, stopping at the first
// error.
func (p *rstParser) readLines() error {
	for p.i = 0; p.i < len(p.lines); p.i++ {
		if err := p.readLine(); err != nil {
			return err
		}
	}
	p.endParagraph()
	return nil
}

// readLine reads the current line, and the lines after it that belong to
// the same construct (a title's adornments, a skipped block), leaving p.i
// on the last line it used.
func (p *rstParser) readLine() error {
	line := p.lines[p.i]
	if isBlank(line) {
		p.endParagraph()
		return nil
	}
	indent := indentOf(line)
	trimmed := line[indent:]
	if p.skipLiteralBlock(indent) {
		return nil
	}
	if strings.HasSuffix(trimmed, "::") && !strings.HasPrefix(trimmed, "..") {
		p.literalIndent = indent
	}
	if p.skipExplicitMarkup(indent, trimmed) {
		return nil
	}
	for _, read := range []func() (bool, error){p.overlinedTitle, p.underlinedTitle, p.transition} {
		if done, err := read(); done || err != nil {
			return err
		}
	}
	if m := rstBulletRe.FindStringSubmatch(line); m != nil {
		p.startBullet(indent, m[3])
		return nil
	}
	p.paragraphLine(indent, trimmed)
	return nil
}

// skipLiteralBlock skips a literal block (code, traces) starting at the
// current line and reports whether it did. Such a block follows a line
// ending in "::" and a blank line, is indented more than that line, and
// ends before the first line indented less than its own first line.
func (p *rstParser) skipLiteralBlock(indent int) bool {
	introIndent := p.literalIndent
	p.literalIndent = -1
	if introIndent < 0 || !isBlank(p.line(p.i-1)) || indent <= introIndent {
		return false
	}
	for p.i+1 < len(p.lines) && (isBlank(p.lines[p.i+1]) || indentOf(p.lines[p.i+1]) >= indent) {
		p.i++
	}
	return true
}

// skipExplicitMarkup skips an explicit markup block (a comment, target or
// directive: ".." and everything indented under it) and reports whether
// the current line starts one.
func (p *rstParser) skipExplicitMarkup(indent int, trimmed string) bool {
	if trimmed != ".." && !strings.HasPrefix(trimmed, ".. ") {
		return false
	}
	p.endParagraph()
	for p.i+1 < len(p.lines) && (isBlank(p.lines[p.i+1]) || indentOf(p.lines[p.i+1]) > indent) {
		p.i++
	}
	return true
}

// overlinedTitle reads a section title between an overline and an
// underline, if the current line is such an overline.
func (p *rstParser) overlinedTitle() (bool, error) {
	over, text, under := p.lines[p.i], p.line(p.i+1), p.line(p.i+2)
	if indentOf(over) != 0 || !isAdornment(over) || isBlank(text) || !isAdornment(under) || isAdornment(text) {
		return false, nil
	}
	n := p.i + 1
	title := strings.TrimSpace(text)
	if under != over {
		return true, p.errorf(n, "title overline and underline (line %d) differ", n+2)
	}
	if utf8.RuneCountInString(over) < utf8.RuneCountInString(title) {
		return true, p.errorf(n, "title overline too short for %q", title)
	}
	p.endParagraph()
	p.i += 2
	return true, p.heading(n+1, "over"+over[:1], title)
}

// underlinedTitle reads a section title, if the current line is one
// followed by an underline.
func (p *rstParser) underlinedTitle() (bool, error) {
	text, under := p.lines[p.i], p.line(p.i+1)
	if indentOf(text) != 0 || isAdornment(text) || !isAdornment(under) || rstBulletRe.MatchString(text) {
		return false, nil
	}
	n := p.i + 1
	title := strings.TrimSpace(text)
	if utf8.RuneCountInString(under) < utf8.RuneCountInString(title) {
		return true, p.errorf(n+1, "title underline too short for %q (line %d)", title, n)
	}
	if p.topPara != nil || p.bulletPara != nil {
		return true, p.errorf(n, "section title %q follows a paragraph without a blank line", title)
	}
	p.i++
	return true, p.heading(n, under[:1], title)
}

// transition accepts a line of three or more punctuation characters
// between blank lines (a transition), and rejects one elsewhere: it is
// then a stray underline.
func (p *rstParser) transition() (bool, error) {
	line := p.lines[p.i]
	if !isAdornment(line) || len(strings.TrimSpace(line)) < 3 {
		return false, nil
	}
	if isBlank(p.line(p.i-1)) && isBlank(p.line(p.i+1)) {
		return true, nil
	}
	return true, p.errorf(p.i+1, "punctuation line %q is neither a title underline nor a transition", strings.TrimSpace(line))
}

// heading opens the section titled title at line lineNo. Its adornment
// style gives its level: the level the style had when first used, or the
// next one. A title more than one level below the current section is an
// error. Lists do not continue across titles.
func (p *rstParser) heading(lineNo int, style, title string) error {
	level := slices.Index(p.styles, style) + 1
	if level == 0 {
		p.styles = append(p.styles, style)
		level = len(p.styles)
	}
	if level > len(p.path)+1 {
		return p.errorf(lineNo, "title %q is at level %d right under a level-%d section (title level inconsistent)", title, level, len(p.path))
	}
	p.path = append(p.path[:level-1], title)
	p.headings = append(p.headings, rstHeading{line: lineNo, level: level, title: title})
	p.open = nil
	return nil
}

// startBullet starts a list item at the given indentation, with text (may
// be empty) as its first line: a child of the innermost open item indented
// less, or a new top-level item.
func (p *rstParser) startBullet(indent int, text string) {
	p.endParagraph()
	p.closeBullets(indent)
	b := &rstBullet{indent: indent, line: p.i + 1, section: append([]string(nil), p.path...)}
	if text != "" {
		b.text = []string{text}
	}
	if parent := p.innermostBullet(); parent != nil {
		parent.children = append(parent.children, b)
	} else {
		p.roots = append(p.roots, b)
	}
	p.open = append(p.open, b)
	p.bulletPara = &b.text
}

// paragraphLine adds a line of text: it continues the paragraph being
// read, else starts a paragraph of the innermost item indented less than
// it (its first, if it has no text yet), else starts a paragraph outside
// lists.
func (p *rstParser) paragraphLine(indent int, text string) {
	switch {
	case p.bulletPara != nil:
		*p.bulletPara = append(*p.bulletPara, text)
		return
	case p.topPara != nil:
		p.topPara = append(p.topPara, text)
		return
	}
	p.closeBullets(indent)
	b := p.innermostBullet()
	if b == nil {
		p.topParaStart = p.i + 1
		p.topPara = []string{text}
		return
	}
	if len(b.text) == 0 && len(b.body) == 0 {
		p.bulletPara = &b.text
	} else {
		b.body = append(b.body, nil)
		p.bulletPara = &b.body[len(b.body)-1]
	}
	*p.bulletPara = append(*p.bulletPara, text)
}

// endParagraph ends the paragraph being read; one outside lists becomes a
// passage of the current section.
func (p *rstParser) endParagraph() {
	p.bulletPara = nil
	if p.topPara != nil {
		p.paras = append(p.paras, passage{line: p.topParaStart, section: append([]string(nil), p.path...), text: strings.Join(p.topPara, " ")})
		p.topPara = nil
	}
}

// closeBullets closes the open items indented at least indent: a line
// there cannot belong to them.
func (p *rstParser) closeBullets(indent int) {
	for len(p.open) > 0 && p.open[len(p.open)-1].indent >= indent {
		p.open = p.open[:len(p.open)-1]
	}
}

// innermostBullet returns the innermost open item, or nil outside lists.
func (p *rstParser) innermostBullet() *rstBullet {
	if len(p.open) == 0 {
		return nil
	}
	return p.open[len(p.open)-1]
}

// document is the second pass: it turns what readLines collected into the
// document's title and its passages in document order.
func (p *rstParser) document() (*rstDoc, error) {
	doc := &rstDoc{title: documentTitle(p.headings)}
	section := func(sec []string) []string {
		if doc.title != "" && len(sec) > 0 && sec[0] == doc.title {
			return sec[1:]
		}
		return sec
	}
	var bullets []passage
	for _, b := range p.roots {
		var err error
		if bullets, err = p.bulletPassages(bullets, b, section(b.section)); err != nil {
			return nil, err
		}
	}
	for i := range p.paras {
		p.paras[i].section = section(p.paras[i].section)
		p.paras[i].text = cleanInline(p.paras[i].text)
	}
	doc.passages = mergeByLine(bullets, p.paras)
	return doc, nil
}

// documentTitle returns the title of a document whose only top-level
// section holds subsections and comes first: that title names the
// document rather than a section. Otherwise it returns "".
func documentTitle(headings []rstHeading) string {
	top, deeper := 0, false
	for _, h := range headings {
		if h.level == 1 {
			top++
		} else {
			deeper = true
		}
	}
	if len(headings) > 0 && headings[0].level == 1 && top == 1 && deeper {
		return headings[0].title
	}
	return ""
}

// bulletPassages appends to out the passages of item b in section sec,
// depth first: a leaf item is one passage; an item with children opens a
// subsection named by its bold lead, or else by its text.
func (p *rstParser) bulletPassages(out []passage, b *rstBullet, sec []string) ([]passage, error) {
	title, rest := splitBoldLead(strings.Join(b.text, " "))
	if len(b.children) == 0 {
		leaf, err := p.leafPassage(b, sec, title, rest)
		return append(out, leaf), err
	}
	name := title
	if name == "" {
		name = strings.TrimRight(cleanInline(rest), ":")
	}
	sub := append(append([]string(nil), sec...), name)
	for _, c := range b.children {
		var err error
		if out, err = p.bulletPassages(out, c, sub); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// splitBoldLead splits an item's first paragraph into its bold lead
// ("**Configuration**:"), cleaned, and the raw text after it. Without a
// bold lead, title is "" and rest is raw.
func splitBoldLead(raw string) (title, rest string) {
	if m := rstBoldLead.FindStringSubmatch(strings.TrimSpace(raw)); m != nil {
		return cleanInline(m[1]), m[2]
	}
	return "", raw
}

// leafPassage is the passage of an item without children: its wording is
// rest and its later paragraphs, led by "title: " when it has a bold lead,
// and the title extends its section. An item with no words is an error.
func (p *rstParser) leafPassage(b *rstBullet, sec []string, title, rest string) (passage, error) {
	parts := []string{}
	if rest != "" {
		parts = append(parts, rest)
	}
	for _, para := range b.body {
		parts = append(parts, strings.Join(para, " "))
	}
	body := cleanInline(strings.Join(parts, " "))
	if body == "" && title == "" {
		return passage{}, p.errorf(b.line, "empty bullet item")
	}
	text := body
	if title != "" {
		sec = append(append([]string(nil), sec...), title)
		if body != "" {
			text = title + ": " + body
		} else {
			text = title
		}
	}
	return passage{line: b.line, section: sec, title: title, text: text, bullet: true}, nil
}

// mergeByLine merges two lists of passages, each in line order, into one
// in line order; on a tie the paragraph comes first.
func mergeByLine(bullets, paras []passage) []passage {
	var out []passage
	i, j := 0, 0
	for i < len(bullets) || j < len(paras) {
		if j >= len(paras) || (i < len(bullets) && bullets[i].line < paras[j].line) {
			out = append(out, bullets[i])
			i++
		} else {
			out = append(out, paras[j])
			j++
		}
	}
	return out
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
