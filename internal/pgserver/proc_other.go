//go:build unix && !linux

package pgserver

import "syscall"

// sysProcAttr returns the process attributes of initdb and postgres: run as
// cred when it is not nil, in a process group of their own so that a
// terminal's Ctrl-C reaches only the parent, which stops the server. This
// system has no parent-death signal: a parent that dies without calling
// Stop leaves the server running.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
