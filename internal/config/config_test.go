package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func init() {
	Register(&Option{Group: "cfgtest", Name: "flag", Type: Bool, Default: ""},
		&Option{Group: "cfgtest", Name: "drivers", Type: List, Default: ""},
		&Option{Group: "cfgtest", Name: "old", Type: String, Default: "", Ignored: true})
	RegisterRawGroup("cfgtest_raw", "raw keys")
	RegisterIgnoredGroup("cfgtest_ign", "not used")
	Implemented("cfgtest", "drivers", "a", "b")
}

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "n.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSetRawAndIgnored: --set takes raw-group keys and keys of ignored
// groups; ignored options and groups given are listed once; unknown
// options named by --set are refused.
func TestSetRawAndIgnored(t *testing.T) {
	f := write(t, "[cfgtest]\nold = x\n[cfgtest_ign]\nk = 1\n[cfgtest_raw]\nuser = u\n")
	c, err := Load([]string{f}, nil, map[string]string{"cfgtest_raw.password": "pw", "cfgtest_ign.other": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Raw("cfgtest_raw", "password"); !ok || v != "pw" {
		t.Fatalf("raw override: %q %v", v, ok)
	}
	if v, _ := c.Raw("cfgtest_raw", "user"); v != "u" {
		t.Fatalf("raw from file: %q", v)
	}
	want := []string{"[cfgtest] old", "[cfgtest_ign] k", "[cfgtest_ign] other"}
	if !reflect.DeepEqual(c.IgnoredSet, want) {
		t.Fatalf("IgnoredSet %v, want %v", c.IgnoredSet, want)
	}
	if len(c.Warnings) != 0 {
		t.Fatalf("warnings %v", c.Warnings)
	}
	if _, err := Load(nil, nil, map[string]string{"cfgtest.nope": "1"}); err == nil || !strings.Contains(err.Error(), "cfgtest.nope") {
		t.Fatalf("unknown --set: %v", err)
	}
}

// TestBoolUnset: a boolean without a default stays unset until given.
func TestBoolUnset(t *testing.T) {
	c, err := Load(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.BoolOr("cfgtest", "flag", true) || c.BoolOr("cfgtest", "flag", false) {
		t.Fatal("unset boolean is not the caller's default")
	}
	c, _ = Load(nil, nil, map[string]string{"cfgtest.flag": "false"})
	if c.BoolOr("cfgtest", "flag", true) {
		t.Fatal("explicit false ignored")
	}
	if _, err := Load([]string{write(t, "[DEFAULT]\ndebug =\n")}, nil, nil); err == nil {
		t.Fatal("an empty value for a boolean with a default was accepted")
	}
}

// TestUnimplementedValues: values of a declared list option that nothing
// implements are named.
func TestUnimplementedValues(t *testing.T) {
	c, err := Load(nil, nil, map[string]string{"cfgtest.drivers": "a,qos,b,z"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.UnimplementedValues(), "|")
	if !strings.Contains(got, "[cfgtest] drivers = qos, z") {
		t.Fatalf("UnimplementedValues: %q", got)
	}
}
