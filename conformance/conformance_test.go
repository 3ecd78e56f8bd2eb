package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/conformance"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

var (
	record = flag.Bool("record", false, "record the golden files from -target instead of comparing")
	target = flag.String("target", "", "run the scenarios against this server (e.g. http://127.0.0.1:19696) instead of an in-process neutrino")
	// keystone scenarios (auth: keystone) need a server behind Keystone
	ksTarget = flag.String("ks-target", "", "run the keystone scenarios against this server (e.g. http://127.0.0.1:29696, the reference behind Keystone)")
)

const recordHint = "go test ./conformance -run TestConformance -record -target http://127.0.0.1:19696 -ks-target http://127.0.0.1:29696 (or conformance/record.sh)"

// TestConformance replays every scenario against a fresh in-process
// neutrino (one per scenario, in parallel) and compares the answers with
// the golden files recorded from the real Neutron. With -record it writes
// the golden files from -target instead.
func TestConformance(t *testing.T) {
	scenarios, err := conformance.LoadDir("scenarios")
	if err != nil {
		t.Fatal(err)
	}
	if *record && *target == "" && *ksTarget == "" {
		t.Fatal("-record needs -target and/or -ks-target (the reference Neutron's URLs)")
	}
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			base := *target
			if sc.Keystone() {
				base = *ksTarget
			}
			if *record && base == "" {
				t.Skipf("not recorded: no -%s for a %s scenario", map[bool]string{true: "ks-target", false: "target"}[sc.Keystone()], map[bool]string{true: "keystone", false: "noauth"}[sc.Keystone()])
			}
			if !*record && base == "" && *target != "" {
				t.Skip("a keystone scenario: replay it against a server with -ks-target")
			}
			golden := filepath.Join("golden", sc.Name+".json")
			var want *conformance.Transcript
			if !*record {
				t.Parallel()
				var err error
				want, err = conformance.ReadGolden(golden)
				if errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("no golden file %s: record it with %s", golden, recordHint)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			r := &conformance.Runner{}
			if sc.Keystone() {
				ks := personas(t)
				r.Token, r.Vars = ks.Token, ks.IDs()
			}
			if base == "" {
				o := testutil.Options{Set: testutil.ReferenceLike(sc.Config)}
				if sc.Keystone() {
					o.Files = []string{keystoneConfig(t)}
				}
				base = testutil.StartServer(t, o).URL
				if sc.Keystone() {
					warm(t, base, r.Token)
				}
			}
			r.BaseURL = base
			skipWithoutExtensions(t, r, sc) // also when recording: never record a missing plugin's 404s
			got, err := r.Run(context.Background(), sc)
			if *record {
				if err != nil {
					t.Errorf("run %s: %v (resources may be left behind on %s)", r.RunID, err, base)
				}
				if err := conformance.CheckRequire(sc, got); err != nil {
					rejected := filepath.Join(os.TempDir(), "conformance-rejected-"+sc.Name+".json")
					conformance.WriteGolden(rejected, got)
					t.Fatalf("not recorded (answers in %s): %v", rejected, err)
				}
				if err := conformance.WriteGolden(golden, got); err != nil {
					t.Fatal(err)
				}
				t.Logf("recorded %s (%d steps, run %s)", golden, len(got.Steps), r.RunID)
				return
			}
			if err != nil {
				t.Logf("run %s: %v", r.RunID, err)
			}
			if dir := os.Getenv("CONFORMANCE_DUMP"); dir != "" {
				// what the server answered, to read the known differences
				conformance.WriteGolden(filepath.Join(dir, sc.Name+".json"), got)
			}
			dropUnimplemented(want, sc)
			dropUnimplemented(got, sc)
			if diffs := conformance.Compare(sc, want, got); diffs != nil {
				t.Error(conformance.Report(sc, diffs))
			}
		})
	}
}

var (
	ksOnce  sync.Once
	ks      *conformance.Keystone
	ksErr   error
	ksProxy *httptest.Server // conformance.TokenCache in front of Keystone
)

// personas returns the Keystone personas, provisioned once per process.
// Keystone unreachable: a skip, or a failure under CI=true.
func personas(t *testing.T) *conformance.Keystone {
	t.Helper()
	ksOnce.Do(func() {
		ks = conformance.NewKeystone(conformance.KeystoneURL())
		if ksErr = ks.Reachable(); ksErr != nil {
			ksErr = fmt.Errorf("%w: %v", errUnreachable, ksErr)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		ksErr = ks.Setup(ctx)
		ksProxy = httptest.NewServer(conformance.NewTokenCache(ks.URL))
	})
	if ksErr != nil {
		if errors.Is(ksErr, errUnreachable) && os.Getenv("CI") != "true" {
			t.Skipf("keystone scenario: %v", ksErr)
		}
		t.Fatal(ksErr)
	}
	return ks
}

var errUnreachable = errors.New("Keystone unreachable")

// warm has an in-process server validate every persona's token at once
// (Keystone is slow; the steps would otherwise wait for one after the
// other).
func warm(t *testing.T, base string, token func(context.Context, string) (string, error)) {
	var wg sync.WaitGroup
	for _, p := range conformance.PersonaNames() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := token(context.Background(), p)
			if err != nil {
				return
			}
			req, _ := http.NewRequest(http.MethodGet, base+"/v2.0/extensions/quotas", nil)
			req.Header.Set("X-Auth-Token", tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Logf("warming %s: %v", p, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
}

// keystoneConfig writes the [keystone_authtoken] section of an in-process
// neutrino with auth_strategy = keystone (the service user keystone-up.sh
// provisions, as the reference uses). neutrino asks Keystone through
// ksProxy, which remembers tokens and validations across the scenarios'
// servers (as a shared memcached would).
func keystoneConfig(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "neutron.conf")
	err := os.WriteFile(p, []byte(fmt.Sprintf(`[DEFAULT]
auth_strategy = keystone
[keystone_authtoken]
www_authenticate_uri = %[1]s
auth_url = %[2]s
auth_type = password
username = neutron
password = neutron
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne
service_token_roles_required = true
`, conformance.KeystoneURL(), ksProxy.URL)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGoldenFilesHaveScenarios catches golden files left behind by a
// renamed or deleted scenario.
func TestGoldenFilesHaveScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if _, err := os.Stat(filepath.Join("scenarios", name+".yaml")); err != nil {
			t.Errorf("%s has no scenario (scenarios/%s.yaml): delete it", f, name)
		}
	}
}

// unimplemented are attributes the reference adds through extensions
// neutrino does not serve yet (listed in docs/compat.md); they are left out
// of every answer before comparing. Steps that send them are marked
// known_difference in their scenarios.
var unimplemented = map[string]bool{
	// quotas of resources of plugins not implemented (router)
	"router":     true,
	"floatingip": true,
}

// l3Keys are the unimplemented keys a scenario that requires the router
// extension keeps: it runs only against a server that lists the extension,
// and its "router" and "floatingip" bodies must be compared.
var l3Keys = map[string]bool{"router": true, "floatingip": true}

func dropUnimplemented(t *conformance.Transcript, sc *conformance.Scenario) {
	keepL3 := false
	for _, a := range sc.Requires {
		keepL3 = keepL3 || a == "router"
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if unimplemented[k] && !(keepL3 && l3Keys[k]) {
					delete(x, k)
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, a := range t.Steps {
		walk(a.Body)
	}
}

// skipWithoutExtensions skips a scenario whose requires: lists an
// extension the server does not serve (a plugin not implemented yet, or
// not configured on -target).
func skipWithoutExtensions(t *testing.T, r *conformance.Runner, sc *conformance.Scenario) {
	t.Helper()
	if len(sc.Requires) == 0 {
		return
	}
	req, err := http.NewRequest(http.MethodGet, r.BaseURL+"/v2.0/extensions", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if sc.Keystone() {
		tok, err := r.Token(context.Background(), "admin")
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Auth-Token", tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Extensions []struct {
			Alias string `json:"alias"`
		} `json:"extensions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("GET /v2.0/extensions: %v", err)
	}
	have := map[string]bool{}
	for _, e := range list.Extensions {
		have[e.Alias] = true
	}
	var missing []string
	for _, a := range sc.Requires {
		if !have[a] {
			missing = append(missing, a)
		}
	}
	if missing != nil {
		t.Skipf("the server does not list the extensions %s", strings.Join(missing, ", "))
	}
}
