package charset

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	gmcharset "github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/transform"
)

// oldNames returns every name go-message's charset package can know:
// the names and aliases of ianaindex, htmlindex and its own table, the
// canonical names the indexes give their encodings, the IANA names
// without their "cs" prefix (go-message tried "cs"+name), and names
// secscreen's inputs are known to carry or that the indexes lack.
func oldNames(t *testing.T) []string {
	t.Helper()
	names := slices.Concat(ianaNames(t), htmlNames(t), goMessageNames(t))
	for _, k := range knownEncodings {
		for _, x := range []*ianaindex.Index{ianaindex.MIME, ianaindex.IANA, ianaindex.MIB} {
			if n, err := x.Name(k.enc); err == nil {
				names = append(names, n)
			}
		}
		if n, err := htmlindex.Name(k.enc); err == nil {
			names = append(names, n)
		}
	}
	for _, n := range names {
		if len(n) > 2 && strings.EqualFold(n[:2], "cs") {
			names = append(names, n[2:])
		}
	}
	names = append(names, "", " ", "utf-8", "UTF8", "us-ascii", "ascii", "latin1", "latin-1", "x-no-such-charset",
		"utf-7", "utf-16", "utf-32", "ucs-2", "iso-8859-11", "iso-8859-12", "tis-620", "gb2312", "x-sjis", "sjis",
		"ks_c_5601-1987", "x-mac-roman", "macroman", "iso-2022-kr", "iso-2022-cn", "x-user-defined",
		"replacement", "unicode-1-1-utf-8", "windows-31j", "cp932", "cp936", "cp949", "cp1252", "x-gbk",
		"iso-ir-100", "l1", "koi8", "utf-16le", "utf-16be", "x-unknown", "unknown-8bit", "default", "8bit")
	slices.Sort(names)
	return slices.Compact(names)
}

// spellings returns name as mail might spell it: other cases, white
// space and quotes around it, prefixes, other separators, look-alike
// letters that case folding maps to ASCII (the Kelvin sign) or not.
func spellings(name string, rng *rand.Rand) []string {
	flip := []byte(name)
	for i, c := range flip {
		if 'a' <= c && c <= 'z' && rng.IntN(2) == 0 {
			flip[i] = c - 'a' + 'A'
		}
	}
	return []string{
		name, strings.ToUpper(name), strings.ToLower(name), string(flip),
		" " + name, name + " ", "\t" + name + "\r\n", "\u00a0" + name, name + "\u0085",
		`"` + name + `"`, "'" + name + "'", "<" + name + ">",
		"cs" + name, "CS" + name, " cs" + name, "cs " + name, "x-" + name, name + "x", name + "\x00",
		strings.ReplaceAll(name, "-", "_"), strings.ReplaceAll(name, "_", "-"), strings.ReplaceAll(name, "-", ""),
		strings.ReplaceAll(name, "-", " "),
		strings.ReplaceAll(strings.ToLower(name), "k", "\u212a"), // KELVIN SIGN lower-cases to k
		strings.ReplaceAll(strings.ToLower(name), "i", "\u0130"), // İ lower-cases to i and a combining dot
	}
}

// randomNames returns n names made of the letters charset names use.
func randomNames(n int, rng *rand.Rand) []string {
	const letters = "abcdefgijklmnoprstuwxyz-_0123456789.: "
	out := make([]string, n)
	for i := range out {
		b := make([]byte, 1+rng.IntN(12))
		for j := range b {
			b[j] = letters[rng.IntN(len(letters))]
		}
		out[i] = string(b)
	}
	return out
}

// shortSamples are inputs that tell the encodings apart: every byte, the
// byte order marks at the start of a text, and escapes of the stateful
// encodings.
func shortSamples() [][]byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	return [][]byte{
		all,
		[]byte("\xfe\xff\x00h\x00i\xd8\x3d\xde\x00"),
		[]byte("\xff\xfeh\x00i\x00\x3d\xd8\x00\xde"),
		[]byte("\xef\xbb\xbfhi \xe2\x82\xac"),
		[]byte("a\x1b$B\x30\x21\x1b(Bb ~{\x30\x21~}c \x81\x30\x81\x30 \x82\xa0"),
	}
}

// longSamples are shortSamples and inputs that exercise the multi-byte
// encodings: every byte after every lead byte, inputs that end inside a
// character, and random bytes.
func longSamples() [][]byte {
	var pairs []byte
	for lead := 0x80; lead <= 0xff; lead++ {
		for _, trail := range []byte{0x00, 0x21, 0x30, 0x40, 0x5c, 0x7e, 0x7f, 0x80, 0xa1, 0xc0, 0xe0, 0xfe, 0xff} {
			pairs = append(pairs, byte(lead), trail, ' ')
		}
		pairs = append(pairs, byte(lead), 0x30, 0x81, 0x30, ' ')
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	return append(shortSamples(), pairs, random, []byte("a\x81"), []byte("a\x1b$"), []byte("a~{"), []byte("\xfe"), []byte("\x81\x30\x81"))
}

// decodeAll reads samples through the reader that newReader gives each.
func decodeAll(t *testing.T, name string, samples [][]byte, newReader func(string, io.Reader) (io.Reader, error)) []string {
	t.Helper()
	out := make([]string, len(samples))
	for i, s := range samples {
		r, err := newReader(name, bytes.NewReader(s))
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		b, err := io.ReadAll(r)
		out[i] = string(b)
		if err != nil {
			out[i] += "\x00error: " + err.Error()
		}
	}
	return out
}

// TestLookupEqualsGoMessage: for every name go-message's charset package
// knows, spellings of those names and random names, Reader accepts what
// it accepted, rejects what it rejected with the same error text, and
// decodes the samples to the same text (every byte, lead and trail
// bytes, byte order marks, escapes, truncated characters, random bytes).
func TestLookupEqualsGoMessage(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 7))
	base := oldNames(t)
	var names []string
	for _, n := range base {
		names = append(names, spellings(n, rng)...)
	}
	names = append(names, randomNames(5000, rng)...)
	slices.Sort(names)
	names = slices.Compact(names)

	short, long := shortSamples(), longSamples()
	isBase := map[string]bool{}
	for _, n := range base {
		isBase[n] = true
	}
	accepted, rejected := 0, 0
	for _, name := range names {
		_, oldErr := gmcharset.Reader(name, strings.NewReader(""))
		enc, newErr := Lookup(name)
		if (oldErr == nil) != (newErr == nil) {
			t.Errorf("%q: go-message's error %v, Lookup's %v", name, oldErr, newErr)
			continue
		}
		if oldErr != nil {
			rejected++
			if oldErr.Error() != newErr.Error() || !errors.Is(newErr, errUnknownName) {
				t.Errorf("%q: go-message's error %q, Lookup's %q", name, oldErr, newErr)
			}
			if _, err := Reader(name, strings.NewReader("")); err == nil || err.Error() != newErr.Error() {
				t.Errorf("%q: Reader's error %v, Lookup's %v", name, err, newErr)
			}
			continue
		}
		accepted++
		if enc == nil {
			t.Fatalf("%q: Lookup gives a nil encoding and no error", name)
		}
		samples := short
		if isBase[name] {
			samples = long
		}
		if old, got := decodeAll(t, name, samples, gmcharset.Reader), decodeAll(t, name, samples, Reader); !slices.Equal(old, got) {
			t.Errorf("%q (%v): decodes differently from go-message's", name, enc)
		}
	}
	t.Logf("%d names accepted, %d rejected, as go-message did", accepted, rejected)
	if accepted < 1000 || rejected < 1000 {
		t.Fatalf("only %d names accepted and %d rejected: the names were not enumerated", accepted, rejected)
	}
}

// TestASCIIDecodesAsIANAIndex: asciiEncoding's decoder transforms as
// ianaindex's US-ASCII decoder does, for every room left in dst.
func TestASCIIDecodesAsIANAIndex(t *testing.T) {
	ref, err := ianaindex.MIME.Encoding("us-ascii")
	if err != nil || ref == nil {
		t.Fatalf("ianaindex has no US-ASCII: %v", err)
	}
	refDec, ourDec := ref.NewDecoder(), asciiEncoding{}.NewDecoder()
	src := []byte("ab\x80c\xffd\x7f\x00\xc3\xa9e")
	for size := 0; size <= 3*len(src); size++ {
		for _, atEOF := range []bool{false, true} {
			refDst, ourDst := make([]byte, size), make([]byte, size)
			rd, rs, rerr := refDec.Transform(refDst, src, atEOF)
			od, osrc, oerr := ourDec.Transform(ourDst, src, atEOF)
			if rd != od || rs != osrc || rerr != oerr || !bytes.Equal(refDst[:rd], ourDst[:od]) {
				t.Fatalf("dst %d bytes: ianaindex gives %d, %d, %v, %q; asciiEncoding %d, %d, %v, %q",
					size, rd, rs, rerr, refDst[:rd], od, osrc, oerr, ourDst[:od])
			}
		}
	}
}

// TestASCIIEncodes: asciiEncoding's encoder keeps ASCII and fails at the
// first other character.
func TestASCIIEncodes(t *testing.T) {
	var enc encoding.Encoding = asciiEncoding{}
	if got, err := enc.NewEncoder().String("plain ASCII\n"); err != nil || got != "plain ASCII\n" {
		t.Fatalf("ASCII text: %q, %v", got, err)
	}
	if got, err := enc.NewEncoder().String("caf\u00e9"); !errors.Is(err, errNotASCII) {
		t.Fatalf("non-ASCII text: %q, %v; want errNotASCII", got, err)
	}
	if _, _, err := transform.String(asciiEncoding{}.NewEncoder(), strings.Repeat("a", 10000)); err != nil {
		t.Fatalf("a long text: %v", err)
	}
}
