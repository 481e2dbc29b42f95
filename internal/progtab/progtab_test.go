package progtab

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"testing"
)

var testPatterns = []string{
	`a`,
	`(?i)hello\s+world`,
	`^(?:foo|bar)+$`,
	`(?P<ver>\d+\.\d+)(?:-rc\d+)?`,
	`(?i)\b(?:ai|llms?|gpts?|claude)\b`,
	`[^\n]*x.`,
	`(?s).*`,
	`\A\z`,
	`[\x{10000}-\x{10FFFF}]ü`,
	`(a){0}b`,
}

func compile(t testing.TB, src string) *syntax.Prog {
	t.Helper()
	p, err := Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompileAsRegexp(t *testing.T) {
	// Compile takes the steps regexp takes (checked on what regexp shows
	// of its program: the literal prefix, and no more capture slots than
	// its groups; a group that simplifying removes, as in (a){0}, has none).
	for _, src := range testPatterns {
		p := compile(t, src)
		re := regexp.MustCompile(src)
		if p.NumCap > 2*(re.NumSubexp()+1) {
			t.Errorf("%s: %d capture slots, regexp has %d groups", src, p.NumCap, re.NumSubexp())
		}
		prefix, complete := p.Prefix()
		lit, litComplete := re.LiteralPrefix()
		if prefix != lit || complete != litComplete {
			t.Errorf("%s: prefix %q %v, regexp's %q %v", src, prefix, complete, lit, litComplete)
		}
	}
	if _, err := Compile(`(`); err == nil {
		t.Error("a pattern that does not parse compiled")
	}
}

func TestWriteOrCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.bin")
	if err := WriteOrCheck(path, []byte("a"), false); err == nil {
		t.Error("a missing file checked")
	}
	if err := WriteOrCheck(path, []byte("a"), true); err != nil {
		t.Fatal(err)
	}
	if err := WriteOrCheck(path, []byte("a"), false); err != nil {
		t.Errorf("the file written: %v", err)
	}
	if err := WriteOrCheck(path, []byte("b"), false); !errors.Is(err, ErrStale) {
		t.Errorf("another table: %v, want ErrStale", err)
	}
}

func TestTable(t *testing.T) {
	var b Builder
	for _, src := range testPatterns {
		b.Add(src, AppendString([]byte("v:"), src))
	}
	data := b.Bytes()
	tab := New(string(data))
	if tab.Len() != len(testPatterns) {
		t.Fatalf("table: %d entries", tab.Len())
	}
	for _, src := range testPatterns {
		v, ok := tab.Value(src)
		if !ok {
			t.Fatalf("%s: not found", src)
		}
		if want := string(AppendString([]byte("v:"), src)); v != want {
			t.Errorf("%s: value %q, want %q", src, v, want)
		}
	}
	if _, ok := tab.Value("missing"); ok {
		t.Error("a missing key was found")
	}
	// A truncated table finds nothing past its end, and never panics.
	for n := range len(data) {
		broken := New(string(data[:n]))
		for _, src := range testPatterns {
			if v, ok := broken.Value(src); ok {
				if want, _ := tab.Value(src); v != want {
					t.Fatalf("%d bytes: %s: a wrong value", n, src)
				}
			}
		}
	}
	if New("").Len() != 0 || New("\x05").Len() != 0 {
		t.Error("an empty or broken table has entries")
	}
}

func TestStringsAndVarints(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1<<32 - 1, 1<<64 - 1} {
		enc := binary.AppendUvarint(nil, v)
		got, rest, ok := ReadUvarint(string(enc) + "x")
		if !ok || got != v || rest != "x" {
			t.Errorf("%d: read %d, rest %q, ok %v", v, got, rest, ok)
		}
		if _, _, ok := ReadUvarint(string(enc[:len(enc)-1])); ok {
			t.Errorf("%d: a truncated varint was read", v)
		}
	}
	// Eleven bytes, or a tenth byte past the 64th bit: too long.
	for _, bad := range []string{"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"} {
		if _, _, ok := ReadUvarint(bad); ok {
			t.Errorf("%q: read", bad)
		}
	}
	enc := AppendString(AppendString(nil, "héllo"), "")
	a, rest, ok1 := ReadString(string(enc))
	b, rest, ok2 := ReadString(rest)
	if a != "héllo" || b != "" || rest != "" || !ok1 || !ok2 {
		t.Errorf("read %q %q, rest %q", a, b, rest)
	}
	if _, _, ok := ReadString(string(enc[:3])); ok {
		t.Error("a truncated string was read")
	}
}

func TestTableHashCollision(t *testing.T) {
	// Every entry of a hash is looked at: file "a" under the hash of "b",
	// first of the two, so that looking "b" up meets it first.
	var b Builder
	b.Add("a", []byte("1"))
	b.Add("b", []byte("2"))
	b.entries[0].hash = b.entries[1].hash
	tab := New(string(b.Bytes()))
	if v, ok := tab.Value("b"); !ok || v != "2" {
		t.Errorf("b: %q %v, want 2", v, ok)
	}
}

func TestUint32s(t *testing.T) {
	words := []uint32{0, 1, 0xdeadbeef, 1 << 31, 0x01020304}
	data := string(AppendUint32s(nil, words))
	// Aligned (a fresh string's bytes are) and not: the words are the same.
	for off := range 4 {
		buf := string(make([]byte, off)) + data + "xyz"
		got := Uint32s(buf[off:])
		if len(got) != len(words) {
			t.Fatalf("offset %d: %d words, want %d", off, len(got), len(words))
		}
		for i := range words {
			if got[i] != words[i] {
				t.Fatalf("offset %d: word %d is %#x, want %#x", off, i, got[i], words[i])
			}
		}
	}
	if got := Uint32s("abc"); got != nil {
		t.Fatalf("less than a word: %v", got)
	}
}
