package metering_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

var config = map[string]string{"DEFAULT.service_plugins": "metering"}

func post(t *testing.T, url, key string, obj map[string]any) *testutil.Response {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj})
}

// TestOverlapsUnderConcurrency: overlapping remote_ip_prefix rules created
// at once on two servers: one is created, the others overlap it; deleting
// the label takes its rules.
func TestOverlapsUnderConcurrency(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			srv := [2]string{testutil.StartServer(t, testutil.Options{DB: url, Set: config}).URL,
				testutil.StartServer(t, testutil.Options{DB: url, Set: config}).URL}
			label := post(t, srv[0]+"/v2.0/metering/metering-labels", "metering_label", map[string]any{"name": "l"}).Expect(t, 201).Obj("metering_label")["id"]
			st := make([]int, 8)
			var wg sync.WaitGroup
			for i := range st {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					st[i] = post(t, srv[i%2]+"/v2.0/metering/metering-label-rules", "metering_label_rule", map[string]any{
						"metering_label_id": label, "direction": "ingress", "remote_ip_prefix": fmt.Sprintf("10.0.%d.0/24", i)}).Status
				}(i)
			}
			// 10.0.0.0/16 overlaps every one of them
			wg.Add(1)
			go func() {
				defer wg.Done()
				post(t, srv[1]+"/v2.0/metering/metering-label-rules", "metering_label_rule", map[string]any{
					"metering_label_id": label, "direction": "ingress", "remote_ip_prefix": "10.0.0.0/16"})
			}()
			wg.Wait()
			rules := testutil.Do(t, "GET", srv[0]+fmt.Sprint("/v2.0/metering/metering-label-rules?metering_label_id=", label), nil).Expect(t, 200).List("metering_label_rules")
			for _, r := range rules {
				if r["remote_ip_prefix"] == "10.0.0.0/16" && len(rules) != 1 {
					t.Fatalf("10.0.0.0/16 created beside %d other rules", len(rules)-1)
				}
			}
			testutil.Do(t, "DELETE", srv[0]+fmt.Sprint("/v2.0/metering/metering-labels/", label), nil).Expect(t, 204)
			left := testutil.Do(t, "GET", srv[0]+fmt.Sprint("/v2.0/metering/metering-label-rules?metering_label_id=", label), nil).Expect(t, 200).List("metering_label_rules")
			if len(left) != 0 {
				t.Fatalf("%d rules left", len(left))
			}
		})
	}
}
