package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secscreen runs the command in-process and returns its exit code and
// output. Tests set the environment so that no model server is probed.
func secscreen(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"secscreen"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// isolate keeps a test away from the user's config, cache, keys and any
// local model server.
func isolate(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("XDG_DATA_HOME", t.TempDir()) // the default history
	t.Setenv("SECSCREEN_HISTORY", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("OLLAMA_HOST", "http://127.0.0.1:1") // nothing listens there
	t.Setenv("SECSCREEN_BACKEND", "")
}

func jsonl(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		rows = append(rows, m)
	}
	return rows
}

func TestScreenExamplesWithRulesOnly(t *testing.T) {
	isolate(t)
	code, out, errOut := secscreen(t, "screen", "--backend", "rules", "--format", "jsonl", "../../examples")
	require.Equal(t, exitOK, code, errOut)
	rows := jsonl(t, out)
	entries, err := os.ReadDir("../../examples")
	require.NoError(t, err)
	require.Len(t, rows, len(entries))
	for _, r := range rows {
		assert.Nil(t, r["error"])
		assert.NotEmpty(t, r["verdict"])
		assert.NotEmpty(t, r["route"])
	}
	assert.Contains(t, errOut, fmt.Sprintf("%d inputs, %d rows", len(entries), len(entries)))
}

func TestScreenEveryBadInputIsARow(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	files := map[string][]byte{
		"good.eml":      []byte("From: a@example.org\r\nSubject: oops in 6.12.3\r\nMessage-ID: <g@example.org>\r\n\r\nAs root, writing to /dev/mem oopses.\r\n"),
		"empty.txt":     nil,
		"junk.bin":      {0x7f, 'E', 'L', 'F', 0, 0, 1, 2, 3, 0, 0xff, 0xfe},
		"broken.eml":    []byte("From: b@example.org\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\ntruncated part with no end"),
		"oversized.txt": bytes.Repeat([]byte("A kernel bug report line.\n"), 200),
	}
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	code, out, errOut := secscreen(t, "screen", "--backend", "rules", "--format", "jsonl", "--max-message-bytes", "1000", dir)
	rows := jsonl(t, out)
	require.Len(t, rows, len(files), "one row per input:\n%s", out)
	errs := 0
	for _, r := range rows {
		if r["error"] != nil {
			errs++
		}
	}
	assert.GreaterOrEqual(t, errs, 3, "empty, binary and oversized inputs are error rows")
	assert.Equal(t, exitInputErrors, code, errOut)
	assert.Contains(t, errOut, fmt.Sprintf("%d inputs, %d rows", len(files), len(files)))
}

func TestUsageErrorsExitTwo(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{
		{"screen"},
		{"screen", "--format", "xml", "../../examples"},
		{"screen", "--backend", "nonesuch", "../../examples"},
		{"screen", "--no-such-flag", "../../examples"},
		{"screen", "--threat-model", "/nonexistent.yaml", "../../examples"},
		{"screen", "--offline", "--no-cache", "../../examples"},
		{"rules", "list", "--format", "xml"},
		{"history", "stats", "--format", "xml"},
		{"train", "--corpus", "../../corpus"},              // -o is required
		{"history", "label", "1", "--verdict", "security"}, // and --category
		{"rules", "lint"}, // --corpus
	} {
		code, _, errOut := secscreen(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
		assert.Contains(t, errOut, "secscreen:", "%v: one clear line", args)
	}
}

func TestThreatModelShow(t *testing.T) {
	isolate(t)
	code, out, _ := secscreen(t, "threatmodel", "show", "--format", "json")
	require.Equal(t, exitOK, code)
	var m struct {
		Clauses []struct{ ID, Verdict string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	assert.Len(t, m.Clauses, 38)

	rst := filepath.Join("..", "..", "screener", "threatmodel", "testdata", "kernel-threat-model.rst")
	code, out, errOut := secscreen(t, "threatmodel", "show", "--threat-model", rst)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "config.debug-feature")
}

func TestRulesListAndExplain(t *testing.T) {
	isolate(t)
	code, out, _ := secscreen(t, "rules", "list")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "fs.crafted-image")
	code, out, errOut := secscreen(t, "rules", "explain", "../../examples/04-crafted-ext4-image.eml")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "rules verdict:")
}

// fakeOpenAI speaks POST /v1/chat/completions and answers every report
// with the same label; it records the Authorization header it saw.
func fakeOpenAI(t *testing.T, calls *atomic.Int32) *httptest.Server {
	return fakeOpenAIRecording(t, calls, nil)
}

// fakeOpenAIRecording is fakeOpenAI that also hands every request body to
// record.
func fakeOpenAIRecording(t *testing.T, calls *atomic.Int32, record func([]byte)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if record != nil {
			record(body)
		}
		if !bytes.Contains(body, []byte(`"temperature":0`)) {
			http.Error(w, `{"error":{"message":"expected temperature 0"}}`, http.StatusBadRequest)
			return
		}
		answer := `{"verdict":"not-security","category":"fs.crafted-image","confidence":0.9,"attacker_privileges":"root mounts the image","boundary_crossed":"none","missing_information":[],"ai_generated_signs":[],"rationale":"needs a crafted image","cited_clauses":["fs.crafted-image"]}`
		resp := map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": answer}}},
			"usage": map[string]any{"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050},
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestScreenWithOpenAICompatibleServerCachesAndReplaysOffline(t *testing.T) {
	isolate(t)
	const key = "sk-test-DO-NOT-LEAK-7f3a9c"
	t.Setenv("OPENAI_API_KEY", key)
	var calls atomic.Int32
	srv := fakeOpenAI(t, &calls)
	cache := t.TempDir()
	report := "../../examples/04-crafted-ext4-image.eml"
	args := []string{"screen", "--backend", "openai", "--base-url", srv.URL + "/v1", "--model", "test-model", "--cache", cache, "--format", "jsonl"}

	code, out, errOut := secscreen(t, append(args, report)...)
	require.Equal(t, exitOK, code, errOut)
	rows := jsonl(t, out)
	require.Len(t, rows, 1)
	model := rows[0]["model"].(map[string]any)
	assert.Equal(t, "fs.crafted-image", model["category"])
	assert.Equal(t, "openai", rows[0]["backend"])
	assert.Equal(t, int32(1), calls.Load())
	assert.Contains(t, errOut, "1000+50 tokens")

	// Replay with the server gone: the answer comes from the cache.
	srv.Close()
	code, out2, errOut := secscreen(t, append(append([]string{}, args...), "--offline", report)...)
	require.Equal(t, exitOK, code, errOut)
	model2 := jsonl(t, out2)[0]["model"].(map[string]any)
	assert.Equal(t, model["category"], model2["category"])
	assert.Equal(t, true, model2["usage"].(map[string]any)["cached"])

	// The key is in none of what secscreen wrote.
	filepath.WalkDir(cache, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(path)
			assert.NotContains(t, string(data), key, path)
		}
		return nil
	})
	for _, s := range []string{out, out2, errOut} {
		assert.NotContains(t, s, key)
	}
}

func TestScreenOfflineMissIsReported(t *testing.T) {
	isolate(t)
	code, out, errOut := secscreen(t, "screen", "--backend", "openai", "--base-url", "http://127.0.0.1:1/v1", "--model", "m",
		"--offline", "--cache", t.TempDir(), "--format", "jsonl", "../../examples/05-vague-report.txt")
	require.Equal(t, exitInputErrors, code, "a cache miss is an error row: %s", errOut)
	row := jsonl(t, out)[0]
	assert.Equal(t, "cache-miss", row["decision"])
	assert.Contains(t, row["error"], "no cached reply")
	assert.Empty(t, row["verdict"])
	assert.Equal(t, "not sent", row["sent_to"])

	// Replaying needs no key and no base URL, and auto --offline contacts
	// no server (OLLAMA_HOST points at a listener that fails the test).
	t.Setenv("OPENAI_API_KEY", "")
	code, _, errOut = secscreen(t, "screen", "--backend", "openai", "--model", "m", "--offline", "--cache", t.TempDir(),
		"--format", "jsonl", "../../examples/05-vague-report.txt")
	assert.Equal(t, exitInputErrors, code, errOut)
	assert.NotContains(t, errOut, "set OPENAI_API_KEY")
	hit := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("auto --offline contacted %s", r.URL)
	}))
	defer hit.Close()
	t.Setenv("OLLAMA_HOST", hit.URL)
	code, _, errOut = secscreen(t, "screen", "--offline", "--cache", t.TempDir(), "--format", "jsonl", "../../examples/05-vague-report.txt")
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "--offline")
}

func TestConfigFileSetsBackendAndLimitsAndFlagsWin(t *testing.T) {
	isolate(t)
	cfgDir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "secscreen")
	require.NoError(t, os.MkdirAll(cfgDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cfgDir, "config.yaml"),
		[]byte("backend: rules\nlimits:\n  message_bytes: 300\n"), 0o644))
	report := "../../examples/01-pipe-splice-overwrite.eml" // over 300 bytes

	code, out, errOut := secscreen(t, "screen", "-f", "jsonl", report)
	assert.Equal(t, exitInputErrors, code, errOut)
	assert.Contains(t, errOut, "backend rules", "the file chose the backend")
	row := jsonl(t, out)[0]
	require.NotNil(t, row["error"], "the file's message limit applied")

	code, out, errOut = secscreen(t, "screen", "-f", "jsonl", "--max-message-bytes", "100000", report)
	assert.Equal(t, exitOK, code, errOut)
	assert.Nil(t, jsonl(t, out)[0]["error"], "a flag beats the file")

	require.NoError(t, os.WriteFile(filepath.Join(cfgDir, "config.yaml"), []byte("backend: rules\napi_key: sk-123\n"), 0o644))
	code, _, errOut = secscreen(t, "screen", report)
	assert.Equal(t, exitUsage, code)
	assert.NotContains(t, errOut, "sk-123", "a key pasted into the config is refused without being echoed")
}

func TestEmptyBackendVariableMeansTheDefault(t *testing.T) {
	isolate(t) // sets SECSCREEN_BACKEND="" and points OLLAMA_HOST nowhere
	code, _, errOut := secscreen(t, "screen", "-f", "jsonl", "../../examples/05-vague-report.txt")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "backend auto: baseline", "auto falls back to the offline classifier")
}

func TestShotsComeFromTheCorpusAndNeverShowTheReportItself(t *testing.T) {
	isolate(t)
	var calls atomic.Int32
	var user string
	srv := fakeOpenAIRecording(t, &calls, func(body []byte) {
		var req struct {
			Messages []struct{ Role, Content string }
		}
		if json.Unmarshal(body, &req) == nil && len(req.Messages) > 1 {
			user = req.Messages[1].Content
		}
	})
	// Screen a report that is itself in the corpus, with every corpus report
	// offered as an example: it must not be shown its own text.
	const self = "../../corpus/reports/misc-069-root-insmod-rootkit.eml"
	code, _, errOut := secscreen(t, "screen", "--backend", "openai", "--base-url", srv.URL+"/v1", "--model", "m",
		"--no-cache", "--shots", "500", "--corpus", "../../corpus", "-f", "jsonl", self)
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, int32(1), calls.Load())
	assert.Equal(t, 337, strings.Count(user, "<<<BEGIN EXAMPLE "), "every other report of the dev split (none of the sealed test split) is an example")
	assert.Equal(t, 1, strings.Count(user, "<<<BEGIN REPORT "))
	data, err := os.ReadFile(self)
	require.NoError(t, err)
	subject := ""
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "Subject: ") {
			subject = strings.TrimSpace(strings.TrimPrefix(line, "Subject: "))
			break
		}
	}
	require.NotEmpty(t, subject)
	assert.Equal(t, 1, strings.Count(user, subject), "the report appears once, as the report, never as an example")
}

func TestPriceTableTurnsTokensIntoCost(t *testing.T) {
	isolate(t)
	var calls atomic.Int32
	srv := fakeOpenAI(t, &calls) // answers with 1000 prompt and 50 completion tokens
	cfgDir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "secscreen")
	require.NoError(t, os.MkdirAll(cfgDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cfgDir, "config.yaml"), []byte(
		"prices:\n  test-model: {prompt_per_1m: 2, completion_per_1m: 8}\n"), 0o644))
	code, _, errOut := secscreen(t, "screen", "--backend", "openai", "--base-url", srv.URL+"/v1", "--model", "test-model",
		"--no-cache", "-f", "jsonl", "../../examples/04-crafted-ext4-image.eml")
	require.Equal(t, exitOK, code, errOut)
	// 1000 × 2/1e6 + 50 × 8/1e6 = 0.0024
	assert.Contains(t, errOut, "cost 0.0024")
}

func TestScreenExitsFourWhenTheModelNeverAnswers(t *testing.T) {
	isolate(t)
	var calls atomic.Int32
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`)
	}))
	defer refusing.Close()
	t.Setenv("OPENAI_API_KEY", "sk-refused-0001")
	code, out, errOut := secscreen(t, "screen", "--backend", "openai", "--base-url", refusing.URL+"/v1", "--model", "m",
		"--no-cache", "-j", "1", "--retries", "3", "--format", "jsonl", "../../examples/")
	assert.Equal(t, exitModelFailed, code, errOut)
	assert.Equal(t, int32(1), calls.Load(), "a refused key stops the calls at once")
	assert.Contains(t, errOut, "refused the credentials")
	assert.NotContains(t, errOut+out, "sk-refused-0001")
	assert.Len(t, jsonl(t, out), 5, "every input still has a row, labeled by the rules")

	var errors atomic.Int32
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		errors.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer broken.Close()
	code, out, errOut = secscreen(t, "screen", "--backend", "openai", "--base-url", broken.URL+"/v1", "--model", "m",
		"--no-cache", "--retries", "1", "--timeout", "5s", "--format", "jsonl", "../../examples/")
	assert.Equal(t, exitModelFailed, code, errOut)
	assert.Contains(t, errOut, "no valid answer for any of 5 reports")
	assert.Len(t, jsonl(t, out), 5)
}

func TestABrokenConfigFileIsNamedOnce(t *testing.T) {
	isolate(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("backend: openai\ntimeout: [not a duration\n"), 0o644))
	code, _, errOut := secscreen(t, "screen", "--config", cfg, "../../examples/05-vague-report.txt")
	assert.Equal(t, exitUsage, code)
	assert.Equal(t, 1, strings.Count(errOut, "config:"), errOut)
	assert.Contains(t, errOut, cfg)
}

func TestAFailedWriteStopsTheRun(t *testing.T) {
	isolate(t)
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	var calls atomic.Int32
	srv := fakeOpenAI(t, &calls)
	dir := t.TempDir()
	for i := range 40 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%02d.txt", i)), []byte(fmt.Sprintf("report %d: the driver oopses on a crafted image\n", i)), 0o644))
	}
	t.Setenv("OPENAI_API_KEY", "sk-test")
	code, _, errOut := secscreen(t, "screen", "--backend", "openai", "--base-url", srv.URL+"/v1", "--model", "m",
		"--no-cache", "-j", "1", "-f", "jsonl", "-o", "/dev/full", dir)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "write results")
	assert.Less(t, calls.Load(), int32(10), "a full disk stops the model calls")
}

func TestOutputFormatFollowsTheFileNameAndVerboseWorksBeforeTheCommand(t *testing.T) {
	isolate(t)
	page := filepath.Join(t.TempDir(), "triage.html")
	code, _, errOut := secscreen(t, "screen", "--backend", "rules", "-o", page, "../../examples/05-vague-report.txt")
	require.Equal(t, exitOK, code, errOut)
	data, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(strings.TrimSpace(string(data)), "<!DOCTYPE html>"), "-o x.html writes HTML")

	code, out, errOut := secscreen(t, "-v", "screen", "--backend", "rules", "../../examples/05-vague-report.txt")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "route:", "a global -v means verbose, not --version")
	assert.Contains(t, out, "source: ../../examples/05-vague-report.txt")

	code, out, _ = secscreen(t, "--version")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "secscreen version")
}

func TestScreenAcceptsFlagsAfterInputs(t *testing.T) {
	isolate(t)
	code, out, errOut := secscreen(t, "screen", "../../examples/05-vague-report.txt", "--backend", "rules", "-f", "jsonl")
	assert.Equal(t, exitOK, code, errOut)
	assert.Len(t, jsonl(t, out), 1)
}
