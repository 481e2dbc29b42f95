package rules

import "testing"

// TestProcessUint32s: the table is of the length asked, zeroed, and every
// entry keeps what is stored in it, across the edge of a huge page.
func TestProcessUint32s(t *testing.T) {
	for _, n := range []int{1, 1000, 1 << 19, 1<<19 + 3} {
		tab := processUint32s(n)
		if len(tab) != n {
			t.Fatalf("%d entries asked, %d given", n, len(tab))
		}
		for i, v := range tab {
			if v != 0 {
				t.Fatalf("%d entries: entry %d is %d, not zero", n, i, v)
			}
		}
		for i := range tab {
			tab[i] = uint32(i) * 2654435761
		}
		for i, v := range tab {
			if v != uint32(i)*2654435761 {
				t.Fatalf("%d entries: entry %d lost its value", n, i)
			}
		}
	}
	if tab := processUint32s(0); len(tab) != 0 {
		t.Fatalf("no entries asked, %d given", len(tab))
	}
}
