package threatmodel

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readPassages parses src and returns its passages as
// "line|section|text|b" strings (b marks a bullet), for compact tables.
func readPassages(t *testing.T, src string) (title string, got []string) {
	t.Helper()
	doc, err := parseRSTDoc(src, "t.rst")
	require.NoError(t, err)
	for _, p := range doc.passages {
		kind := "p"
		if p.bullet {
			kind = "b"
		}
		got = append(got, strings.Join([]string{strconv.Itoa(p.line), strings.Join(p.section, " / "), p.text, kind}, "|"))
	}
	return doc.title, got
}

func TestRSTParserConstructs(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{{
		name: "a paragraph's lines join; a blank line ends it",
		src:  "Sec\n===\n\nfirst line\nsecond line\n\nnext paragraph\n",
		want: []string{"4|Sec|first line second line|p", "7|Sec|next paragraph|p"},
	}, {
		name: "a bullet's later paragraph joins its wording; a line indented less closes the list",
		src:  "Sec\n===\n\n* item\n\n  more about it\n\nafter the list\n",
		want: []string{"4|Sec|item more about it|b", "8|Sec|after the list|p"},
	}, {
		name: "a bullet without text on its line takes the next paragraph as its first",
		src:  "Sec\n===\n\n*\n\n  **Lead**: words\n",
		want: []string{"4|Sec / Lead|Lead: words|b"},
	}, {
		name: "a bold lead alone is the whole wording and extends the section",
		src:  "Sec\n===\n\n* **Only a lead**\n",
		want: []string{"4|Sec / Only a lead|Only a lead|b"},
	}, {
		name: "a parent item without bold text names its subsection by its text, less a colon",
		src:  "Sec\n===\n\n* Some ``things``:\n\n  - child one\n  - child two\n",
		want: []string{"6|Sec / Some things|child one|b", "7|Sec / Some things|child two|b"},
	}, {
		name: "explicit markup and what is indented under it are skipped",
		src:  "Sec\n===\n\n.. note::\n   * not a bullet\n\n   still the note\n\n* a bullet\n",
		want: []string{"9|Sec|a bullet|b"},
	}, {
		name: "a literal block needs a blank line and more indentation after the \"::\"",
		src:  "Sec\n===\n\nExample::\n\n    code\n\n* a bullet::\n\n* not code\n",
		want: []string{"4|Sec|Example::|p", "8|Sec|a bullet::|b", "10|Sec|not code|b"},
	}, {
		name: "a transition between blank lines is skipped",
		src:  "Sec\n===\n\none\n\n-----\n\ntwo\n",
		want: []string{"4|Sec|one|p", "8|Sec|two|p"},
	}, {
		name: "a new title closes the list above it",
		src:  "AA\n==\n\n* in A\n\nBB\n==\n\n  indented text\n",
		want: []string{"4|AA|in A|b", "9|BB|indented text|p"},
	}, {
		name: "paragraphs and bullets keep document order",
		src:  "Sec\n===\n\n* one\n\nprose\n\n* two\n",
		want: []string{"4|Sec|one|b", "6|Sec|prose|p", "8|Sec|two|b"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, got := readPassages(t, c.src)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestRSTParserHeadingLevels(t *testing.T) {
	src := "=====\nDoc\n=====\n\nOne\n===\n\nSub\n---\n\n* in sub\n\nTwo\n===\n\n* in two\n"
	title, got := readPassages(t, src)
	assert.Equal(t, "Doc", title, "an overlined style differs from the same character underlined")
	assert.Equal(t, []string{"11|One / Sub|in sub|b", "16|Two|in two|b"}, got, "a style keeps the level it had when first used")

	p := newRSTParser("", "t.rst")
	require.NoError(t, p.heading(1, "=", "A"))
	require.NoError(t, p.heading(2, "-", "B"))
	require.NoError(t, p.heading(3, "~", "C"))
	require.NoError(t, p.heading(4, "-", "D"))
	assert.Equal(t, []string{"A", "D"}, p.path, "going back up a level replaces the deeper titles")
	err := p.heading(5, "^", "E")
	require.Error(t, err, "a fourth style at level 4 skips level 3")
	assert.Contains(t, err.Error(), `t.rst:5: title "E" is at level 4 right under a level-2 section`)
}

func TestRSTDocumentTitle(t *testing.T) {
	h := func(level int, title string) rstHeading { return rstHeading{level: level, title: title} }
	assert.Equal(t, "", documentTitle(nil))
	assert.Equal(t, "", documentTitle([]rstHeading{h(1, "Only")}), "a lone title without subsections is a section")
	assert.Equal(t, "Doc", documentTitle([]rstHeading{h(1, "Doc"), h(2, "A"), h(2, "B")}))
	assert.Equal(t, "", documentTitle([]rstHeading{h(1, "A"), h(2, "a"), h(1, "B")}), "two top-level sections: no document title")
}

func TestRSTSplitBoldLead(t *testing.T) {
	title, rest := splitBoldLead("  **Physical ``access``**: issues that need it ")
	assert.Equal(t, "Physical access", title)
	assert.Equal(t, "issues that need it", rest)
	title, rest = splitBoldLead("plain **bold** later")
	assert.Equal(t, "", title, "only a leading bold phrase is a lead")
	assert.Equal(t, "plain **bold** later", rest)
}

func TestRSTMergeByLine(t *testing.T) {
	b := []passage{{line: 2, text: "b2"}, {line: 5, text: "b5"}}
	p := []passage{{line: 1, text: "p1"}, {line: 5, text: "p5"}, {line: 9, text: "p9"}}
	var got []string
	for _, x := range mergeByLine(b, p) {
		got = append(got, x.text)
	}
	assert.Equal(t, []string{"p1", "b2", "p5", "b5", "p9"}, got)
	assert.Empty(t, mergeByLine(nil, nil))
}
