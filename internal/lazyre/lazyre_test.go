package lazyre

import (
	"regexp"
	"sync"
	"testing"
)

func TestSameAsRegexp(t *testing.T) {
	const src = `(?i)\b(?P<w>ab+)c`
	l, re := New(src), regexp.MustCompile(src)
	text := "xx ABbc abc abbbbc d"
	if l.String() != src || l.MatchString(text) != re.MatchString(text) ||
		len(l.FindAllStringIndex(text, -1)) != len(re.FindAllStringIndex(text, -1)) ||
		l.SubexpIndex("w") != re.SubexpIndex("w") || l.ReplaceAllString(text, "-") != re.ReplaceAllString(text, "-") {
		t.Fatal("lazy pattern differs from regexp")
	}
	if l.Match([]byte(text)) != re.Match([]byte(text)) || l.FindString(text) != re.FindString(text) ||
		string(l.ReplaceAll([]byte(text), []byte("<$w>"))) != string(re.ReplaceAll([]byte(text), []byte("<$w>"))) {
		t.Fatal("lazy pattern's byte and FindString methods differ from regexp")
	}
}

func TestCompiledOnce(t *testing.T) {
	l := New(`a+`)
	var wg sync.WaitGroup
	got := make([]*regexp.Regexp, 8)
	for i := range got {
		wg.Go(func() { got[i] = l.Get() })
	}
	wg.Wait()
	for _, re := range got {
		if re != got[0] {
			t.Fatal("compiled more than once")
		}
	}
}

func TestBadPatternPanicsAtFirstUse(t *testing.T) {
	l := New(`(`) // no panic here
	defer func() {
		if recover() == nil {
			t.Fatal("bad pattern did not panic")
		}
	}()
	l.MatchString("x")
}
