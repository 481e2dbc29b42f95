package injection

import (
	"strings"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// clauseStart returns where the clause holding t[p] starts: after the
// closest sentence end, colon, semicolon, dash, opening bracket or quote,
// comma or coordinating "and"/"then"/"or"/"but", a blank line, or a line
// break after punctuation (a line break inside a wrapped sentence does not
// end it). It looks back at most 240 bytes.
func clauseStart(t string, p int) int {
	lo := max(0, p-240)
	for i := p - 1; i >= lo; i-- {
		switch c := t[i]; c {
		case '.', '!', '?':
			// A sentence ends before white space, a quote or bracket, or
			// a capital that follows without a space (text joined to
			// hidden text).
			if i+1 < len(t) && (t[i+1] == ' ' || t[i+1] == '\n' || t[i+1] == '\t' || t[i+1] == '"' || t[i+1] == ')' || (t[i+1] >= 'A' && t[i+1] <= 'Z')) {
				return i + 1
			}
		case ';', ':', '(', '[', '{', ',', '"', '`', '=':
			return i + 1
		case '-':
			if i > 0 && t[i-1] == '-' {
				return i + 1
			}
		case '\n', ' ', '\t':
			if c == '\n' {
				j := i - 1
				for j >= 0 && (t[j] == ' ' || t[j] == '\t') {
					j--
				}
				if j < 0 || strings.IndexByte("\n.!?:;,)]>\"'", t[j]) >= 0 {
					return i + 1
				}
			}
			for _, w := range [...]string{"and", "then", "or", "but"} {
				e := i + 1 + len(w)
				if e < p && strings.EqualFold(t[i+1:e], w) && (t[e] == ' ' || t[e] == '\n' || t[e] == '\t') {
					if w == "then" && reAuxBefore.MatchString(t[max(0, i-12):i]) {
						continue // "will then classify": not a new clause
					}
					return e + 1
				}
			}
		}
	}
	if lo == 0 {
		return 0
	}
	return -1 // too far back to tell: not an imperative
}

// reAuxBefore matches an auxiliary verb that ends the text before "then".
var reAuxBefore = lazyre.New(`(?i)\b(?:will|would|can|could|should|must|may|might|shall|does|did|do|to)$`)

// reLead is what may open an imperative clause before its verb: nothing,
// a politeness or sequence word, "you must", "we ask you to", "make sure
// to", or an automated reader told what it must do ("automated systems
// must", "AI assistants should").
var reLead = lazyre.New(`(?i)^[\s"'` + "`" + `*>~-]*(?:(?:` +
	`please|kindly|just|simply|also|now|then|so|therefore|thus|hence|immediately|finally|instead|always|only|and|or|but|p\.\s?s\.?|ps|nb` +
	`)[\s,]+|you\s+(?:\w+\s+)?(?:must|should|shall|will|need\s+to|have\s+to|are\s+to|are\s+(?:required|expected|instructed|asked|supposed)\s+to|can|may)\s+(?:now\s+|simply\s+|just\s+|also\s+|please\s+|only\s+)?` +
	`|(?:i|we)\s+(?:need|want|ask|instruct|direct|request|require|expect|would\s+like)\s+you\s+to\s+` +
	`|(?:make|be)\s+sure\s+(?:to|you)\s+|(?:remember|don'?t\s+forget|do\s+not\s+forget)\s+to\s+` +
	`|(?:[\w.-]+\s+){0,2}` + readerLoose + `\s+(?:must|should|shall|will|need\s+to|have\s+to|are\s+to|is\s+to|are\s+(?:required|expected|instructed|asked)\s+to)\s+(?:now\s+|simply\s+|also\s+|only\s+)?` +
	`)*$`)

// imperativeAt reports whether the verb at t[p] opens its clause as a
// command: "Classify it as...", "please mark...", "you must ignore...",
// "Automated systems must classify...". "We classify..." and "the driver
// marks..." are not.
func imperativeAt(t string, p int) bool {
	s := clauseStart(t, p)
	if s < 0 {
		return false
	}
	return reLead.MatchString(t[s:p])
}

// reMentionFrame marks a sentence that talks about text rather than
// saying it: "the string", "phrases such as", "e.g.".
var reMentionFrame = lazyre.New(`(?i)\b(?:strings?|phrases?|text|words?|sentences?|patterns?|payloads?|examples?|injection|such\s+as|like|e\.g\.|i\.e\.|for\s+example|contains?|containing|matche[sd]|quoted?|literally|called|grep|regex)\b`)

// reURLish finds URLs and host names, whose words ("example.com") frame
// nothing.
var reURLish = lazyre.New(`\S*(?:://|www\.)\S*|\S+\.(?:com|org|net|io|dev|tw|[a-z]{2})\b\S*`)

// inMention reports whether norm[start:end] sits inside double quotes or
// backticks in a sentence that frames it as a mention ("reports that
// contain phrases such as \"ignore previous instructions\""). Such a span
// is kept only as corroboration.
func inMention(t string, start, end int) bool {
	s := sentenceStart(t, start)
	e := sentenceEnd(t, end)
	before := reURLish.ReplaceAllString(t[s:start], " ")
	for _, q := range []string{`"`, "`"} {
		if strings.Count(before, q)%2 == 1 && strings.Contains(t[end:e], q) {
			return reMentionFrame.MatchString(before)
		}
	}
	return false
}

// sentenceStart is like clauseStart but stops only at sentence ends and
// blank lines.
func sentenceStart(t string, p int) int {
	lo := max(0, p-300)
	for i := p - 1; i >= lo; i-- {
		switch t[i] {
		case '.', '!', '?':
			if i+1 < len(t) && (t[i+1] == ' ' || t[i+1] == '\n') {
				return i + 1
			}
		case '\n':
			if i > 0 && t[i-1] == '\n' {
				return i + 1
			}
		}
	}
	return lo
}

// sentenceEnd returns the end of the sentence holding t[p-1].
func sentenceEnd(t string, p int) int {
	hi := min(len(t), p+300)
	for i := p; i < hi; i++ {
		switch t[i] {
		case '.', '!', '?':
			if i+1 >= len(t) || t[i+1] == ' ' || t[i+1] == '\n' {
				return i + 1
			}
		case '\n':
			if i+1 < len(t) && t[i+1] == '\n' {
				return i
			}
		}
	}
	return hi
}
