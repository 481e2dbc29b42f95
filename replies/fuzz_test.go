package replies

import (
	"bytes"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// FuzzComposeHeaders: whatever a report's subject and sender hold, the
// draft parses as one message with exactly the headers secscreen writes.
func FuzzComposeHeaders(f *testing.F) {
	f.Add("hello\r\nBcc: v@example.com", "Eve <eve@example.org>\nBcc: x@y")
	f.Add("=?utf-8?q?a=0D=0AB?=", `"a\"b" <a@b.c>`)
	f.Add(strings.Repeat("ü", 500), "x@y")
	want := []string{"Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
	f.Fuzz(func(t *testing.T, subject, from string) {
		res := screener.Result{ID: "r", Subject: subject, From: from, Label: threatmodel.Label{Verdict: "not-security", Category: "privilege.root"}}
		d, err := Compose(res, advice.Build(res, advice.Options{}), Options{Now: time.Unix(0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(d.Message))
		if err != nil {
			t.Fatalf("%v\n%s", err, d.Message)
		}
		var got []string
		for k, v := range msg.Header {
			if len(v) != 1 {
				t.Fatalf("header %s %d times:\n%s", k, len(v), d.Message)
			}
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) && !slices.Equal(got, slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "To" })) {
			t.Fatalf("headers %v:\n%s", got, d.Message)
		}
		head, _, _ := strings.Cut(string(d.Message), "\n\n")
		for _, l := range strings.Split(head, "\n") {
			if len(l) > 998 {
				t.Fatalf("header line of %d bytes", len(l))
			}
		}
	})
}
