package baseline_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Train a model on a few labeled reports, save and reload it, and ask it
// about a new report, directly and as the screener's classifier.
func Example() {
	set := rules.KernelRules()
	eng, _ := rules.NewEngine(threatmodel.Kernel(), set, rules.Options{})

	report := func(subject, body string) *intake.Report {
		return &intake.Report{Subject: subject, Body: body}
	}
	var ex []baseline.Example
	for _, fs := range []string{"ext4", "xfs", "btrfs", "f2fs"} {
		ex = append(ex,
			baseline.Example{
				Report: report("crash mounting a crafted "+fs+" image", "Mounting a fuzzed, corrupted "+fs+" image as root crashes the kernel."),
				Label:  threatmodel.Label{Verdict: "not-security", Category: "fs.crafted-image"},
			},
			baseline.Example{
				Report: report(fs+" stat output shows my own quota", "The documented behaviour of "+fs+" is to show users their own quota; is this intended?"),
				Label:  threatmodel.Label{Verdict: "invalid", Category: "invalid.intended"},
			})
	}
	// So few reports need every word (the default keeps words found in
	// at least five) and fewer calibration folds.
	m, err := baseline.Train(ex, eng, baseline.TrainOptions{MinCount: 1, Folds: 2})
	if err != nil {
		fmt.Println(err)
		return
	}

	var file bytes.Buffer
	_ = m.Save(&file)
	m, err = baseline.LoadModel(&file)
	if err != nil {
		fmt.Println(err)
		return
	}

	r := report("panic after mounting a corrupted jfs image", "A fuzzed jfs image crashes the kernel when mounted.")
	ev := eng.Evaluate(r)
	p := m.Predict(r, &ev)
	fmt.Println(p.Verdict, p.Category)

	c, err := baseline.NewClassifier(m, eng).Classify(context.Background(), r, &ev)
	fmt.Println(c.Verdict, c.Category, err)
	// Output:
	// not-security fs.crafted-image
	// not-security fs.crafted-image <nil>
}
