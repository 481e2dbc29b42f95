package eval

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// SimulatedName is the backend name of the simulated model.
const SimulatedName = "simulated"

// The range simulated confidences are drawn from, right or wrong alike, so
// that a policy cannot tell a wrong answer by its confidence.
const (
	SimulatedMinConfidence = 0.6
	SimulatedMaxConfidence = 0.95
)

// SimulateSpec is what `eval --simulate ERROR_RATE[,SEED]` asks for.
type SimulateSpec struct {
	// ErrorRate in [0,1] is the share of reports answered wrongly.
	ErrorRate float64
	// Seed picks which reports are wrong, the wrong labels and the
	// confidences.
	Seed uint64
}

// ParseSimulate reads "ERROR_RATE[,SEED]" (the seed defaults to 1).
func ParseSimulate(s string) (SimulateSpec, error) {
	rate, seed, hasSeed := strings.Cut(strings.TrimSpace(s), ",")
	spec := SimulateSpec{Seed: 1}
	r, err := strconv.ParseFloat(strings.TrimSpace(rate), 64)
	if err != nil || math.IsNaN(r) || r < 0 || r > 1 {
		return SimulateSpec{}, fmt.Errorf("simulate %q: the error rate must be a number from 0 to 1", s)
	}
	spec.ErrorRate = r
	if hasSeed {
		n, err := strconv.ParseUint(strings.TrimSpace(seed), 10, 64)
		if err != nil {
			return SimulateSpec{}, fmt.Errorf("simulate %q: the seed must be a non-negative integer", s)
		}
		spec.Seed = n
	}
	return spec, nil
}

// String formats the spec as ParseSimulate reads it.
func (s SimulateSpec) String() string {
	return strconv.FormatFloat(s.ErrorRate, 'f', -1, 64) + "," + strconv.FormatUint(s.Seed, 10)
}

// Simulated is a stand-in model that knows the corpus labels: it answers a
// report with its true label, except on a seeded share of the reports,
// where it answers a wrong verdict with one of that verdict's categories.
// It lets the decision policy be measured and tuned on any labeled corpus
// without a model server.
//
// The wrong reports are chosen per true verdict: for each verdict, the
// share ErrorRate of its reports (rounded), picked by a seeded shuffle, so
// that every verdict gets its share of errors. The wrong verdict is drawn
// uniformly from the others, the category uniformly from the wrong
// verdict's. Confidences are drawn uniformly from [SimulatedMinConfidence,
// SimulatedMaxConfidence] whether the answer is right or wrong. Answers
// depend only on the labels, the report id and the seed, never on the order
// or concurrency of calls. It never touches the network; its usage has no
// tokens and the latency of the call.
//
// Simulated is a backend.Backend, not a screener.Classifier, on purpose:
// it marshals its answer to JSON and the screener's LLM adapter renders
// the prompt, parses, validates and (when needed) repairs that answer as
// it does a real model's. A measured policy then runs through the very
// path a model's answers take, and eval exercises that adapter on every
// corpus report without a server.
type Simulated struct {
	spec    SimulateSpec
	tm      *threatmodel.Model
	labels  map[string]corpus.Label
	wrong   map[string]bool
	byVerd  map[threatmodel.Verdict][]string // categories of each verdict, in threat-model order
	verdict []threatmodel.Verdict            // verdicts with categories, in threat-model order
}

// NewSimulated returns the simulated model for labels (ids must be unique)
// under the threat model tm.
func NewSimulated(labels []corpus.Label, tm *threatmodel.Model, spec SimulateSpec) (*Simulated, error) {
	if spec.ErrorRate < 0 || spec.ErrorRate > 1 {
		return nil, fmt.Errorf("simulated model: error rate %v outside [0, 1]", spec.ErrorRate)
	}
	s := &Simulated{spec: spec, tm: tm, labels: map[string]corpus.Label{}, wrong: map[string]bool{}, byVerd: map[threatmodel.Verdict][]string{}}
	for _, id := range tm.IDs() {
		v, _ := tm.VerdictOf(id)
		if len(s.byVerd[v]) == 0 {
			s.verdict = append(s.verdict, v)
		}
		s.byVerd[v] = append(s.byVerd[v], id)
	}
	perVerdict := map[threatmodel.Verdict][]string{}
	for _, l := range labels {
		if _, dup := s.labels[l.ID]; dup {
			return nil, fmt.Errorf("simulated model: duplicate label id %q", l.ID)
		}
		if err := tm.Check(l.Verdict, l.Category); err != nil {
			return nil, fmt.Errorf("simulated model: label %q: %w", l.ID, err)
		}
		s.labels[l.ID] = l
		perVerdict[l.Verdict] = append(perVerdict[l.Verdict], l.ID)
	}
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x5eed5eed5eed5eed))
	for _, v := range slices.Sorted(maps.Keys(perVerdict)) {
		ids := slices.Clone(perVerdict[v])
		slices.Sort(ids)
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		n := int(math.Round(spec.ErrorRate * float64(len(ids))))
		for _, id := range ids[:n] {
			s.wrong[id] = true
		}
	}
	return s, nil
}

// Name implements backend.Backend.
func (s *Simulated) Name() string { return SimulatedName }

// Model names the simulation, e.g. "simulated(error 0.25, seed 1)".
func (s *Simulated) Model() string {
	return fmt.Sprintf("simulated(error %s, seed %d)", strconv.FormatFloat(s.spec.ErrorRate, 'f', -1, 64), s.spec.Seed)
}

// Wrong reports whether the simulation answers report id wrongly.
func (s *Simulated) Wrong(id string) bool { return s.wrong[id] }

// Answer returns the simulated answer for report id.
func (s *Simulated) Answer(id string) (prompts.Answer, error) {
	l, ok := s.labels[id]
	if !ok {
		return prompts.Answer{}, fmt.Errorf("simulated model: no label for report %q", id)
	}
	rng := s.rngFor(id)
	// The confidence is the first draw, so it comes from the same
	// distribution whether the answer is right or wrong.
	conf := SimulatedMinConfidence + rng.Float64()*(SimulatedMaxConfidence-SimulatedMinConfidence)
	verdict, category := l.Verdict, l.Category
	if s.wrong[id] {
		var others []threatmodel.Verdict
		for _, v := range s.verdict {
			if v != l.Verdict {
				others = append(others, v)
			}
		}
		verdict = others[rng.IntN(len(others))]
		cats := s.byVerd[verdict]
		category = cats[rng.IntN(len(cats))]
	}
	return prompts.Answer{
		Label:              threatmodel.Label{Verdict: verdict, Category: category},
		Confidence:         math.Round(conf*1000) / 1000,
		AttackerPrivileges: "unknown", BoundaryCrossed: "none",
		MissingInformation: []string{}, AIGeneratedSigns: []string{},
		Rationale:    "Simulated answer for measuring the decision policy; it reads the corpus label, not the report.",
		CitedClauses: []string{category},
	}, nil
}

// rngFor returns the generator of report id's answer: the same for the
// same seed and id, whatever the order of calls.
func (s *Simulated) rngFor(id string) *rand.Rand {
	h := fnv.New64a()
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], s.spec.Seed)
	h.Write(seed[:])
	h.Write([]byte(id))
	k := h.Sum64()
	return rand.New(rand.NewPCG(k, k^0x9e3779b97f4a7c15))
}

// Complete implements backend.Backend: the answer for req.ReportID as the
// JSON a model would send.
func (s *Simulated) Complete(ctx context.Context, req backend.Request) (backend.Reply, error) {
	start := time.Now()
	usage := backend.Usage{Backend: SimulatedName, Model: s.Model(), Attempts: 1}
	if err := ctx.Err(); err != nil {
		return backend.Reply{Usage: usage}, err
	}
	a, err := s.Answer(req.ReportID)
	if err != nil {
		return backend.Reply{Usage: usage}, err
	}
	data, err := json.Marshal(a)
	if err != nil {
		return backend.Reply{Usage: usage}, fmt.Errorf("simulated model: %w", err)
	}
	usage.Latency = time.Since(start)
	return backend.Reply{Content: string(data), Usage: usage}, nil
}
