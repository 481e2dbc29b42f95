package injection

import (
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Matching a few dozen large patterns over whole reports is slow with
// Go's regexp (no DFA). Each pattern therefore names anchor words, one of
// which every match contains; the text is cut into words once, and a
// pattern runs only on windows around its anchors' occurrences.

// readerAnchors are the words every reader phrase contains.
const readerAnchors = "ai llm llms gpt gpts chatgpt claude gemini copilot language automated automatic autonomous machine triage screening classification screener screeners bot bots assistant assistants model models"

// anchorWords lists each matcher's anchors, lower case, space-separated.
var anchorWords = map[string]string{
	"address-note":              readerAnchors,
	"address-reading":           readerAnchors,
	"address-if-you-are":        "if",
	"address-vocative":          readerAnchors,
	"address-modal":             readerAnchors,
	"address-whichever":         "whichever whatever any every each",
	"address-other-languages":   "ki ia ai llm kis ias modell modelo modèle modele modello assistente asistente assistent assistenten sprachmodell bot",
	"address-instructions":      readerAnchors,
	"demand-imperative":         "classify reclassify class categorize categorise recategorize mark label tag flag treat rate score grade rank triage file log record list consider deem regard handle process escalate route assign set downgrade upgrade close resolve dismiss register count judge assess evaluate conclude decide put keep submit report",
	"demand-answer":             "answer respond reply return output say print emit give",
	"demand-passive":            "be",
	"demand-assert":             "verdict classification triage screening label answer category decision outcome",
	"override-ignore":           "ignore disregard forget override overrule bypass skip drop abandon discard set do don stop pay",
	"override-skip-review":      "skip bypass avoid omit waive forgo circumvent short shortcircuit",
	"override-no-review":        "review triage verification checks check involvement oversight intervention scrutiny",
	"override-unnecessary":      "unnecessary not superfluous pointless redundant",
	"authority-decided-by":      "triaged classified assessed rated reviewed evaluated confirmed marked",
	"override-do-not":           "do don never must",
	"override-no-matter":        "matter",
	"override-new-instructions": "instruction instructions",
	"output-imperative":         "output return respond reply answer print emit produce generate give send write",
	"output-your-answer":        "your",
	"output-only":               "only",
	"role-token":                "im_start im_end im_sep system user assistant endoftext eot_id start_header_id end_header_id begin_of_text end_of_text eom_id python_tag inst sys start_of_turn end_of_turn system_prompt available_tools",
	"role-tag":                  "system system_prompt sys instruction instructions assistant admin",
	"role-heading":              "system instruction instructions response assistant admin administrator developer operator user human",
	"role-label":                "system developer admin administrator operator assistant ai model bot llm gpt chatgpt claude",
	"role-mode":                 "mode",
	"role-mode-switch":          "mode",
	"role-persona":              "you act pretend roleplay role play imagine from",
	"role-pretend":              "pretend imagine roleplay role play act",
	"role-play":                 "character",
	"role-game":                 "game now",
	"role-fence-begin":          "begin start end",
	"role-fence-secscreen":      "begin end",
	"role-fence-end":            "end",
	"prefilled-turn":            "assistant ai model gpt llm bot screener classifier triage",
	"prefilled-previous":        "result results output outputs answer answers verdict verdicts decision decisions response responses label labels classification classifications assessment assessments",
	"prefilled-model-wrote":     "wrote said answered replied concluded decided classified responded",
	"authority-as":              "confirm certify attest verify declare guarantee assure rule determine hereby have classify designate",
	"authority-pre":             "pre prevalidated preverified preapproved prescreened pretriaged precleared preclassified prevetted preauthorized preauthorised",
	"authority-validated-by":    "validated verified approved confirmed reviewed triaged classified cleared certified vetted",
	"authority-confirmed":       "confirmed verified determined decided agreed ruled concluded certified",
	"authority-officially":      "officially",
}

// leading lists the matchers whose matches start at their anchor word:
// their windows start there too, and are short.
var leading = map[string]bool{
	"demand-imperative": true, "demand-answer": true, "override-ignore": true, "override-skip-review": true,
	"override-do-not": true, "output-imperative": true, "output-only": true, "role-persona": true,
	"role-pretend": true, "authority-confirmed": true, "address-if-you-are": true, "override-no-matter": false,
}

// leadingReach is how far a leading matcher's window reaches past its
// anchor.
const leadingReach = 320

//go:generate go test -run ^TestAnchorsGenerated$ -args -update

// anchorIndex maps an anchor word to the indices of the matchers it
// anchors.
func anchorIndex() map[string][]int {
	idx := map[string][]int{}
	for i, m := range matchers {
		words, ok := anchorWords[m.name]
		if !ok {
			panic(fmt.Sprintf("injection: matcher %s has no anchors", m.name))
		}
		for _, w := range strings.Fields(words) {
			idx[w] = append(idx[w], i)
		}
	}
	return idx
}

// anchorTable is anchorIndex as a hash table of its own, which every word
// of every text is looked up in: its hash reads a word's length and three
// of its bytes, a fraction of what a map's hash of the whole word costs,
// and a word that is no anchor mostly finds an empty slot at once, in a
// bit map small enough to stay in the nearest cache.
type anchorTable struct {
	slots []anchorSlot // open addressing, a power of two of them
	taken []uint64     // a bit per slot: it holds a word
	shift uint         // 32 less the bits of a slot's index
	// leading is, by matcher, whether it is one of leading.
	leading []bool
	// word is, by byte, whether it is a word byte to the anchors (see
	// isWordByte).
	word [256]bool
}

// anchorSlot is an anchor word and the matchers it anchors; an empty
// word is an empty slot.
type anchorSlot struct {
	word     string
	matchers []int
}

var anchors struct {
	once  sync.Once
	table *anchorTable
}

// theAnchorTable returns the anchor table: the one go generate wrote
// (anchors_gen.go, read in place: building it took ~0.7 ms of a
// one-report run, most of it first touches of fresh memory) while the
// anchors it was made from are today's, or else one built at first use.
func theAnchorTable() *anchorTable {
	anchors.once.Do(func() {
		if generatedAnchorsSum == anchorsSum() {
			anchors.table = &generatedAnchors
			return
		}
		anchors.table = buildAnchorTable()
	})
	return anchors.table
}

// anchorsSum is a hash of what the anchor table is made from: each
// matcher's name, anchors and leading flag, in the order of matchers.
func anchorsSum() uint64 {
	h := fnv.New64a()
	for _, m := range matchers {
		io.WriteString(h, m.name)
		io.WriteString(h, "\x00")
		io.WriteString(h, anchorWords[m.name])
		if leading[m.name] {
			io.WriteString(h, "\x00leading")
		}
		io.WriteString(h, "\n")
	}
	return h.Sum64()
}

// buildAnchorTable builds the anchor table from anchorWords and leading,
// placing the words in sorted order so that the table is the same in
// every run (go generate writes it).
func buildAnchorTable() *anchorTable {
	idx := anchorIndex()
	t := new(anchorTable)
	bits := uint(1)
	for 1<<bits < 4*len(idx) {
		bits++
	}
	t.slots, t.taken, t.shift = make([]anchorSlot, 1<<bits), make([]uint64, max(1, (1<<bits)/64)), 32-bits
	for _, w := range slices.Sorted(maps.Keys(idx)) {
		i := t.slot(len(w), w[0], w[len(w)/2], w[len(w)-1])
		for t.slots[i].word != "" {
			i = (i + 1) & (len(t.slots) - 1)
		}
		t.slots[i] = anchorSlot{word: w, matchers: idx[w]}
		t.taken[i/64] |= 1 << (i % 64)
	}
	for c := range t.word {
		t.word[c] = isWordByte(byte(c))
	}
	t.leading = make([]bool, len(matchers))
	for i, m := range matchers {
		t.leading[i] = leading[m.name]
	}
	return t
}

// slot is where the probe for a word of n bytes (n > 0) whose first,
// middle (at n/2) and last bytes are first, mid and last starts.
func (t *anchorTable) slot(n int, first, mid, last byte) int {
	h := uint32(n) | uint32(first)<<8 | uint32(mid)<<16 | uint32(last)<<24
	return int(h * 0x9E3779B1 >> t.shift)
}

// find returns the matchers the word text[i:j] (not empty) anchors, read
// in lower case; buf is room for the lowered word.
func (t *anchorTable) find(text string, i, j int, buf *[24]byte) []int {
	n := j - i
	if n > len(buf) {
		return nil
	}
	k := t.slot(n, lowerByte(text[i]), lowerByte(text[i+n/2]), lowerByte(text[j-1]))
	if t.taken[k/64]&(1<<(k%64)) == 0 {
		return nil // most words: lowered only when they may be an anchor
	}
	for p := range n {
		buf[p] = lowerByte(text[i+p])
	}
	w := buf[:n]
	for ; ; k = (k + 1) & (len(t.slots) - 1) {
		s := &t.slots[k]
		if s.word == "" {
			return nil
		}
		if s.word == string(w) {
			return s.matchers
		}
	}
}

// lowerByte is c in lower case, when an ASCII letter.
func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	return c
}

// Window sizes around an anchor: a match may start this far before its
// anchor and end this far after it.
const (
	windowBefore = 260
	windowAfter  = 420
	// lineReach bounds how far a window is widened to whole lines.
	lineReach = 2000
)

// window is where a matcher's pattern is run: norm[s:e] of a part.
type window struct{ m, s, e int }

// anchorWindows returns the windows of t that each matcher's anchors call
// for, merged, widened to whole lines (within lineReach) so that ^, $ and
// \b read at the window's edges as they do in t, in the order of the
// matchers, and of t for each.
func anchorWindows(t string) []window {
	table := theAnchorTable()
	var out []window
	last := make([]int32, len(matchers)) // by matcher: its last window in out, plus 1
	var buf [24]byte                     // room for a word in lower case
	word := &table.word
	for i := 0; i < len(t); {
		if !word[t[i]] {
			i++
			continue
		}
		j := i + 1
		for j < len(t) && word[t[j]] {
			j++
		}
		for _, m := range table.find(t, i, j, &buf) {
			s, e := max(0, i-windowBefore), min(len(t), j+windowAfter)
			if table.leading[m] {
				s, e = i, min(len(t), i+leadingReach)
			}
			if k := last[m] - 1; k >= 0 && out[k].e >= s {
				out[k].e = max(out[k].e, e)
			} else {
				out = append(out, window{m: m, s: s, e: e})
				last[m] = int32(len(out))
			}
		}
		i = j
	}
	for k, w := range out {
		if !table.leading[w.m] {
			out[k].s, out[k].e = widen(t, w.s, w.e)
			continue
		}
		// Starts at a word; ends after one, so that \b reads as in t.
		for out[k].e < len(t) && isWordByte(t[out[k].e]) {
			out[k].e++
		}
	}
	if len(out) == 0 {
		return nil
	}
	// In the order of the matchers, each one's in the order of t: a
	// counting sort, last now counting.
	clear(last)
	for _, w := range out {
		last[w.m]++
	}
	var at int32
	for m, n := range last {
		last[m], at = at, at+n
	}
	sorted := make([]window, len(out))
	for _, w := range out {
		sorted[last[w.m]] = w
		last[w.m]++
	}
	return sorted
}

// widen moves the edges of the window t[start:end] out to line
// boundaries, or, past lineReach, to the nearest white space.
func widen(t string, start, end int) (int, int) {
	lo := max(0, start-lineReach)
	s := lo + strings.LastIndexByte(t[lo:start], '\n') + 1 // lo when there is none
	if s > 0 && t[s-1] != '\n' {
		for s < start && t[s] != ' ' && t[s] != '\t' {
			s++
		}
	}
	hi := min(len(t), end+lineReach)
	e := hi
	if k := strings.IndexByte(t[end:hi], '\n'); k >= 0 {
		e = end + k
	}
	return s, e
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for k := i; k < len(b); k++ {
				if b[k] >= 'A' && b[k] <= 'Z' {
					b[k] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
