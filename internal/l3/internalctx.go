package l3

import "context"

// IsInternal reports whether ctx is one of the router plugin's own writes
// (a floating IP disassociated because its port is deleted), not an API
// request: extensions that read an absent attribute of an update as
// "cleared" (qos-fip) leave such writes alone.
func IsInternal(ctx context.Context) bool { return isInternal(ctx) }
