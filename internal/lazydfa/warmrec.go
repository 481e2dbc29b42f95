package lazydfa

import (
	"cmp"
	"encoding/binary"
	"slices"
	"sync/atomic"
)

// A WarmRecorder collects, over warm-up texts, the states that Finders'
// DFAs reach and the transitions between them, and writes the snapshots of
// those that enough texts reach (Bytes) for NewWarmSet to read: what go
// generate runs. It is not safe for concurrent use, nor for use while the
// Finders it records search.
type WarmRecorder struct {
	dfas map[string]*warmCounts // by longest-match byte and program encoding
}

// warmCounts is what a WarmRecorder collected of the DFAs of one program.
type warmCounts struct {
	enc     string
	longest bool
	// texts counts, per state's key (appendKey), the texts that reached
	// it; starts, per kind of the rune before, the key of the start state
	// and the texts that started there; moves the transitions seen, to
	// the next state's key ("" for the dead state).
	texts  map[string]int
	starts [numKinds]map[string]int
	moves  map[warmMove]string
}

type warmMove struct {
	from  string
	class uint16
}

// Record adds what the DFAs of each Finder reached since it was made or
// last recorded (one warm-up text's states, say), and starts them afresh:
// a state's count (see Bytes) is the number of Records that saw it.
func (r *WarmRecorder) Record(fs ...*Finder) {
	if r.dfas == nil {
		r.dfas = map[string]*warmCounts{}
	}
	for _, f := range fs {
		r.recordDFA(f.enc, f.fwd)
		if f.rev != nil {
			r.recordDFA(f.revEnc, f.rev)
		}
	}
}

func (r *WarmRecorder) recordDFA(enc string, d *posDFA) {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := "f"
	if d.longest {
		id = "l"
	}
	id += enc
	wc := r.dfas[id]
	if wc == nil {
		wc = &warmCounts{enc: enc, longest: d.longest, texts: map[string]int{}, moves: map[warmMove]string{}}
		r.dfas[id] = wc
	}
	tab := *d.table.Load()
	keys := make([]string, d.numStates())
	for i := 1; i < len(keys); i++ {
		st := d.state(int32(i))
		keys[i] = string(appendKey(nil, st.pcs, st.prev, st.loop))
		wc.texts[keys[i]]++
	}
	for i := 1; i < len(keys); i++ {
		row := i * d.stride
		for c := range d.stride - 1 {
			if e := atomic.LoadInt32(&tab[row+c]); e != unknown {
				wc.moves[warmMove{keys[i], uint16(c)}] = keys[int(e>>1)/d.stride]
			}
		}
	}
	for k := range d.starts {
		if e := d.starts[k].Load(); e != 0 {
			if wc.starts[k] == nil {
				wc.starts[k] = map[string]int{}
			}
			wc.starts[k][keys[int((e-1)>>1)/d.stride]]++
		}
	}
	d.reset()
}

// Bytes returns the warm set of the DFAs recorded: each with the states
// that at least minTexts Records saw, the transitions between them and
// their start states; a DFA with no such state is left out. It is the
// same for the same Records, whatever the order the states were built in.
func (r *WarmRecorder) Bytes(minTexts int) []byte {
	type snap struct {
		sum, size, lm uint32
		words         []uint32
	}
	var snaps []snap
	for _, wc := range r.dfas {
		words := wc.snapshot(minTexts)
		if words == nil {
			continue
		}
		snaps = append(snaps, snap{words[0], words[1], words[2], words})
	}
	slices.SortFunc(snaps, func(a, b snap) int {
		return cmp.Or(cmp.Compare(a.sum, b.sum), cmp.Compare(a.size, b.size), cmp.Compare(a.lm, b.lm))
	})
	out := []uint32{warmMagic, uint32(len(snaps))}
	off := warmHead + warmDirEntry*len(snaps)
	for _, s := range snaps {
		out = append(out, s.sum, s.size, s.lm, uint32(off))
		off += len(s.words)
	}
	for _, s := range snaps {
		out = append(out, s.words...)
	}
	var b []byte
	for _, w := range out {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// snapshot returns the words of the snapshot of the states that at least
// minTexts texts reached, nil when there is none.
func (wc *warmCounts) snapshot(minTexts int) []uint32 {
	var kept []string
	for k, n := range wc.texts {
		if n >= minTexts {
			kept = append(kept, k)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	slices.Sort(kept)
	kept = kept[:min(len(kept), maxDFAStates/2)]
	// A cold DFA of the program, given the kept states in order, works out
	// their match bits and numbers them 1, 2, ...
	d := newPosDFA(mustReadMatchProg(wc.enc, "a recorded program"), wc.longest)
	d.mu.Lock()
	defer d.mu.Unlock()
	entries := map[string]int32{"": 0}
	for _, k := range kept {
		pcs, prev, loop := readKey(k)
		entries[k] = d.intern(pcs, prev, loop)
	}
	tab := *d.table.Load()
	for m, to := range wc.moves {
		from, ok1 := entries[m.from]
		e, ok2 := entries[to]
		if ok1 && ok2 {
			tab[int(from>>1)+int(m.class)] = e
		}
	}
	var starts [numKinds]uint32
	for k, counts := range wc.starts {
		for key, n := range counts {
			if e, ok := entries[key]; ok && n >= minTexts {
				starts[k] = uint32(e) + 1
			}
		}
	}
	n := d.numStates()
	lm := uint32(0)
	if wc.longest {
		lm = 1
	}
	words := []uint32{programSum(wc.enc), uint32(len(wc.enc)), lm, uint32(d.stride), uint32(n), 0}
	words = append(words, starts[:]...)
	for _, e := range tab[:n*d.stride] {
		words = append(words, uint32(e))
	}
	var pcs []uint32
	type indexed struct{ hash, id uint32 }
	var index []indexed
	for id := range n {
		st := d.state(int32(id))
		words = append(words, uint32(len(pcs)), uint32(len(st.pcs))<<8|uint32(st.prev)<<1|b2u(st.loop))
		pcs = append(pcs, st.pcs...)
		if id > 0 {
			index = append(index, indexed{stateHash(st.pcs, st.prev, st.loop), uint32(id)})
		}
	}
	slices.SortFunc(index, func(a, b indexed) int { return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.id, b.id)) })
	for _, x := range index {
		words = append(words, x.hash, x.id)
	}
	words[5] = uint32(len(pcs))
	return append(words, pcs...)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// Coverage returns, over the states that the Records saw (each counted
// once per Record that saw it), how many there were and how many of them
// ws holds the snapshots of: what share of the states texts reach a warm
// DFA finds in its snapshot.
func (r *WarmRecorder) Coverage(ws *WarmSet) (reached, held int) {
	for _, wc := range r.dfas {
		stride := 0
		if p, err := readMatchProg(wc.enc); err == nil {
			stride = p.nclass + 1
		}
		w := ws.dfa(programSum(wc.enc), len(wc.enc), wc.longest, stride)
		for k, n := range wc.texts {
			reached += n
			pcs, prev, loop := readKey(k)
			if _, ok := w.lookup(stateHash(pcs, prev, loop), pcs, prev, loop); ok {
				held += n
			}
		}
	}
	return reached, held
}
