package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/replies"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Every piece of data built into the binary loads, and what is built from
// several pieces fits together: a broken embedded file fails here, in one
// place, whichever package reads it. The loaders panic on broken data
// (internal/builtin), so each is called under NotPanics to name the file.
func TestEveryBuiltinLoaderSucceeds(t *testing.T) {
	var (
		tm     *threatmodel.Model
		routes screener.Routes
		set    *rules.RuleSet
		series *rules.SeriesList
		m      *baseline.Model
		opt    baseline.TrainOptions
	)
	require.NotPanics(t, func() { tm = threatmodel.Kernel() }, "kernel.yaml")
	require.NotEmpty(t, tm.Clauses, "kernel.yaml")
	require.NotPanics(t, func() { routes = screener.DefaultRoutes() }, "routes.yaml")
	for _, v := range threatmodel.Verdicts {
		assert.Contains(t, routes.Verdicts, v, "routes.yaml routes every verdict")
	}
	assert.NotEqual(t, advice.Contacts{}, advice.KernelContacts())

	require.NotPanics(t, func() { set = rules.KernelRules() }, "kernel.yaml rule pack and its weights")
	require.NotPanics(t, func() { series = rules.KernelSeries() }, "series.yaml")
	_, err := rules.NewEngine(tm, set, rules.Options{Series: series})
	require.NoError(t, err, "the rule pack fits the threat model")

	require.NotPanics(t, func() { m = baseline.Embedded() }, "model.bin")
	require.NotPanics(t, func() { opt = baseline.EmbeddedOptions() }, "model.bin's options")
	assert.Equal(t, m.Options, opt)

	require.NotEmpty(t, prompts.List())
	for _, id := range prompts.List() {
		_, err := prompts.Load(id)
		assert.NoError(t, err, "prompt template %s", id)
	}
	require.NotEmpty(t, replies.List())
	for _, id := range replies.List() {
		_, err := replies.Load(id)
		assert.NoError(t, err, "reply template %s", id)
	}
}
