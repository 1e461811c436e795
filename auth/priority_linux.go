package auth

import "syscall"

// lowerThreadPriority gives the calling OS thread the lowest priority (nice 19). On Linux,
// setpriority with a thread ID applies to that thread alone.
func lowerThreadPriority() {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19)
}
