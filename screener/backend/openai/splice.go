package openai

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"sync/atomic"
)

// The request body's messages are encoded by this client, not by
// go-openai: go-openai encodes each message with json.Marshal and then
// compacts that output again inside the request (a second pass over every
// byte of the ~23 KB prompt), and the system message, the same for every
// report of a run, was encoded anew on every call. So the request handed
// to go-openai carries a placeholder for each message's content, and the
// body is spliced on its way out (the same wire.Exchange patch that puts
// temperature 0 back): each placeholder is replaced by its content
// encoded by json.Marshal, the system message's encoding kept from the
// previous call when it is the same text. The bytes sent are those
// go-openai would have sent (a test compares them).
//
// A placeholder is a token drawn at random for each client, and the only
// strings in the body at that point are the model name, the schema and
// the placeholders: no text from a report is in it yet, so none can
// imitate one.

// placeholders names a client's message placeholders.
type placeholders struct {
	token string
	// system is the last system message encoded, with its encoding.
	system atomic.Pointer[encodedText]
}

type encodedText struct {
	text string
	json []byte
}

func newPlaceholders() (*placeholders, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &placeholders{token: "secscreen-content-" + hex.EncodeToString(b[:]) + "-"}, nil
}

// of is the placeholder of message i: a JSON string without anything to
// escape.
func (p *placeholders) of(i int) string { return p.token + strconv.Itoa(i) }

// encode returns the JSON encoding of a message's content, as
// json.Marshal writes it; i is the message's index (0 is the system
// message, whose encoding is kept).
func (p *placeholders) encode(i int, text string) ([]byte, error) {
	if i == 0 {
		if e := p.system.Load(); e != nil && e.text == text {
			return e.json, nil
		}
	}
	data, err := json.Marshal(text)
	if err != nil {
		return nil, err
	}
	if i == 0 {
		p.system.Store(&encodedText{text: text, json: data})
	}
	return data, nil
}

// splice replaces, in body, the quoted placeholder of each contents[i]
// that is not empty (go-openai leaves empty contents out) by the content's
// encoding, and adds "temperature": 0 after the opening brace when zero
// is set (go-openai leaves a zero temperature out).
func (p *placeholders) splice(body []byte, contents []string, zero bool) ([]byte, error) {
	encoded := make([][]byte, len(contents))
	size := len(body) + len(`"temperature":0,`)
	for i, text := range contents {
		if text == "" {
			continue
		}
		e, err := p.encode(i, text)
		if err != nil {
			return nil, err
		}
		encoded[i] = e
		size += len(e)
	}
	out := make([]byte, 0, size)
	rest := body
	if zero {
		i := 0
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == '\n' || rest[i] == '\r') {
			i++
		}
		if i == len(rest) || rest[i] != '{' {
			return nil, errors.New("request body is not a JSON object")
		}
		out = append(out, rest[:i+1]...)
		out = append(out, `"temperature":0`...)
		rest = rest[i+1:]
		if t := bytes.TrimLeft(rest, " \t\r\n"); len(t) > 0 && t[0] != '}' {
			out = append(out, ',')
		}
	}
	for i, e := range encoded {
		if e == nil {
			continue
		}
		quoted := `"` + p.of(i) + `"`
		at := bytes.Index(rest, []byte(quoted))
		if at < 0 {
			return nil, errors.New("request body lost a message's placeholder")
		}
		out = append(out, rest[:at]...)
		out = append(out, e...)
		rest = rest[at+len(quoted):]
	}
	return append(out, rest...), nil
}
