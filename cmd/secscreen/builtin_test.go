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
// place, whichever package reads it.
func TestEveryBuiltinLoaderSucceeds(t *testing.T) {
	tm := threatmodel.Kernel()
	require.NotEmpty(t, tm.Clauses, "kernel.yaml")
	routes := screener.DefaultRoutes()
	for _, v := range threatmodel.Verdicts {
		assert.Contains(t, routes.Verdicts, v, "routes.yaml routes every verdict")
	}
	assert.NotEqual(t, advice.Contacts{}, advice.KernelContacts())

	set, err := rules.KernelRules()
	require.NoError(t, err, "kernel.yaml rule pack and its weights")
	series, err := rules.KernelSeries()
	require.NoError(t, err, "series.yaml")
	_, err = rules.NewEngine(tm, set, rules.Options{Series: series})
	require.NoError(t, err, "the rule pack fits the threat model")

	m, err := baseline.Embedded()
	require.NoError(t, err, "model.json")
	opt, err := baseline.EmbeddedOptions()
	require.NoError(t, err, "model.json's options")
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
