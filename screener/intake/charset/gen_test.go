package charset

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/secscreen/secscreen/internal/progtab"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

var updateGenerated = flag.Bool("update", false, "rewrite names_gen.go (go generate)")

// knownEncoding is an encoding the generated tables may return, and the Go
// expression that yields it there.
type knownEncoding struct {
	expr string
	enc  encoding.Encoding
}

// knownEncodings are the encodings the generator can name. An index that
// gives another one fails TestNamesGenerated, naming it, until it is added
// here.
var knownEncodings = []knownEncoding{
	{"unicode.UTF8", unicode.UTF8},
	{"unicode.UTF16(unicode.BigEndian, unicode.UseBOM)", unicode.UTF16(unicode.BigEndian, unicode.UseBOM)},
	{"unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)", unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)},
	{"unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)", unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)},
	{"unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)", unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)},
	{"encoding.Replacement", encoding.Replacement},
	{"charmap.CodePage037", charmap.CodePage037},
	{"charmap.CodePage437", charmap.CodePage437},
	{"charmap.CodePage850", charmap.CodePage850},
	{"charmap.CodePage852", charmap.CodePage852},
	{"charmap.CodePage855", charmap.CodePage855},
	{"charmap.CodePage858", charmap.CodePage858},
	{"charmap.CodePage860", charmap.CodePage860},
	{"charmap.CodePage862", charmap.CodePage862},
	{"charmap.CodePage863", charmap.CodePage863},
	{"charmap.CodePage865", charmap.CodePage865},
	{"charmap.CodePage866", charmap.CodePage866},
	{"charmap.CodePage1047", charmap.CodePage1047},
	{"charmap.CodePage1140", charmap.CodePage1140},
	{"charmap.ISO8859_1", charmap.ISO8859_1},
	{"charmap.ISO8859_2", charmap.ISO8859_2},
	{"charmap.ISO8859_3", charmap.ISO8859_3},
	{"charmap.ISO8859_4", charmap.ISO8859_4},
	{"charmap.ISO8859_5", charmap.ISO8859_5},
	{"charmap.ISO8859_6", charmap.ISO8859_6},
	{"charmap.ISO8859_6E", charmap.ISO8859_6E},
	{"charmap.ISO8859_6I", charmap.ISO8859_6I},
	{"charmap.ISO8859_7", charmap.ISO8859_7},
	{"charmap.ISO8859_8", charmap.ISO8859_8},
	{"charmap.ISO8859_8E", charmap.ISO8859_8E},
	{"charmap.ISO8859_8I", charmap.ISO8859_8I},
	{"charmap.ISO8859_9", charmap.ISO8859_9},
	{"charmap.ISO8859_10", charmap.ISO8859_10},
	{"charmap.ISO8859_13", charmap.ISO8859_13},
	{"charmap.ISO8859_14", charmap.ISO8859_14},
	{"charmap.ISO8859_15", charmap.ISO8859_15},
	{"charmap.ISO8859_16", charmap.ISO8859_16},
	{"charmap.KOI8R", charmap.KOI8R},
	{"charmap.KOI8U", charmap.KOI8U},
	{"charmap.Macintosh", charmap.Macintosh},
	{"charmap.MacintoshCyrillic", charmap.MacintoshCyrillic},
	{"charmap.Windows874", charmap.Windows874},
	{"charmap.Windows1250", charmap.Windows1250},
	{"charmap.Windows1251", charmap.Windows1251},
	{"charmap.Windows1252", charmap.Windows1252},
	{"charmap.Windows1253", charmap.Windows1253},
	{"charmap.Windows1254", charmap.Windows1254},
	{"charmap.Windows1255", charmap.Windows1255},
	{"charmap.Windows1256", charmap.Windows1256},
	{"charmap.Windows1257", charmap.Windows1257},
	{"charmap.Windows1258", charmap.Windows1258},
	{"charmap.XUserDefined", charmap.XUserDefined},
	{"japanese.EUCJP", japanese.EUCJP},
	{"japanese.ISO2022JP", japanese.ISO2022JP},
	{"japanese.ShiftJIS", japanese.ShiftJIS},
	{"korean.EUCKR", korean.EUCKR},
	{"simplifiedchinese.GB18030", simplifiedchinese.GB18030},
	{"simplifiedchinese.GBK", simplifiedchinese.GBK},
	{"simplifiedchinese.HZGB2312", simplifiedchinese.HZGB2312},
	{"traditionalchinese.Big5", traditionalchinese.Big5},
}

// exprOf returns the Go expression of enc for the generated tables.
// ianaindex's US-ASCII is its own unexported encoding, recognised by its
// name; the tests prove asciiEncoding decodes as it does.
func exprOf(t *testing.T, enc encoding.Encoding, name string) string {
	t.Helper()
	for _, k := range knownEncodings {
		if k.enc == enc {
			return k.expr
		}
	}
	if s, ok := enc.(fmt.Stringer); ok && s.String() == "US-ASCII" {
		return "asciiEncoding{}"
	}
	t.Fatalf("%q: the index gives %v (%T), which knownEncodings does not name: add it", name, enc, enc)
	return ""
}

// sourceMapKeys returns the string keys of the map literal assigned to
// the package-level variable name in the package pkg, read from its
// source (found with go list; go test puts its own go command first on
// PATH). The indexes keep their names in such maps and export no way to
// list them.
func sourceMapKeys(t *testing.T, pkg, name string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	dir := strings.TrimSpace(string(out))
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	found := false
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.VAR {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if id.Name != name || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.CompositeLit)
					if !ok {
						t.Fatalf("%s.%s is not a composite literal", pkg, name)
					}
					found = true
					for _, elt := range lit.Elts {
						kv, ok := elt.(*ast.KeyValueExpr)
						if !ok {
							t.Fatalf("%s.%s: an element has no key", pkg, name)
						}
						bl, ok := kv.Key.(*ast.BasicLit)
						if !ok || bl.Kind != token.STRING {
							t.Fatalf("%s.%s: a key is not a string literal", pkg, name)
						}
						s, err := strconv.Unquote(bl.Value)
						if err != nil {
							t.Fatal(err)
						}
						keys = append(keys, s)
					}
				}
			}
		}
	}
	if !found || len(keys) == 0 {
		t.Fatalf("no map literal %s in %s (%s)", name, pkg, dir)
	}
	return keys
}

// ianaNames returns every name and alias ianaindex knows.
func ianaNames(t *testing.T) []string {
	t.Helper()
	keys := sourceMapKeys(t, "golang.org/x/text/encoding/ianaindex", "ianaAliases")
	// The index's own map must hold what was read from the source.
	if alias := reflect.ValueOf(ianaindex.MIME).Elem().FieldByName("alias"); !alias.IsValid() || alias.Len() != len(keys) {
		t.Fatalf("read %d names of ianaindex from its source; its index does not hold that many", len(keys))
	}
	return keys
}

// htmlNames returns every name and alias htmlindex knows.
func htmlNames(t *testing.T) []string {
	t.Helper()
	return sourceMapKeys(t, "golang.org/x/text/encoding/htmlindex", "nameMap")
}

// goMessageNames returns the names of go-message's own table.
func goMessageNames(t *testing.T) []string {
	t.Helper()
	return sourceMapKeys(t, "github.com/emersion/go-message/charset", "charsets")
}

// TestNamesGenerated fails when names_gen.go does not hold what ianaindex
// and htmlindex give for every name they know (run go generate
// ./screener/intake/charset); with -update it rewrites the file.
//
// ianaindex matches a name exactly, then lower-cased; the generated table
// is matched lower-cased only, which is the same because every name it
// holds gives the encoding its lower-cased form gives (checked here).
// htmlindex always lower-cases. Names that ianaindex registers without a
// decoder (a nil encoding) are left out: go-message went on to the next
// index for them, as Lookup does for a name it does not find.
func TestNamesGenerated(t *testing.T) {
	ianaKeys := map[string]string{} // lower-cased name -> expression
	for _, name := range ianaNames(t) {
		enc, err := ianaindex.MIME.Encoding(name)
		if err != nil {
			t.Fatalf("ianaindex rejects its own name %q: %v", name, err)
		}
		lower := strings.ToLower(strings.TrimSpace(name))
		lowerEnc, err := ianaindex.MIME.Encoding(lower)
		if err != nil || lowerEnc != enc {
			t.Fatalf("ianaindex: %q gives %v, its lower-cased form %v (%v): the generated table cannot be matched lower-cased", name, enc, lowerEnc, err)
		}
		if enc != nil {
			ianaKeys[lower] = exprOf(t, enc, name)
		}
	}
	htmlKeys := map[string]string{}
	for _, name := range htmlNames(t) {
		enc, err := htmlindex.Get(name)
		if err != nil || enc == nil {
			t.Fatalf("htmlindex rejects its own name %q: %v", name, err)
		}
		htmlKeys[strings.ToLower(strings.TrimSpace(name))] = exprOf(t, enc, name)
	}

	var b bytes.Buffer
	b.WriteString("// Code generated by go generate ./screener/intake/charset from golang.org/x/text's ianaindex and htmlindex; DO NOT EDIT.\n\n")
	b.WriteString("package charset\n\nimport (\n")
	for _, p := range generatedImports(ianaKeys, htmlKeys) {
		fmt.Fprintf(&b, "%q\n", p)
	}
	b.WriteString(")\n\n")
	writeSwitch(&b, "ianaEncoding", "ianaindex.MIME", ianaKeys)
	b.WriteString("\n")
	writeSwitch(&b, "htmlEncoding", "htmlindex", htmlKeys)

	src, err := format.Source(b.Bytes())
	if err != nil {
		t.Fatalf("format generated names_gen.go: %v\n%s", err, b.Bytes())
	}
	if err := progtab.WriteOrCheck("names_gen.go", src, *updateGenerated); err != nil {
		t.Fatalf("%v: run go generate ./screener/intake/charset", err)
	}
}

// generatedImports returns the packages the expressions of the tables use.
func generatedImports(tables ...map[string]string) []string {
	paths := map[string]string{
		"encoding":           "golang.org/x/text/encoding",
		"charmap":            "golang.org/x/text/encoding/charmap",
		"japanese":           "golang.org/x/text/encoding/japanese",
		"korean":             "golang.org/x/text/encoding/korean",
		"simplifiedchinese":  "golang.org/x/text/encoding/simplifiedchinese",
		"traditionalchinese": "golang.org/x/text/encoding/traditionalchinese",
		"unicode":            "golang.org/x/text/encoding/unicode",
	}
	used := map[string]bool{paths["encoding"]: true} // the functions' result type
	for _, table := range tables {
		for _, expr := range table {
			if pkg, _, ok := strings.Cut(expr, "."); ok {
				used[paths[pkg]] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(used))
}

// writeSwitch writes the function fn, a switch from the names of table
// (lower-cased) to their encodings' expressions, one case per encoding.
func writeSwitch(b *bytes.Buffer, fn, index string, table map[string]string) {
	byExpr := map[string][]string{}
	for name, expr := range table {
		byExpr[expr] = append(byExpr[expr], name)
	}
	exprs := slices.Sorted(maps.Keys(byExpr))
	fmt.Fprintf(b, "// %s returns the encoding %s gives the name key (lower-cased,\n", fn, index)
	fmt.Fprintf(b, "// trimmed), or nil when it gives none: %d names.\n", len(table))
	fmt.Fprintf(b, "func %s(key string) encoding.Encoding {\nswitch key {\n", fn)
	for _, expr := range exprs {
		names := byExpr[expr]
		slices.Sort(names)
		b.WriteString("case ")
		width := 0
		for i, name := range names {
			q := strconv.Quote(name)
			if i > 0 {
				b.WriteString(",")
				if width+len(q) > 90 {
					b.WriteString("\n")
					width = 0
				} else {
					b.WriteString(" ")
				}
			}
			b.WriteString(q)
			width += len(q) + 2
		}
		fmt.Fprintf(b, ":\nreturn %s\n", expr)
	}
	b.WriteString("}\nreturn nil\n}\n")
}
