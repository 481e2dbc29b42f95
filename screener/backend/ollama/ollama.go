// Package ollama is the backend for a local Ollama server, spoken to over
// its native API (POST /api/chat) rather than its OpenAI-compatible one,
// because the native API takes the answer's JSON schema as "format" and
// lets the client size the context window.
//
// Ollama silently cuts a prompt that does not fit its context window
// (num_ctx, 2048 or 4096 tokens by default), and a cut threat model or
// report makes a confident wrong answer. So each call estimates the prompt's
// size (about four characters per token, plus the answer's budget), asks for
// the next power of two within [MinContext, MaxContext], and warns through
// Config.Logger when even MaxContext is too small.
//
// Usage:
//
//	c, err := ollama.New(ollama.Config{Model: "qwen2.5:7b"}) // host from OLLAMA_HOST
//	if _, err := c.Ping(ctx); err != nil { ... no server ... }
//	reply, err := backend.Wrap(c, backend.Layers{}).Complete(ctx, req)
package ollama

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/internal/wire"
)

// DefaultHost is where Ollama listens unless OLLAMA_HOST says otherwise.
const DefaultHost = "http://127.0.0.1:11434"

// Defaults for Config's zero fields.
const (
	DefaultTimeout      = 5 * time.Minute // local models can be slow, and a first call loads the model
	DefaultMinContext   = 4096
	DefaultMaxContext   = 32768
	DefaultAnswerTokens = 1024
	DefaultProbeTimeout = 2 * time.Second
)

// Config configures New.
type Config struct {
	// Host is the server's URL or host:port; "" means OLLAMA_HOST, else
	// DefaultHost. See ParseHost for the accepted forms.
	Host string
	// Model is the model to ask (required), e.g. "llama3.1:8b".
	Model string
	// Timeout bounds each Complete call (default DefaultTimeout).
	Timeout time.Duration
	// MinContext and MaxContext bound the num_ctx sent (defaults
	// DefaultMinContext, DefaultMaxContext).
	MinContext, MaxContext int
	// AnswerTokens is the room kept in the context window for the answer
	// (default DefaultAnswerTokens).
	AnswerTokens int
	// HTTPClient is the client to send with; its Transport is wrapped.
	// Nil (or a nil Transport) means http.DefaultTransport's settings with
	// an idle connection kept for every call in flight.
	HTTPClient *http.Client
	// Logger, if set, hears about prompts too large for MaxContext.
	Logger *slog.Logger
	// Getenv reads OLLAMA_HOST; nil means os.Getenv. Tests inject it.
	Getenv func(string) string
}

// Client is a Backend for Ollama's native chat API. It is safe for
// concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	api  *api.Client
}

// ParseHost turns the forms OLLAMA_HOST takes into a base URL:
// "http://host:port", "host:port", "host", ":port". A missing scheme means
// http and a missing port 11434; the wildcard address 0.0.0.0, which a
// server listens on but a client cannot reach, becomes 127.0.0.1.
func ParseHost(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultHost
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("ollama: host %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("ollama: host %q: scheme must be http or https", s)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "11434"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	u.Host = net.JoinHostPort(host, port)
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// HostFromEnv returns the base URL named by OLLAMA_HOST as read by getenv
// (os.Getenv when nil), or DefaultHost.
func HostFromEnv(getenv func(string) string) (*url.URL, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	return ParseHost(getenv("OLLAMA_HOST"))
}

// New returns a Client for cfg. It makes no network call; use Ping to see
// whether a server answers.
func New(cfg Config) (*Client, error) {
	if cfg.Model == "" {
		return nil, errors.New("ollama: no model configured")
	}
	var base *url.URL
	var err error
	if cfg.Host != "" {
		base, err = ParseHost(cfg.Host)
	} else {
		base, err = HostFromEnv(cfg.Getenv)
	}
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MinContext <= 0 {
		cfg.MinContext = DefaultMinContext
	}
	if cfg.MaxContext <= 0 {
		cfg.MaxContext = DefaultMaxContext
	}
	cfg.MinContext = min(cfg.MinContext, cfg.MaxContext)
	if cfg.AnswerTokens <= 0 {
		cfg.AnswerTokens = DefaultAnswerTokens
	}
	return &Client{cfg: cfg, base: base, api: api.NewClient(base, wire.Client(cfg.HTTPClient))}, nil
}

// Name returns "ollama".
func (c *Client) Name() string { return "ollama" }

// Model returns the configured model.
func (c *Client) Model() string { return c.cfg.Model }

// Host returns the server's base URL.
func (c *Client) Host() string { return c.base.String() }

// Ping asks the server for its version (GET /api/version), within
// DefaultProbeTimeout unless ctx ends sooner.
func (c *Client) Ping(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultProbeTimeout)
	defer cancel()
	v, err := c.api.Version(ctx)
	if err != nil {
		return "", fmt.Errorf("ollama: no server at %s: %w", c.base, err)
	}
	return v, nil
}

// Models lists the models the server has pulled (GET /api/tags).
func (c *Client) Models(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultProbeTimeout)
	defer cancel()
	list, err := c.api.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("ollama: listing models at %s: %w", c.base, err)
	}
	names := make([]string, 0, len(list.Models))
	for _, m := range list.Models {
		names = append(names, m.Name)
	}
	return names, nil
}

// ContextSize returns the num_ctx to request for a prompt of promptChars
// characters with room for answerTokens: the estimate (characters/4, plus
// a margin for the chat template, plus the answer) rounded up to a power of
// two and clamped to [minCtx, maxCtx]. fits is false when the estimate
// exceeds maxCtx, i.e. when Ollama will cut the prompt.
func ContextSize(promptChars, answerTokens, minCtx, maxCtx int) (numCtx, estimate int, fits bool) {
	estimate = (promptChars+3)/4 + promptChars/40 + 64 + answerTokens
	n := 1
	for n < estimate {
		n *= 2
	}
	n = max(n, minCtx)
	if n > maxCtx {
		return maxCtx, estimate, estimate <= maxCtx
	}
	return n, estimate, true
}

// Complete sends one non-streaming chat request with the schema as
// "format" and temperature, seed and num_ctx in "options".
func (c *Client) Complete(ctx context.Context, req backend.Request) (backend.Reply, error) {
	start := time.Now()
	chars := len(req.Schema)
	msgs := make([]api.Message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = api.Message{Role: string(m.Role), Content: m.Content}
		chars += len(m.Content)
	}
	numCtx, estimate, fits := ContextSize(chars, c.cfg.AnswerTokens, c.cfg.MinContext, c.cfg.MaxContext)
	if !fits && c.cfg.Logger != nil {
		c.cfg.Logger.Warn("ollama: prompt larger than the context window; the server will cut it",
			"report", req.ReportID, "estimated_tokens", estimate, "num_ctx", numCtx)
	}
	opts := map[string]any{
		"temperature": req.Temperature,
		"seed":        req.Seed,
		"num_ctx":     numCtx,
	}
	stream := false
	creq := &api.ChatRequest{Model: c.cfg.Model, Messages: msgs, Stream: &stream, Options: opts}
	if len(req.Schema) > 0 {
		creq.Format = req.Schema
	}

	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	actx, ex := wire.Record(actx)
	var final *api.ChatResponse
	var content strings.Builder
	err := c.api.Chat(actx, creq, func(r api.ChatResponse) error {
		content.WriteString(r.Message.Content)
		if r.Done {
			final = &r
		}
		return nil
	})
	if err != nil {
		return backend.Reply{}, c.classify(ctx, actx, ex, err)
	}
	if final == nil {
		return backend.Reply{}, backend.Transient(fmt.Errorf("ollama: %s: reply ended before its final message: %w", c.cfg.Model, backend.ErrBadReply))
	}
	model := final.Model
	if model == "" {
		model = c.cfg.Model
	}
	return backend.Reply{
		Content: content.String(),
		Usage: backend.Usage{
			Backend:          c.Name(),
			Model:            model,
			PromptTokens:     final.PromptEvalCount,
			CompletionTokens: final.EvalCount,
			Latency:          time.Since(start),
			Attempts:         1,
		},
	}, nil
}

// classify turns a failed call into a one-line error that
// backend.IsRetryable judges correctly (see wire.Call.Classify). ctx is the
// caller's context, actx the attempt's.
func (c *Client) classify(ctx, actx context.Context, ex *wire.Exchange, err error) error {
	call := wire.Call{
		Backend: "ollama", Model: c.cfg.Model, Timeout: c.cfg.Timeout,
		Undecodable: func(err error) error {
			// The api package reports an undecodable line as an error
			// whose text is the line itself. A line that starts like JSON
			// but does not parse was most likely cut off in transit.
			msg := strings.TrimSpace(err.Error())
			bad := fmt.Errorf("ollama: %s: %w: %s", c.cfg.Model, backend.ErrBadReply, backend.TrimBody(msg))
			if strings.HasPrefix(msg, "{") {
				return backend.Transient(bad)
			}
			return bad
		},
		Unreachable: func(err error) error {
			return fmt.Errorf("ollama: %s at %s: %w", c.cfg.Model, c.base, err)
		},
	}
	return call.Classify(ctx, actx, ex, err)
}

// Destination names the server reports are sent to (scheme://host:port);
// it implements backend.Remote.
func (c *Client) Destination() string { return backend.ServerOf(c.base.String()) }

// AnnouncesSending is true: the client's transport (wire.Transport) calls
// backend.Waiting once each request is written; it implements
// backend.Announcer.
func (c *Client) AnnouncesSending() bool { return true }
