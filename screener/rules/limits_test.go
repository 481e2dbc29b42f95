package rules

import (
	"context"
	"github.com/secscreen/secscreen/internal/benchsupport"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
)

// hugeReport is a 10 MB message: a real report's text followed by a
// console log, the way a pasted log makes a message huge.
func hugeReport() *intake.Report {
	r := benchReport()
	var b strings.Builder
	b.WriteString(r.Body)
	line := "[  123.456789] foo: CAP_NET_ADMIN check in foo_ioctl() for uid 1000 on 7.3.1, KASAN quiet\n"
	for b.Len() < 10<<20 {
		b.WriteString(line)
	}
	r.Body = b.String()
	return r
}

func TestHugeBodyIsTruncatedAndSaysSo(t *testing.T) {
	e := kernelEngine(t)
	r := hugeReport()
	ev, err := e.EvaluateContext(context.Background(), r)
	require.NoError(t, err)
	require.Len(t, ev.Truncated, 1)
	assert.Equal(t, Truncation{Part: "body", Scanned: DefaultMaxPartBytes, Size: len(r.Body)}, ev.Truncated[0])
	// The report's own text, at its start, was read: its spans are exact.
	assert.NotEmpty(t, ev.Findings)
	for _, f := range ev.Findings {
		assert.LessOrEqual(t, f.Span.End, DefaultMaxPartBytes)
	}
	checkSpans(t, r, ev)
	assert.True(t, ev.Facts.HasReproducer)

	// A small report reads everything.
	ev = e.Evaluate(benchReport())
	assert.Empty(t, ev.Truncated)
}

func TestTotalBudgetSpansParts(t *testing.T) {
	set := KernelRules()
	e, err := NewEngine(kernelEngine(t).tm, set, Options{MaxPartBytes: 100, MaxTotalBytes: 150})
	require.NoError(t, err)
	r := &intake.Report{Subject: "short", Body: strings.Repeat("é", 100), Attachments: []intake.Attachment{{Name: "log.txt", Text: strings.Repeat("x", 300)}}}
	ev := e.Evaluate(r)
	assert.Equal(t, []Truncation{
		{Part: "body", Scanned: 100, Size: 200},
		{Part: "attachment:log.txt", Scanned: 45, Size: 300},
	}, ev.Truncated, "the body is cut at a rune boundary, the attachment gets what the budget leaves")
}

func TestCancelledContextStopsEvaluation(t *testing.T) {
	e := kernelEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ev, err := e.EvaluateContext(ctx, hugeReport())
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, ev.Findings, "no rule ran after the cancellation")
	assert.Empty(t, ev.Verdict, "a cancelled evaluation gives no label")
}

// BenchmarkEvaluate10MB evaluates a 10 MB message (the rules read its
// first 256 KiB; MB/s counts the whole message).
func BenchmarkEvaluate10MB(b *testing.B) {
	e := kernelEngine(b)
	r := hugeReport()
	b.SetBytes(int64(len(r.Body)))
	b.ReportAllocs()
	start := benchsupport.CPUTime()
	for b.Loop() {
		e.Evaluate(r)
	}
	benchsupport.ReportCPU(b, start)
}

// BenchmarkEvaluate10MBWhole reads the whole 10 MB message (no part or
// report limit): the time must stay linear in the size.
func BenchmarkEvaluate10MBWhole(b *testing.B) {
	set := KernelRules()
	e, err := NewEngine(kernelEngine(b).tm, set, Options{MaxPartBytes: 1 << 30, MaxTotalBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	r := hugeReport()
	b.SetBytes(int64(len(r.Body)))
	b.ReportAllocs()
	start := benchsupport.CPUTime()
	for b.Loop() {
		e.Evaluate(r)
	}
	benchsupport.ReportCPU(b, start)
}

// A 10 MB body made of one paragraph with no line breaks at all: the
// worst shape for paragraph matching.
func BenchmarkEvaluate10MBOneLine(b *testing.B) {
	e := kernelEngine(b)
	r := &intake.Report{Subject: "x", Body: strings.Repeat("requires CAP_SYS_ADMIN on 6.1.2 as root ", 10<<20/40)}
	b.SetBytes(int64(len(r.Body)))
	start := benchsupport.CPUTime()
	for b.Loop() {
		e.Evaluate(r)
	}
	benchsupport.ReportCPU(b, start)
}

func TestLongParagraphsAreCutAtLineBreaks(t *testing.T) {
	line := strings.Repeat("x", 99) + "\n"
	txt := strings.Repeat(line, 3*maxParagraph/len(line)) + "needle at the end\n"
	x := newText(txt, nil)
	require.Greater(t, len(x.paras), 2)
	for i, p := range x.paras {
		assert.LessOrEqual(t, p[1]-p[0], maxParagraph)
		if i > 0 {
			assert.Equal(t, x.paras[i-1][1], p[0], "chunks are contiguous")
			assert.Equal(t, byte('\n'), txt[p[0]-1], "a chunk starts after a line break")
		}
	}
	locs := x.spans(mustPattern(`needle`), 1)
	require.Len(t, locs, 1)
	assert.Equal(t, "needle", txt[locs[0][0]:locs[0][1]])

	// A line longer than a chunk is cut at a rune boundary.
	x = newText(strings.Repeat("é", maxParagraph), nil)
	for _, p := range x.paras {
		assert.True(t, utf8.RuneStart(x.t[p[0]]))
	}
}
