//go:build !linux

package auth

// lowerThreadPriority is a no-op where threads cannot be prioritised one by one.
func lowerThreadPriority() {}
