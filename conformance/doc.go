// Package conformance is neutrino's conformance suite: the scenarios in
// scenarios/ are replayed against an in-process neutrino and its answers
// compared with the answers recorded from the real Neutron in golden/.
// See README.md; the engine is internal/conformance.
//
//	go test ./conformance/                      replay against neutrino
//	go test ./conformance/ -run TestConformance -record -target http://127.0.0.1:19696
//	conformance/record.sh                       (re)start a reference and record
package conformance
