package events

import (
	"errors"
	"strings"
	"testing"
)

func TestPriorityThenSubscriptionOrder(t *testing.T) {
	b := NewBus(nil)
	var got []string
	add := func(name string, prio int) {
		b.Subscribe(Port, BeforeCreate, name, prio, func(string, Event, *Payload) error {
			got = append(got, name)
			return nil
		})
	}
	add("c", PriorityNotifier)
	add("a", PriorityDefault)
	add("owner", PriorityOwner)
	add("b", PriorityDefault)
	if err := b.Publish(Port, BeforeCreate, &Payload{}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "owner,a,b,c" {
		t.Fatalf("order %v", got)
	}
}

func TestBeforeErrorStopsPublication(t *testing.T) {
	b := NewBus(nil)
	called := false
	b.Subscribe(Router, BeforeDelete, "veto", 1, func(string, Event, *Payload) error { return errors.New("in use") })
	b.Subscribe(Router, BeforeDelete, "next", 2, func(string, Event, *Payload) error { called = true; return nil })
	if err := b.Publish(Router, BeforeDelete, &Payload{}); err == nil || called {
		t.Fatalf("err %v, next called %v", err, called)
	}
	if !b.Has(Router, BeforeDelete) || b.Has(Router, AfterDelete) {
		t.Fatal("Has")
	}
	var nilBus *Bus
	if nilBus.Has(Port, AfterCreate) || nilBus.Publish(Port, AfterCreate, &Payload{}) != nil {
		t.Fatal("a nil bus has no subscribers")
	}
}

func TestIsAfter(t *testing.T) {
	if !AfterUpdate.IsAfter() || PrecommitUpdate.IsAfter() || BeforeDelete.IsAfter() {
		t.Fatal("IsAfter")
	}
}
