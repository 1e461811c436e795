// Package ctxval puts a value into a context in the same allocation as the context that carries
// it: context.WithValue allocates its context, and the value behind the interface, apart. The
// request path adds a handful of values to every request; each costs one allocation this way.
package ctxval

import "context"

// Context is its parent with Val under every key of type K (a package's unexported key type, as
// for context.WithValue): Value returns &Val for it, and asks the parent for any other key.
// Deadline, Done, Err and cancellation are the parent's. Make one with & and fill Val before it is
// shared; Val must then change only as its type allows concurrent use.
type Context[K comparable, V any] struct {
	context.Context
	Val V
}

// Value implements context.Context.
func (c *Context[K, V]) Value(key any) any {
	if _, ok := key.(K); ok {
		return &c.Val
	}
	return c.Context.Value(key)
}
