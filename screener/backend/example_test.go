package backend_test

import (
	"fmt"
	"time"

	"github.com/secscreen/secscreen/screener/backend"
)

func ExamplePriceTable_Cost() {
	prices := backend.PriceTable{"gpt-4o-mini": {PromptPer1M: 0.15, CompletionPer1M: 0.60}}
	// Servers report dated model names; the base entry prices them.
	u := backend.Usage{Model: "gpt-4o-mini-2024-07-18", PromptTokens: 3000, CompletionTokens: 400}
	cost, ok := prices.Cost(u)
	fmt.Printf("$%.6f %v\n", cost, ok)
	// Output: $0.000690 true
}

func ExampleParseRetryAfter() {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	fmt.Println(backend.ParseRetryAfter("30", now))
	fmt.Println(backend.ParseRetryAfter("Mon, 23 Nov 2026 12:02:00 GMT", now))
	// Output:
	// 30s
	// 2m0s
}

func ExampleRetryPolicy_Backoff() {
	p := backend.RetryPolicy{BaseDelay: time.Second, MaxDelay: 8 * time.Second,
		Jitter: func() float64 { return 1 }} // the top of each jitter range
	for n := 1; n <= 5; n++ {
		fmt.Print(p.Backoff(n), " ")
	}
	fmt.Println()
	// Output: 1s 2s 4s 8s 8s
}
