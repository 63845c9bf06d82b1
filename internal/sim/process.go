package sim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is one program of the simulated cluster, started in the background with its output in
// <dir>/logs/<name>.log and its pid in <dir>/run/<name>.pid, so that a later command (a second
// start, or stop) finds it again.
type process struct {
	name string
	dir  string
}

func (p process) pidFile() string { return filepath.Join(p.dir, "run", p.name+".pid") }
func (p process) logFile() string { return filepath.Join(p.dir, "logs", p.name+".log") }

// start runs argv in the background. Detached, it gets its own session, so that it outlives the
// command that started it (make sim) and a Ctrl-C in that terminal; attached, it is killed with
// this process (a test that dies does not leave a cluster behind).
func (p process) start(argv []string, detach bool) error {
	for _, d := range []string{filepath.Dir(p.pidFile()), filepath.Dir(p.logFile())} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	log, err := os.OpenFile(p.logFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = log.Close() }() // the child keeps its own descriptor
	_, _ = fmt.Fprintf(log, "\n--- %s: %s\n", time.Now().Format(time.RFC3339), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = p.dir
	if detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	if err := os.WriteFile(p.pidFile(), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	// Reap it when it exits, so that a dead process does not linger as a zombie that still
	// answers kill(pid, 0).
	go func() { _ = cmd.Wait() }()
	return nil
}

// pid returns the process's pid when it is running (and is still the program that was started:
// pids are reused).
func (p process) pid() (int, bool) {
	data, err := os.ReadFile(p.pidFile())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err == nil {
		// A zombie (state Z) has exited already.
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return 0, false
		}
	}
	argv0 := string(bytes.SplitN(cmdline, []byte{0}, 2)[0])
	if !strings.Contains(filepath.Base(argv0), p.binaryHint()) {
		return 0, false
	}
	return pid, true
}

// binaryHint is the part of the program's file name that identifies it.
func (p process) binaryHint() string {
	if p.name == "controllers" {
		return "" // our own binary: any name (go run builds it under a temporary name)
	}
	return p.name
}

func (p process) running() bool {
	_, ok := p.pid()
	return ok
}

// stop sends SIGTERM, waits up to grace, then SIGKILL.
func (p process) stop(grace time.Duration) error {
	pid, ok := p.pid()
	if !ok {
		_ = os.Remove(p.pidFile())
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !p.running() {
			return os.Remove(p.pidFile())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pid %d): %w", p.name, pid, err)
	}
	for i := 0; i < 50 && p.running(); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	return os.Remove(p.pidFile())
}

// tail returns the last lines of the process's log, for error messages.
func (p process) tail(lines int) string {
	data, err := os.ReadFile(p.logFile())
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
