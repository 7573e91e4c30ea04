package lowprio

import "syscall"

// setThreadNice sets the nice value of the calling thread to n unless it
// is at n or above: on Linux a nice value belongs to a thread, which
// setpriority names by its id. The raw getpriority returns 20 - nice.
func setThreadNice(n int) error {
	tid := syscall.Gettid()
	cur, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		return err
	}
	if 20-cur >= n {
		return nil
	}
	return syscall.Setpriority(syscall.PRIO_PROCESS, tid, n)
}
