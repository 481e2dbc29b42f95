package openai

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secscreen/secscreen/screener/backend"
)

// BenchmarkComplete measures the client's own cost per call (encoding,
// the temperature patch, decoding) against a loopback server that answers
// at once, with a prompt of the size secscreen sends (~23 KB).
func BenchmarkComplete(b *testing.B) {
	reply := chatResponse(`{"verdict":"security"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, reply)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/v1", Model: "m"})
	if err != nil {
		b.Fatal(err)
	}
	req := testRequest()
	req.Messages = []backend.Message{
		{Role: backend.System, Content: strings.Repeat("The threat model says what a security bug is. ", 380)},
		{Role: backend.User, Content: strings.Repeat("A report line with \"quotes\" and <tags>.\n", 100)},
	}
	b.SetBytes(int64(len(req.Messages[0].Content) + len(req.Messages[1].Content)))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Complete(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetTemperature(b *testing.B) {
	body := []byte(`{"model":"m","messages":[{"role":"system","content":"` + strings.Repeat("x", 23000) + `"}],"seed":42}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := setTemperature(body, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSetTemperatureSplicesTheKey(t *testing.T) {
	for in, want := range map[string]string{
		`{"model":"m","seed":1}`: `{"temperature":0,"model":"m","seed":1}`,
		` {}`:                    ` {"temperature":0}`,
		"{ }":                    `{"temperature":0 }`,
	} {
		got, err := setTemperature([]byte(in), 0)
		if err != nil || string(got) != want {
			t.Errorf("setTemperature(%q) = %q, %v; want %q", in, got, err, want)
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil || v["temperature"] != 0.0 {
			t.Errorf("setTemperature(%q) is not JSON with temperature 0: %q", in, got)
		}
	}
	if _, err := setTemperature([]byte(`[1]`), 0); err == nil {
		t.Error("a body that is not an object must fail")
	}
	same := []byte(`{"temperature":0.7}`)
	if got, _ := setTemperature(same, 0.7); string(got) != string(same) {
		t.Error("a temperature go-openai writes itself is left alone")
	}
}
