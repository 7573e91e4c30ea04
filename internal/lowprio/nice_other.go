//go:build !linux

package lowprio

import "errors"

// setThreadNice cannot set one thread's priority outside Linux.
func setThreadNice(int) error { return errors.New("lowprio: a thread's priority is set on Linux only") }
