package screener

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// A Classifier labels one report beside the rules: a language model behind
// a prompt (LLM), or an offline classifier such as the baseline
// (baseline.Classifier). The screener asks one in the model's place
// (Config.Classifier) and may ask another to vote beside it (Config.Voter);
// either way the label is checked against the threat model before the
// policy counts it.
type Classifier interface {
	// Describe names the classifier for results and summaries.
	Describe() Description
	// Classify labels r. ev is the rules' evaluation of r, which a
	// classifier may use as features instead of running the rules again.
	// On error, the Classification still holds what is known of the
	// attempt (the prompt, the usage of calls made), and the error wraps
	// its cause so that callers can tell a cache miss (backend.ErrCacheMiss)
	// or refused credentials (backend.IsAuthError) from other failures.
	Classify(ctx context.Context, r *intake.Report, ev *rules.Evaluation) (Classification, error)
}

// Description names a classifier.
type Description struct {
	// Name is the classifier's kind as results name it in "backend":
	// "openai", "ollama", "baseline", "simulated".
	Name string
	// Model names the model that answers, e.g. "gpt-4o-mini" or
	// "logreg@3f2a9c0d51be".
	Model string
	// Prompt is the prompt template's "name@version"; empty for a
	// classifier that reads no prompt.
	Prompt string
}

// Classification is a classifier's label of one report with the details of
// how it was obtained. Its JSON is the "model" object of a result, without
// the error.
type Classification struct {
	// Answer is the label and what supports it.
	prompts.Answer
	// Prompt is the template used, "name@version"; empty when the
	// classifier reads no prompt.
	Prompt string `json:"prompt"`
	// Repaired is true when the first answer failed validation and the
	// repair retry produced this one.
	Repaired bool `json:"repaired,omitempty"`
	// Truncated is true when the report was cut to fit the body limit.
	Truncated bool `json:"truncated,omitempty"`
	// Usage records tokens, latency, the model that answered and where the
	// report's text was sent (Usage.SentTo).
	Usage backend.Usage `json:"usage"`
}

// checkLabel reports whether c's label is one tm knows, with a confidence
// in [0, 1]: the policy never counts a label it could not route.
func checkLabel(tm *threatmodel.Model, c Classification) error {
	if err := tm.Check(c.Verdict, c.Category); err != nil {
		return fmt.Errorf("invalid answer: %w", err)
	}
	if c.Confidence < 0 || c.Confidence > 1 {
		return fmt.Errorf("invalid answer: confidence %v is outside [0, 1]", c.Confidence)
	}
	return nil
}

// LLMConfig configures NewLLM.
type LLMConfig struct {
	// Backend sends the rendered prompt to a model, usually wrapped by
	// backend.Wrap (cache → retry → rate limit). Required.
	Backend backend.Backend
	// Prompt is the template rendered for each report. Required.
	Prompt *prompts.Template
	// ThreatModel is the model's context and validates its answers.
	// Required.
	ThreatModel *threatmodel.Model
	// MaxBodyChars bounds the report text sent to the model (0: no limit).
	MaxBodyChars int
	// Seed is sent to the backend for reproducible sampling.
	Seed int
	// Shots picks few-shot examples for a report (nil: none). It must never
	// return the report itself.
	Shots func(r *intake.Report) []prompts.Shot
}

// LLM is the Classifier of a language model: it renders the prompt, sends
// it through the backend, and validates the answer against the threat
// model, asking once for a repair that quotes the problems when it does not
// validate. It is safe for concurrent use.
type LLM struct {
	cfg LLMConfig
	// dest is where the backend sends reports ("" when they stay here).
	dest string
}

// NewLLM checks cfg and returns the classifier.
func NewLLM(cfg LLMConfig) (*LLM, error) {
	switch {
	case cfg.Backend == nil:
		return nil, errors.New("llm classifier: no backend")
	case cfg.Prompt == nil:
		return nil, errors.New("llm classifier: a backend needs a prompt template")
	case cfg.ThreatModel == nil:
		return nil, errors.New("llm classifier: no threat model")
	}
	return &LLM{cfg: cfg, dest: backend.DestinationOf(cfg.Backend)}, nil
}

// Describe names the backend, its model and the prompt template.
func (l *LLM) Describe() Description {
	return Description{Name: l.cfg.Backend.Name(), Model: l.cfg.Backend.Model(), Prompt: l.cfg.Prompt.ID()}
}

// Classify renders r into the prompt and asks the backend, with one repair
// call when the answer does not validate. The rules' evaluation is not sent:
// the model reads the report on its own.
func (l *LLM) Classify(ctx context.Context, r *intake.Report, _ *rules.Evaluation) (Classification, error) {
	b, tm := l.cfg.Backend, l.cfg.ThreatModel
	out := Classification{Prompt: l.cfg.Prompt.ID()}
	opt := prompts.Options{MaxBodyChars: l.cfg.MaxBodyChars, Boundary: fenceToken(r)}
	if l.cfg.Shots != nil {
		opt.Shots = l.cfg.Shots(r)
	}
	rendered, err := l.cfg.Prompt.Render(tm, r, opt)
	if err != nil {
		return out, fmt.Errorf("render prompt: %w", err)
	}
	out.Truncated = rendered.Truncated
	req := backend.Request{
		ReportID: r.ID,
		Messages: []backend.Message{
			{Role: backend.System, Content: rendered.System},
			{Role: backend.User, Content: rendered.User},
		},
		Schema:        rendered.Schema,
		SchemaName:    rendered.SchemaName,
		Seed:          l.cfg.Seed,
		PromptVersion: out.Prompt,
	}
	reply, err := b.Complete(ctx, req)
	out.Usage = reply.Usage
	out.Usage.SentTo = sentTo(l.dest, reply.Usage)
	// A failed call may return no usage; the result still names who failed.
	out.Usage.Backend = cmp.Or(out.Usage.Backend, b.Name())
	out.Usage.Model = cmp.Or(out.Usage.Model, b.Model())
	if err != nil {
		return out, err
	}
	a, perr := prompts.ParseAnswer(reply.Content, tm)
	if perr != nil {
		req.Messages = append(req.Messages,
			backend.Message{Role: backend.Assistant, Content: reply.Content},
			backend.Message{Role: backend.User, Content: prompts.RepairInstruction(perr)})
		again, err := b.Complete(ctx, req)
		out.Usage = addUsage(out.Usage, again.Usage)
		out.Usage.SentTo = cmp.Or(out.Usage.SentTo, sentTo(l.dest, again.Usage))
		if err != nil {
			return out, fmt.Errorf("invalid answer (%v), and the repair call failed: %w", perr, err)
		}
		if a, err = prompts.ParseAnswer(again.Content, tm); err != nil {
			return out, fmt.Errorf("invalid answer after one repair: %w", err)
		}
		out.Repaired = true
	}
	out.Answer = a
	return out, nil
}

// fenceToken derives the report's fence token from its content, so that
// the same report renders the same prompt on every run (and the reply
// cache can answer it), while a sender cannot know the token without
// already fixing the content it is hashed from. The prompt renderer picks a
// random token instead if the report happens to contain this one.
func fenceToken(r *intake.Report) string {
	sum := sha256.Sum256([]byte("secscreen fence\x00" + r.Hash + "\x00" + r.ID + "\x00" + r.Subject + "\x00" + r.Body))
	return "REPORT-" + hex.EncodeToString(sum[:12])
}

// sentTo is where one call sent the report: the backend's destination
// unless the reply came from the cache. A failed call counts as sent: the
// request may have reached the server before it failed.
func sentTo(dest string, u backend.Usage) string {
	if u.Cached {
		return ""
	}
	return dest
}

func addUsage(a, b backend.Usage) backend.Usage {
	a.PromptTokens += b.PromptTokens
	a.CompletionTokens += b.CompletionTokens
	a.Latency += b.Latency
	a.Attempts += b.Attempts
	a.Cached = a.Cached && b.Cached
	if b.Model != "" {
		a.Model = b.Model
	}
	return a
}
