package api

import "github.com/neutrino-os/neutrino/internal/pyfmt"

// PyStr is pyfmt.Str.
//
// Deprecated: use pyfmt.Str (kept for branches written before the move).
func PyStr(v any) string { return pyfmt.Str(v) }

// PyRepr is pyfmt.Repr.
//
// Deprecated: use pyfmt.Repr (kept for branches written before the move).
func PyRepr(v any) string { return pyfmt.Repr(v) }

// PyInt is pyfmt.Int.
//
// Deprecated: use pyfmt.Int (kept for branches written before the move).
func PyInt(v any) (int64, bool) { return pyfmt.Int(v) }
