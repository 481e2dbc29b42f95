package baseline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/secscreen/secscreen/screener/rules"
)

// TrainCached trains a model as Train does, or loads the one trained on the
// same examples before from dir. A model is found by fingerprint (what the
// rules' evaluations depend on: the binary, the rule, series and threat
// model files), the training options and every training report with its
// label, so any change trains afresh. An empty dir or fingerprint trains
// without the cache; a model that cannot be stored is still returned.
// Training takes about 3 s of CPU per fold of the bundled corpus, which was
// most of what a warm-cache `eval --folds` re-run did.
func TrainCached(ex []Example, eng *rules.Engine, opt TrainOptions, dir, fingerprint string) (*Model, error) {
	if dir == "" || fingerprint == "" {
		return Train(ex, eng, opt)
	}
	h := sha256.New()
	fmt.Fprintf(h, "secscreen-fold-model/v1\x00%s\x00", fingerprint)
	enc := json.NewEncoder(h)
	if err := enc.Encode(opt); err != nil {
		return Train(ex, eng, opt)
	}
	for _, e := range ex {
		if enc.Encode(e.Report) != nil || enc.Encode(e.Report.Hidden) != nil {
			return Train(ex, eng, opt)
		}
		fmt.Fprintf(h, "%s\x00%s\x00", e.Verdict, e.Category)
	}
	path := filepath.Join(dir, hex.EncodeToString(h.Sum(nil))+".json")
	if m, err := LoadModelFile(path); err == nil {
		return m, nil
	}
	m, err := Train(ex, eng, opt)
	if err != nil {
		return nil, err
	}
	if os.MkdirAll(dir, 0o700) == nil {
		_ = m.SaveFile(path) // a model not kept is trained again next time
	}
	return m, nil
}
