// Package backend defines how secscreen talks to a model, and holds what
// every backend shares: retries, rate limiting and the response cache.
//
// A Backend is thin: it sends a rendered Request (messages plus the JSON
// schema of the answer) and returns the model's raw reply text with usage
// figures. Rendering prompts and validating answers happen elsewhere
// (package prompts), so each backend is easy to test against a fake server.
// Implementations live in subpackages: openai and ollama; package auto
// picks one from what the machine offers. The offline baseline (subpackage
// baseline) needs no transport: it is a screener.Classifier of its own,
// and the screener's LLM classifier is what renders prompts for a Backend.
//
// Transport concerns are layers around any Backend, applied by Wrap:
//
//   - WithCache replays stored replies from a content-addressed directory
//     (and, in CacheOffline mode, refuses to call the model at all);
//   - WithRetry repeats transient failures (HTTP 408, 429, 5xx, timeouts,
//     dropped connections) with jittered exponential backoff, honouring
//     Retry-After;
//   - WithRateLimit spaces calls to a requests-per-second budget.
//
// Errors are classified, not parsed: backends return *HTTPError for non-2xx
// answers, wrap ErrTimeout and ErrBadReply, and IsRetryable decides.
//
// Usage:
//
//	c, _ := openai.New(openai.Config{Model: "gpt-4o-mini", APIKey: os.Getenv("OPENAI_API_KEY")})
//	b := backend.Wrap(c, backend.Layers{RPS: 2, Burst: 4, Cache: &backend.Cache{}})
//	reply, err := b.Complete(ctx, backend.Request{Messages: msgs, Schema: schema, Seed: 1})
//	cost, known := prices.Cost(reply.Usage)
package backend

import (
	"context"
	"encoding/json"
	"time"
)

// Role names the author of a Message.
type Role string

// Message roles, as chat APIs name them.
const (
	System    Role = "system"
	User      Role = "user"
	Assistant Role = "assistant"
)

// Message is one chat message.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content"`
}

// Request is everything a backend needs for one call.
type Request struct {
	// ReportID identifies the report, for logs and errors.
	ReportID string
	// Messages is the rendered conversation: system, user, and for a repair
	// retry the previous assistant answer and a user correction.
	Messages []Message
	// Schema is the JSON Schema the answer must satisfy.
	Schema json.RawMessage
	// SchemaName names the schema for APIs that want a name.
	SchemaName string
	// Temperature is the sampling temperature; secscreen uses 0.
	Temperature float64
	// Seed makes sampling reproducible where the server supports it.
	Seed int
	// PromptVersion is "name@version" of the prompt template, recorded in
	// the cache key and in results.
	PromptVersion string
}

// Usage records the cost and timing of one call.
type Usage struct {
	// Backend is the backend's name, e.g. "openai".
	Backend string `json:"backend"`
	// Model is the model that answered.
	Model string `json:"model"`
	// PromptTokens and CompletionTokens are as the server counted them.
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	// Latency is the wall time of the call, retries included.
	Latency time.Duration `json:"latency_ns"`
	// Attempts counts HTTP attempts, retries included.
	Attempts int `json:"attempts"`
	// Cached is true when the reply came from the cache.
	Cached bool `json:"cached"`
	// SentTo names the server the report's text was sent to for this answer
	// (see Remote), empty when it stayed on this machine.
	SentTo string `json:"sent_to,omitempty"`
}

// Reply is a backend's raw answer.
type Reply struct {
	// Content is the model's answer text (expected to be JSON).
	Content string
	// Usage describes the call.
	Usage Usage
}

// Backend sends a Request to a model and returns its Reply.
type Backend interface {
	// Name names the backend kind: "openai", "ollama".
	Name() string
	// Model names the model used.
	Model() string
	// Complete performs one call. It must honour ctx cancellation.
	Complete(ctx context.Context, req Request) (Reply, error)
}
