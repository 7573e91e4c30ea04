package pgserver

import "syscall"

// sysProcAttr returns the process attributes of initdb and postgres: run as
// cred when it is not nil, in a process group of their own, and signalled
// when the thread that started them dies.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Credential: cred,
		// A terminal's Ctrl-C goes to the whole foreground process group. In
		// a group of its own the server is not shut down under a parent that
		// is still draining requests: the parent stops it (Server.Stop).
		Setpgid: true,
		// If the parent dies without calling Stop, SIGINT asks postgres for a
		// fast shutdown: it disconnects clients and checkpoints, so the next
		// start needs no crash recovery. SIGTERM would be a "smart" shutdown
		// that waits for every client (say a psql left open) to leave, and
		// SIGQUIT an immediate one that skips the checkpoint.
		Pdeathsig: syscall.SIGINT,
	}
}
