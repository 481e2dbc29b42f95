package dedup

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The exact table finds, changes and deletes what a map of whole keys
// does, through growth and backward-shift deletion, with many keys that
// share a tag (the same top 32 bits) or a home, and the key whose top 32
// bits are 0.
func TestExactTableIsAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var keys []uint64
	for range 3000 {
		k := rng.Uint64()
		keys = append(keys, k, k^1, k^0xffff_0000) // the same tag, twice
	}
	for range 200 {
		keys = append(keys, rng.Uint64()>>40) // the tag 1, as the key 1<<32 has
	}
	keys = append(keys, 1<<32|5, 0xffff_ffff_0000_0000, 0xffff_ffff_ffff_ffff)

	var tab exactTable
	want := map[uint64]exactRef{}
	keyOf := map[exactRef]uint64{} // every ref given is unique
	next := exactRef(0)
	newRef := func(key uint64) exactRef {
		next++
		if next&1 == 0 {
			next++
		}
		keyOf[next] = key
		return next
	}
	find := func(key uint64) int {
		return tab.probe(key, func(r exactRef) bool { return keyOf[r] == key })
	}
	for step := range 60000 {
		key := keys[rng.IntN(len(keys))]
		i := find(key)
		ref, in := want[key]
		require.Equal(t, in, i >= 0, "step %d: key %x in the table", step, key)
		if in {
			require.Equal(t, ref, tab.ref(i), "step %d", step)
		}
		switch op := rng.IntN(10); {
		case !in && op < 7:
			r := newRef(key)
			tab.add(key, r)
			want[key] = r
		case in && op < 3:
			tab.delete(i)
			delete(want, key)
		case in && op < 6:
			r := newRef(key)
			tab.set(i, r)
			want[key] = r
		}
		require.Equal(t, len(want), tab.len())
		require.LessOrEqual(t, 4*tab.len(), 3*len(tab.slots), "at most 3/4 full")
	}
	for key, ref := range want {
		i := find(key)
		require.GreaterOrEqual(t, i, 0)
		require.Equal(t, ref, tab.ref(i))
	}
	require.Greater(t, len(want), 1000, "the table was exercised full")
}

func TestExactRefsKeepWhatTheyHold(t *testing.T) {
	for _, seq := range []int{0, 1, 2, 12345, maxExactSeq} {
		r := atSeq(seq)
		got, ok := r.seq()
		require.True(t, ok)
		require.Equal(t, seq, got)
		_, ok = r.spilled()
		require.False(t, ok)
	}
	for _, ref := range []uint32{0, 1, 99, maxSpillRef} {
		r := inSpill(ref)
		got, ok := r.spilled()
		require.True(t, ok)
		require.Equal(t, ref, got)
		_, ok = r.seq()
		require.False(t, ok)
	}
}

// A slot whose tag is another content's is not taken for the content,
// whether that report is in memory or spilled.
func TestAnotherContentWithTheSameTagIsNotTheFirstOfIt(t *testing.T) {
	tr := NewTracker(nil, Options{}, nil)
	defer tr.Close()
	const a, b, c = 0x1234_5678_0000_0001, 0x1234_5678_0000_0002, 0x1234_5678_0000_0003 // one tag
	tr.entries[7] = &entry{seq: 7, exactKey: a}
	tr.exact.add(a, atSeq(7))
	rec, err := json.Marshal(goneEntry{Key: b, Seq: 9, ID: "b"})
	require.NoError(t, err)
	ref, ok := tr.gone.add(rec)
	require.True(t, ok)
	tr.exact.add(b, inSpill(ref))

	slot, e, g := tr.firstOf(a)
	require.GreaterOrEqual(t, slot, 0)
	require.Nil(t, g)
	require.Equal(t, 7, e.seq)
	slot, e, g = tr.firstOf(b)
	require.GreaterOrEqual(t, slot, 0)
	require.Nil(t, e)
	require.Equal(t, "b", g.ID)
	require.Equal(t, 9, g.Seq)
	slot, e, g = tr.firstOf(c)
	require.Equal(t, -1, slot)
	require.Nil(t, e)
	require.Nil(t, g)
}
