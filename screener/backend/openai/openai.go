// Package openai is the backend for OpenAI's chat-completions API and the
// many servers that speak it: vLLM, llama.cpp's server, LM Studio, Ollama's
// /v1 endpoint, OpenRouter.
//
// It asks for structured output with response_format json_schema (strict).
// A server that rejects that with a 400 naming response_format or
// json_schema gets json_object instead, and one that rejects json_object
// too gets no response_format at all; the client remembers the step down
// for later calls. The prompt carries the schema as text either way, and
// package prompts validates the answer.
//
// go-openai drops a zero temperature from the JSON it sends (the field is
// tagged omitempty), which leaves the server's default, often 0.7 or 1.
// This client rewrites each request body on its way out so that the
// request's temperature, 0 included, is always present; on the same pass
// it splices in the messages, which it encodes itself (see splice.go).
//
// Reasoning models refuse any temperature but their own; a 400 saying so
// switches the client to no temperature (with a warning, as answers then
// vary between runs). No token limit is sent: the answer's length is left
// to the server.
//
// Usage:
//
//	c, err := openai.New(openai.Config{
//		BaseURL: "http://localhost:8000/v1",
//		APIKey:  os.Getenv("OPENAI_API_KEY"),
//		Model:   "qwen2.5-7b-instruct",
//		Timeout: time.Minute,
//	})
//	b := backend.Wrap(c, backend.Layers{RPS: 2})
//	reply, err := b.Complete(ctx, req)
package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/internal/wire"
)

// DefaultBaseURL is OpenAI's own API.
const DefaultBaseURL = "https://api.openai.com/v1"

// DefaultModel is used against OpenAI's own API (DefaultBaseURL) when no
// model is configured. Other OpenAI-compatible servers need one named.
const DefaultModel = "gpt-4o-mini"

// DefaultTimeout bounds one attempt when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Config configures New.
type Config struct {
	// BaseURL is the API root, ending in /v1 for most servers
	// (default DefaultBaseURL).
	BaseURL string
	// APIKey is sent as a bearer token; empty sends none (local servers).
	// Read it from the environment; it never appears in errors or logs.
	APIKey string
	// Model is the model to ask (required).
	Model string
	// Timeout bounds each Complete call (default DefaultTimeout).
	Timeout time.Duration
	// HTTPClient is the client to send with; its Transport is wrapped,
	// not replaced. Nil (or a nil Transport) means http.DefaultTransport's
	// settings with an idle connection kept for every call in flight, so
	// that concurrent calls reuse their connections.
	HTTPClient *http.Client
	// Logger, if set, hears about structured-output fallbacks.
	Logger *slog.Logger
}

// Structured-output levels, from best to most tolerated.
const (
	levelJSONSchema int32 = iota
	levelJSONObject
	levelNone
)

var levelNames = [...]string{"json_schema", "json_object", "none"}

// Client is a Backend for OpenAI-compatible servers. It is safe for
// concurrent use.
type Client struct {
	cfg   Config
	api   *goopenai.Client
	level atomic.Int32
	// A quirk learnt from 400s, kept for later calls: reasoning models
	// (o1, o3, gpt-5) refuse any temperature but their default.
	noTemperature atomic.Bool
	// contents stands in for the messages' text in what go-openai
	// encodes (see splice.go).
	contents *placeholders
}

// New returns a Client for cfg. It makes no network call.
func New(cfg Config) (*Client, error) {
	if cfg.Model == "" {
		return nil, errors.New("openai: no model configured")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, fmt.Errorf("openai: base URL %q must start with http:// or https://", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	oc := goopenai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = cfg.BaseURL
	oc.HTTPClient = wire.Client(cfg.HTTPClient)
	ph, err := newPlaceholders()
	if err != nil {
		return nil, fmt.Errorf("openai: %w", err)
	}
	return &Client{cfg: cfg, api: goopenai.NewClientWithConfig(oc), contents: ph}, nil
}

// Name returns "openai".
func (c *Client) Name() string { return "openai" }

// Model returns the configured model.
func (c *Client) Model() string { return c.cfg.Model }

// BaseURL returns the API root the client sends to.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// structuredOutput names the response_format the client currently sends:
// "json_schema", "json_object" after a fallback, or "none".
func (c *Client) structuredOutput() string { return levelNames[c.level.Load()] }

// Complete sends one chat-completion request. A rejected response_format
// steps down and resends within this call; everything else (retries, rate
// limits, caching) is left to the layers of package backend.
func (c *Client) Complete(ctx context.Context, req backend.Request) (backend.Reply, error) {
	start := time.Now()
	for sent := 1; ; sent++ {
		level := c.level.Load()
		rep, err := c.once(ctx, req, level)
		if err == nil {
			rep.Usage.Latency = time.Since(start)
			rep.Usage.Attempts = sent
			return rep, nil
		}
		var he *backend.HTTPError
		if !errors.As(err, &he) {
			return backend.Reply{}, err
		}
		switch {
		case rejects(he, "temperature") && !c.noTemperature.Load():
			c.noTemperature.Store(true)
			c.warn("openai: model refuses to set temperature; using its default, so answers may vary between runs")
		case level < levelNone && rejectsFormat(he):
			if c.level.CompareAndSwap(level, level+1) {
				c.warn("openai: server rejected structured output; stepping down",
					"from", levelNames[level], "to", levelNames[level+1])
			}
		default:
			return backend.Reply{}, err
		}
	}
}

func (c *Client) warn(msg string, args ...any) {
	if c.cfg.Logger != nil {
		c.cfg.Logger.Warn(msg, args...)
	}
}

// rejects reports whether a 400 error's text names every one of words,
// as servers do when they refuse a parameter.
func rejects(he *backend.HTTPError, words ...string) bool {
	if he.Status != http.StatusBadRequest {
		return false
	}
	b := strings.ToLower(he.Body)
	for _, w := range words {
		if !strings.Contains(b, w) {
			return false
		}
	}
	return strings.Contains(b, "unsupported") || strings.Contains(b, "not supported") || strings.Contains(b, "does not support")
}

// rejectsFormat reports whether a 400-class error blames response_format.
func rejectsFormat(he *backend.HTTPError) bool {
	if he.Status != http.StatusBadRequest && he.Status != http.StatusUnprocessableEntity {
		return false
	}
	b := strings.ToLower(he.Body)
	return strings.Contains(b, "response_format") || strings.Contains(b, "json_schema") ||
		strings.Contains(b, "json_object") || strings.Contains(b, "response format")
}

func (c *Client) once(ctx context.Context, req backend.Request, level int32) (backend.Reply, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	actx, ex := wire.Record(actx)
	contents := make([]string, len(req.Messages))
	for i, m := range req.Messages {
		contents[i] = m.Content
	}
	zero := !c.noTemperature.Load() && req.Temperature == 0
	ex.Patch = func(body []byte) ([]byte, error) { return c.contents.splice(body, contents, zero) }

	resp, err := c.api.CreateChatCompletion(actx, c.request(req, level))
	if err != nil {
		return backend.Reply{}, c.classify(ctx, actx, ex, err)
	}
	if len(resp.Choices) == 0 {
		return backend.Reply{}, fmt.Errorf("openai: %s: reply has no choices: %w", c.cfg.Model, backend.ErrBadReply)
	}
	msg := resp.Choices[0].Message
	if msg.Content == "" && msg.Refusal != "" {
		return backend.Reply{}, fmt.Errorf("openai: %s refused: %s", c.cfg.Model, backend.TrimBody(msg.Refusal, c.cfg.APIKey))
	}
	model := resp.Model
	if model == "" {
		model = c.cfg.Model
	}
	return backend.Reply{
		Content: msg.Content,
		Usage: backend.Usage{
			Backend:          c.Name(),
			Model:            model,
			PromptTokens:     resp.Usage.PromptTokens,
			CompletionTokens: resp.Usage.CompletionTokens,
			Attempts:         1,
		},
	}, nil
}

func (c *Client) request(req backend.Request, level int32) goopenai.ChatCompletionRequest {
	msgs := make([]goopenai.ChatCompletionMessage, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = goopenai.ChatCompletionMessage{Role: string(m.Role)}
		if m.Content != "" {
			msgs[i].Content = c.contents.of(i) // spliced back by once's patch
		}
	}
	seed := req.Seed
	r := goopenai.ChatCompletionRequest{
		Model:       c.cfg.Model,
		Messages:    msgs,
		Temperature: float32(req.Temperature), // once's patch makes 0 survive
		Seed:        &seed,
	}
	if c.noTemperature.Load() {
		r.Temperature = 0 // omitted by go-openai, and not patched back in
	}
	switch {
	case level == levelJSONSchema && len(req.Schema) > 0:
		name := req.SchemaName
		if name == "" {
			name = "answer"
		}
		r.ResponseFormat = &goopenai.ChatCompletionResponseFormat{
			Type: goopenai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &goopenai.ChatCompletionResponseFormatJSONSchema{
				Name:   name,
				Schema: req.Schema,
				Strict: true,
			},
		}
	case level <= levelJSONObject:
		r.ResponseFormat = &goopenai.ChatCompletionResponseFormat{
			Type: goopenai.ChatCompletionResponseFormatTypeJSONObject,
		}
	}
	return r
}

// classify turns a failed call into an error that says what happened in
// one line, never holds the API key, and that backend.IsRetryable judges
// correctly (see wire.Call.Classify). ctx is the caller's context, actx
// the attempt's.
func (c *Client) classify(ctx, actx context.Context, ex *wire.Exchange, err error) error {
	key := c.cfg.APIKey
	call := wire.Call{
		Backend: "openai", Model: c.cfg.Model, Timeout: c.cfg.Timeout, Secrets: []string{key},
		Undecodable: func(err error) error {
			// A response arrived but go-openai could not decode it.
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return backend.Transient(fmt.Errorf("openai: %s: reply cut short: %w", c.cfg.Model, backend.ErrBadReply))
			}
			return fmt.Errorf("openai: %s: %w (is %s an OpenAI-compatible API?): %s",
				c.cfg.Model, backend.ErrBadReply, c.cfg.BaseURL, backend.TrimBody(err.Error(), key))
		},
		Unreachable: func(err error) error {
			// The connection failed. Keep the cause for IsRetryable, but
			// print a redacted message.
			return &transportError{msg: fmt.Sprintf("openai: %s: %s", c.cfg.Model, backend.TrimBody(err.Error(), key)), err: err}
		},
	}
	return call.Classify(ctx, actx, ex, err)
}

// transportError is a failed connection with a redacted message.
type transportError struct {
	msg string
	err error
}

func (e *transportError) Error() string { return e.msg }
func (e *transportError) Unwrap() error { return e.err }

// Destination names the server reports are sent to (scheme://host:port);
// it implements backend.Remote.
func (c *Client) Destination() string { return backend.ServerOf(c.cfg.BaseURL) }

// AnnouncesSending is true: the client's transport (wire.Transport) calls
// backend.Waiting once each request is written; it implements
// backend.Announcer.
func (c *Client) AnnouncesSending() bool { return true }
