package openai

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/backend"
)

// texts are message contents json.Marshal escapes in every way it can,
// and a placeholder-looking string a report might hold.
var texts = []string{"", "plain", "<script>alert(1)</script> & co", "quote \" back \\ slash", "tab\tnl\n\x00\x1f\x7f",
	"line\u2028sep\u2029", "bad \xff\xfe utf-8", "é 日本 🙂", "secscreen-content-00000000000000000000000000000000-1",
	strings.Repeat("The threat model says what a security bug is. ", 380)}

// The body the client sends is, byte for byte, what go-openai encodes
// from the whole request (contents included) with "temperature":0 added
// after the brace: the spliced messages change nothing on the wire.
func TestSplicedBodyIsGoOpenAIsBody(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatResponse(`{"verdict":"security"}`))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	system := texts[len(texts)-1]
	for i := range 60 {
		req := testRequest()
		if i%9 == 0 {
			system = texts[rng.IntN(len(texts))] // a new system message now and then
		}
		req.Messages = []backend.Message{{Role: backend.System, Content: system}}
		for range rng.IntN(4) {
			req.Messages = append(req.Messages, backend.Message{Role: []backend.Role{backend.User, backend.Assistant}[rng.IntN(2)],
				Content: texts[rng.IntN(len(texts))]})
		}
		req.Temperature = []float64{0, 0, 0.3}[rng.IntN(3)]
		_, err := c.Complete(context.Background(), req)
		require.NoError(t, err)

		// What go-openai would have sent for the request with its contents.
		r := c.request(req, c.level.Load())
		for j, m := range req.Messages {
			r.Messages[j].Content = m.Content
		}
		want, err := json.Marshal(r)
		require.NoError(t, err)
		if req.Temperature == 0 {
			want = append([]byte(`{"temperature":0,`), want[1:]...)
		}
		mu.Lock()
		got := bodies[len(bodies)-1]
		mu.Unlock()
		require.Equal(t, string(want), string(got), "request %d", i)
	}
}

func TestSpliceAddsTemperatureAndRefusesBrokenBodies(t *testing.T) {
	p, err := newPlaceholders()
	require.NoError(t, err)
	for in, want := range map[string]string{
		`{"model":"m","seed":1}`: `{"temperature":0,"model":"m","seed":1}`,
		` {}`:                    ` {"temperature":0}`,
		"{ }":                    `{"temperature":0 }`,
	} {
		got, err := p.splice([]byte(in), nil, true)
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
		var v map[string]any
		require.NoError(t, json.Unmarshal(got, &v))
		assert.Equal(t, 0.0, v["temperature"])
	}
	same := `{"temperature":0.7}`
	got, err := p.splice([]byte(same), nil, false)
	require.NoError(t, err)
	assert.Equal(t, same, string(got), "a temperature go-openai writes itself is left alone")
	_, err = p.splice([]byte(`[1]`), nil, true)
	assert.Error(t, err, "not an object")
	_, err = p.splice([]byte(`{"messages":[]}`), []string{"lost"}, false)
	assert.ErrorContains(t, err, "placeholder")
	other, err := newPlaceholders()
	require.NoError(t, err)
	assert.NotEqual(t, p.of(0), other.of(0), "each client draws its own token")
}
