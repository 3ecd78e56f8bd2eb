package api

import "testing"

type panicky struct{}

func (panicky) AppendJSON(b []byte) []byte { panic("boom") }

// TestParallelViewsPanic: a panic while rendering a big list on the view
// goroutines reaches the request's goroutine (whose recovery answers 500)
// instead of killing the process.
func TestParallelViewsPanic(t *testing.T) {
	res := (&Resource{Name: "thing", Collection: "things", Attrs: []*Attribute{{Name: "id", Visible: true}, {Name: "v", Visible: true}}}).Finish()
	items := make([]Object, parallelViews+10)
	for i := range items {
		items[i] = Object{"id": "x", "v": 1}
	}
	items[len(items)-1]["v"] = panicky{}
	defer func() {
		if p := recover(); p != "boom" {
			t.Fatalf("recovered %v", p)
		}
	}()
	res.appendViews(nil, items, nil, nil)
	t.Fatal("no panic")
}
