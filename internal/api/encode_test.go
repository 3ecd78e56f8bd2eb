package api

import (
	"encoding/json"
	"testing"
)

func TestAppendStringMatchesStd(t *testing.T) {
	for _, s := range []string{"", "abc", "a\"b\\c", "tab\there\nnl\r", "\x01\x1f", "é ü 漢字", "\u2028x\u2029", string([]byte{0xff, 'a'}), "<>&"} {
		got := string(appendString(nil, s))
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Fatalf("%q: %v (%s)", s, err, got)
		}
		want := s
		if s == string([]byte{0xff, 'a'}) {
			want = "\ufffda"
		}
		if back != want {
			t.Fatalf("%q -> %s -> %q", s, got, back)
		}
	}
}
