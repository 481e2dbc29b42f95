// Package charset maps the charset names that MIME messages give (in a
// Content-Type's charset parameter or an RFC 2047 encoded word) to the
// golang.org/x/text encodings that decode them to UTF-8.
//
// It exists so that secscreen does not link golang.org/x/text's
// encoding/ianaindex and encoding/htmlindex. intake used
// github.com/emersion/go-message/charset, which looks a name up in its own
// small table, then in ianaindex.MIME (the name, then "cs" and the name),
// then in htmlindex; those two packages build maps of some 1,700 names at
// every start (68 KB; about half a millisecond of CPU before main runs),
// though most reports never name a charset other than UTF-8 or US-ASCII,
// which go-message reads without asking.
//
// Lookup accepts exactly the names that path accepts, after the same
// normalisation (case folded with strings.ToLower; white space trimmed by
// strings.TrimSpace, except for go-message's own table, which is matched
// untrimmed; quotes are not removed), gives an encoding that decodes every
// input to the same text, and rejects the other names with the same error
// text. The names of the two indexes are written into names_gen.go by
// go generate, from the indexes themselves (TestNamesGenerated), and the
// tests prove the equivalence on every name and alias the indexes and
// go-message's table hold, on spellings of them and on names they reject.
package charset

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

//go:generate go test -run ^TestNamesGenerated$ -args -update

// errUnknownName is why a name is rejected. Its text is the one
// go-message's charset package reported (the error of htmlindex, the last
// index it asked), kept because intake's notes quote it, e.g. "Subject:
// unknown charset: charset "x-foo": htmlindex: invalid encoding name; kept
// undecoded".
var errUnknownName = errors.New("htmlindex: invalid encoding name")

// Lookup returns the encoding of the charset name, or an error wrapping
// errUnknownName when the name is not one go-message's charset package
// decoded (see the package doc for the names and their normalisation).
func Lookup(name string) (encoding.Encoding, error) {
	if enc := quirkEncoding(strings.ToLower(name)); enc != nil {
		return enc, nil
	}
	key := strings.ToLower(strings.TrimSpace(name))
	if enc := ianaEncoding(key); enc != nil {
		return enc, nil
	}
	// Some IANA aliases are only registered with a "cs" prefix (csKOI8R).
	// The prefix goes before the name is trimmed, as go-message did, so a
	// name with leading white space is never found this way.
	if enc := ianaEncoding(strings.ToLower(strings.TrimSpace("cs" + name))); enc != nil {
		return enc, nil
	}
	if enc := htmlEncoding(key); enc != nil {
		return enc, nil
	}
	return nil, fmt.Errorf("charset %q: %w", name, errUnknownName)
}

// Reader returns a reader that converts input from the charset name to
// UTF-8, or an error for a charset Lookup does not know. It has the
// signature of go-message's message.CharsetReader and of
// mime.WordDecoder.CharsetReader, which intake sets to it.
func Reader(name string, input io.Reader) (io.Reader, error) {
	enc, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(input), nil
}

// quirkEncoding returns the encoding of a name in go-message's own table
// of names that ianaindex does not know, matched on the lower-cased,
// untrimmed name; nil for any other name.
func quirkEncoding(lower string) encoding.Encoding {
	switch lower {
	case "ansi_x3.110-1983": // RFC 1345: mostly a superset of ISO 8859-1
		return charmap.ISO8859_1
	case "x-utf_8j": // ICU's alias of UTF-8
		return unicode.UTF8
	}
	return nil
}

// asciiEncoding is US-ASCII as ianaindex decodes it: bytes below 0x80 are
// themselves and each other byte becomes U+FFFD. golang.org/x/text exports
// no such encoding (ianaindex keeps its own unexported), and htmlindex
// would read these names as windows-1252.
type asciiEncoding struct{}

// NewDecoder returns a decoder of US-ASCII to UTF-8.
func (asciiEncoding) NewDecoder() *encoding.Decoder {
	return &encoding.Decoder{Transformer: asciiDecoder{}}
}

// NewEncoder returns an encoder of UTF-8 to US-ASCII, which fails with
// errNotASCII at a character outside US-ASCII.
func (asciiEncoding) NewEncoder() *encoding.Encoder {
	return &encoding.Encoder{Transformer: asciiEncoder{}}
}

// String names the encoding.
func (asciiEncoding) String() string { return "US-ASCII" }

// errNotASCII is asciiEncoder's error at a byte outside US-ASCII.
var errNotASCII = errors.New("charset: character outside US-ASCII")

// asciiDecoder copies ASCII bytes and writes U+FFFD for each other byte.
type asciiDecoder struct{ transform.NopResetter }

// Transform decodes src into dst.
func (asciiDecoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for _, c := range src {
		if c < utf8.RuneSelf {
			if nDst == len(dst) {
				return nDst, nSrc, transform.ErrShortDst
			}
			dst[nDst] = c
			nDst++
		} else {
			if len(dst)-nDst < utf8.RuneLen(utf8.RuneError) {
				return nDst, nSrc, transform.ErrShortDst
			}
			nDst += utf8.EncodeRune(dst[nDst:], utf8.RuneError)
		}
		nSrc++
	}
	return nDst, nSrc, nil
}

// asciiEncoder copies ASCII bytes and stops at any other.
type asciiEncoder struct{ transform.NopResetter }

// Transform encodes src into dst.
func (asciiEncoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for _, c := range src {
		if c >= utf8.RuneSelf {
			return nDst, nSrc, errNotASCII
		}
		if nDst == len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		dst[nDst] = c
		nDst++
		nSrc++
	}
	return nDst, nSrc, nil
}
