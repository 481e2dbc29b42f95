package rules

import (
	"crypto/sha256"
	"encoding/hex"
)

//go:generate go test -run ^TestSeriesGenerated$ -args -update

// The built-in series list is decoded at every start that judges a
// version. Decoding its YAML was about 2 ms of CPU in a one-report
// process, nearly all of it the YAML library's first use, so go generate
// also writes the decoded list (series_gen.go), used while the hash of
// the embedded series.yaml is the one it was generated from; otherwise
// the YAML is decoded as before, and TestSeriesGenerated fails until go
// generate is run again.

// seriesYAMLHash returns the hash of the embedded series.yaml.
func seriesYAMLHash() string {
	sum := sha256.Sum256(seriesYAML)
	return hex.EncodeToString(sum[:])
}

// seriesFromGenerated returns the built-in list from series_gen.go (not
// yet checked) when it was generated from today's series.yaml.
func seriesFromGenerated() (*SeriesList, bool) {
	if seriesYAMLHash() != generatedSeriesHash {
		return nil, false
	}
	return generatedSeries(), true
}
