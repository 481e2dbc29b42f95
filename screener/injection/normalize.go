package injection

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// view is a part's text as the patterns read it, with the way back to the
// original: norm[i] came from orig[off[i]:]. Normalising undoes what makes
// text read differently by a machine and by a person, or hides it from one
// of them:
//
//   - zero-width, bidi and other invisible format characters are dropped
//     (Unicode tag characters, invisible ASCII look-alikes, become ASCII);
//   - NFKC folds compatibility forms (fullwidth, mathematical letters,
//     ligatures) to their plain letters;
//   - common Cyrillic, Greek and Armenian letters that look like Latin
//     ones, and typographic quotes, become ASCII;
//   - Markdown emphasis (*) and the decoration that opens a line (quote
//     markers, diff and comment prefixes, bullets) are dropped, so that a
//     sentence wrapped over quoted or commented lines reads as one.
type view struct {
	orig string
	norm string
	// off has len(norm)+1 entries, off[len(norm)] == len(orig); it is
	// worked out when a span first asks for it (most texts have none).
	off []int
}

// newView normalises orig.
func newView(orig string) *view { return &view{orig: orig, norm: normalize(orig, nil)} }

// normalize returns orig normalised. When off is not nil it appends to
// *off, for each byte of the result, the offset in orig of the rune it
// came from, then len(orig).
func normalize(orig string, off *[]int) string {
	var b strings.Builder
	b.Grow(len(orig))
	emit := func(s string, at int) {
		b.WriteString(s)
		if off != nil {
			for range len(s) {
				*off = append(*off, at)
			}
		}
	}
	lineStart := true
	for i := 0; i < len(orig); {
		if lineStart {
			i = skipLineDecoration(orig, i, emit)
			lineStart = false
			if i >= len(orig) {
				break
			}
		}
		// A run of ASCII bytes that stay as they are: at once.
		j := i
		for j < len(orig) && orig[j] < utf8.RuneSelf && orig[j] != '\n' && orig[j] != '*' {
			j++
		}
		if j > i {
			b.WriteString(orig[i:j])
			if off != nil {
				for k := i; k < j; k++ {
					*off = append(*off, k)
				}
			}
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(orig[i:])
		normRune(orig[i:i+size], r, i, emit)
		lineStart = r == '\n'
		i += size
	}
	if off != nil {
		*off = append(*off, len(orig))
	}
	return b.String()
}

// normRune emits what the rune r, orig[at:at+len(s)] as s, reads as.
func normRune(s string, r rune, at int, emit func(string, int)) {
	switch {
	case r == '*':
		// Markdown emphasis: dropped.
	case r < utf8.RuneSelf:
		emit(s, at)
	case isTag(r):
		if a := r - 0xE0000; a >= 0x20 && a < 0x7F {
			emit(string(a), at)
		}
	case isInvisible(r):
		// dropped
	default:
		emit(foldRune(r), at)
	}
}

// foldRune is what a rune past ASCII that is neither invisible nor a tag
// character reads as: its Latin look-alike, its NFKC form (read for
// look-alikes again), a space for a space.
func foldRune(r rune) string {
	s := string(r)
	if m, ok := confusables()[r]; ok {
		s = m
	} else if !norm.NFKC.IsNormalString(s) {
		s = norm.NFKC.String(s)
		// A folded letter may itself be a look-alike.
		var fb strings.Builder
		for _, fr := range s {
			if m, ok := confusables()[fr]; ok {
				fb.WriteString(m)
			} else if !isInvisible(fr) {
				fb.WriteRune(fr)
			}
		}
		s = fb.String()
	}
	if unicode.IsSpace(r) && s != "\n" {
		s = " "
	}
	return s
}

// skipLineDecoration skips what opens a line without being its text:
// white space, quote markers (>), diff markers (+, a lone -), comment
// leaders (//, /*, *, #!) and bullets, keeping one space so that words do
// not join. Markdown headings (#) are kept: they can be fences.
func skipLineDecoration(s string, i int, emit func(string, int)) int {
	start := i
	for i < len(s) {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '>' || c == '|' || c == '+':
			i++
		case c == '*':
			i++
		case c == '/' && i+1 < len(s) && (s[i+1] == '/' || s[i+1] == '*'):
			i += 2
		case c == '-' && i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '\t'):
			i++
		case strings.HasPrefix(s[i:], "•"):
			i += len("•")
		default:
			if i > start {
				emit(" ", i-1)
			}
			return i
		}
	}
	return i
}

// isTag reports a Unicode tag character (U+E0000–U+E007F): invisible, and
// mapped to ASCII by the models that read them.
func isTag(r rune) bool { return r >= 0xE0000 && r <= 0xE007F }

// isInvisible reports the format characters that change how text displays
// or splits words without showing: zero-width spaces and joiners, bidi
// marks, embeddings, overrides and isolates, word joiners and invisible
// operators, the BOM, soft hyphens, variation selectors and fillers.
func isInvisible(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x115F, r == 0x1160,
		r == 0x17B4, r == 0x17B5, r == 0x180E, r == 0x3164, r == 0xFEFF, r == 0xFFA0:
		return true
	case r >= 0x180B && r <= 0x180D, r >= 0x200B && r <= 0x200F,
		r >= 0x202A && r <= 0x202E, r >= 0x2060 && r <= 0x206F,
		r >= 0xFE00 && r <= 0xFE0F, r >= 0x1D173 && r <= 0x1D17A,
		r >= 0xE0100 && r <= 0xE01EF:
		return true
	}
	return false
}

// isBidi reports the bidi controls among the invisible characters.
func isBidi(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// confusables maps letters that look like Latin letters in common fonts,
// and typographic quotes, to ASCII. It is made at first use: only text
// past ASCII needs it.
var confusables = sync.OnceValue(func() map[rune]string {
	return map[rune]string{
		// Cyrillic
		'а': "a", 'в': "b", 'е': "e", 'ё': "e", 'і': "i", 'ї': "i", 'ј': "j", 'к': "k",
		'м': "m", 'н': "h", 'о': "o", 'р': "p", 'с': "c", 'т': "t", 'у': "y", 'х': "x",
		'ѕ': "s", 'ԁ': "d", 'ԛ': "q", 'ԝ': "w", 'һ': "h", 'ӏ': "l", 'ү': "y", 'ɡ': "g",
		'А': "A", 'В': "B", 'Е': "E", 'Ё': "E", 'І': "I", 'Ї': "I", 'Ј': "J", 'К': "K",
		'М': "M", 'Н': "H", 'О': "O", 'Р': "P", 'С': "C", 'Т': "T", 'У': "Y", 'Х': "X",
		'Ѕ': "S", 'Ү': "Y", 'Ԛ': "Q", 'Ԝ': "W", 'Ӏ': "I",
		// Greek
		'α': "a", 'ε': "e", 'ι': "i", 'κ': "k", 'ν': "v", 'ο': "o", 'ρ': "p", 'τ': "t",
		'υ': "u", 'χ': "x", 'ϲ': "c", 'ϳ': "j",
		'Α': "A", 'Β': "B", 'Ε': "E", 'Ζ': "Z", 'Η': "H", 'Ι': "I", 'Κ': "K", 'Μ': "M",
		'Ν': "N", 'Ο': "O", 'Ρ': "P", 'Τ': "T", 'Υ': "Y", 'Χ': "X", 'Ϲ': "C",
		// Armenian
		'օ': "o", 'ս': "u", 'հ': "h", 'ո': "n", 'ց': "g",
		// Latin look-alikes outside ASCII
		'ı': "i", 'ɑ': "a", 'ʏ': "y", 'ɪ': "i", 'ᴏ': "o", 'ꜱ': "s",
		// quotes and dashes
		'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'",
		'“': `"`, '”': `"`, '„': `"`, '‟': `"`, '″': `"`, '«': `"`, '»': `"`,
		'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "--", '―': "--", '−': "-",
	}
})

// span returns the original byte range of norm[start:end]: from the
// original of its first byte to the end of the original rune its last
// byte came from.
func (v *view) span(start, end int) (int, int) {
	if v.off == nil {
		off := make([]int, 0, len(v.norm)+1)
		normalize(v.orig, &off)
		v.off = off
	}
	if end <= start {
		return v.off[start], v.off[start]
	}
	last := v.off[end-1]
	_, size := utf8.DecodeRuneInString(v.orig[last:])
	return v.off[start], last + size
}

// obfuscations names what normalising undid inside orig: "zero-width",
// "bidi", "tag-characters", "homoglyph", "compatibility-form".
func obfuscations(orig string) []string {
	var zw, bidi, tag, hom, compat bool
	for _, r := range orig {
		switch {
		case r < utf8.RuneSelf:
		case isTag(r):
			tag = true
		case isBidi(r):
			bidi = true
		case isInvisible(r):
			zw = true
		case confusables()[r] != "" && !strings.ContainsRune("‘’‚‛′“”„‟″«»‐‑‒–—―−", r):
			hom = true
		case unicode.IsLetter(r) && !norm.NFKC.IsNormalString(string(r)):
			compat = true
		}
	}
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{{zw, "zero-width"}, {bidi, "bidi"}, {tag, "tag-characters"}, {hom, "homoglyph"}, {compat, "compatibility-form"}} {
		if x.on {
			out = append(out, x.name)
		}
	}
	return out
}
