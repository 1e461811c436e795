package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shopql/shopql/store"
)

// database is the fresh database a load test runs on.
type database struct {
	url  string
	drop func() // removes it (a no-op for a SQLite file, removed with the work directory)
}

// newDatabase returns a fresh SQLite file in work, or a fresh PostgreSQL database created through
// o.databaseURL (same server and credentials, a database name of its own).
func newDatabase(ctx context.Context, o options, work string) (*database, error) {
	if o.db == "sqlite" {
		return &database{url: filepath.Join(work, "shop.db"), drop: func() {}}, nil
	}
	if !store.IsPostgresURL(o.databaseURL) {
		return nil, fmt.Errorf("-database-url must be a postgres:// URL")
	}
	admin, err := store.Open(ctx, o.databaseURL, store.Options{MaxOpenConns: 1})
	if err != nil {
		return nil, err
	}
	name := "shopql_loadtest_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(o.databaseURL)
	if err != nil {
		admin.Close()
		return nil, err
	}
	u.Path = "/" + name
	fmt.Fprintf(os.Stderr, "created PostgreSQL database %s\n", name)
	return &database{url: u.String(), drop: func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "drop database %s: %v\n", name, err)
		} else {
			fmt.Fprintf(os.Stderr, "dropped PostgreSQL database %s\n", name)
		}
		admin.Close()
	}}, nil
}

// buildServer compiles the server into work and returns the binary's path.
func buildServer(ctx context.Context, work string) (string, error) {
	bin := filepath.Join(work, "shopql")
	fmt.Fprintln(os.Stderr, "building the server…")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/shopql/shopql")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}

// seedDatabase runs the server's seed subcommand, with its progress bar on stderr.
func seedDatabase(ctx context.Context, bin, dbURL string, products, categories int) error {
	fmt.Fprintf(os.Stderr, "seeding %d products in %d categories…\n", products, categories)
	cmd := exec.CommandContext(ctx, bin, "seed", "-products", strconv.Itoa(products), "-categories", strconv.Itoa(categories))
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// server is a running server process.
type server struct {
	cmd     *exec.Cmd
	url     string // http://127.0.0.1:PORT
	logPath string
	done    chan error
}

// Settings every server in a load test shares: the baseline verifies the same tokens.
const (
	adminEmail    = "admin@example.com"
	adminPassword = "loadtest-admin-password"
)

// startServer starts bin on a free loopback port with the given extra environment and waits until
// /readyz answers.
func startServer(ctx context.Context, bin, work string, env []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(work, fmt.Sprintf("server-%d.log", port))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin)
	// The login throttles would turn scenario b's flood away before it reaches the password hasher,
	// whose concurrency cap is what b measures.
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "LOG_LEVEL=warn",
		"ADMIN_EMAIL="+adminEmail, "ADMIN_PASSWORD="+adminPassword,
		"LOGIN_LIMIT_PER_ACCOUNT=0", "LOGIN_LIMIT_PER_ADDRESS=0")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://127.0.0.1:" + strconv.Itoa(port), logPath: logPath, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (server log: %s)", err, tail(logPath))
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("server exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("server not ready in time")
}

// stop asks the server to shut down gracefully and kills it if it does not within 15 s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// procStats is what /proc tells about a process.
type procStats struct {
	rssKiB, hwmKiB int64 // VmRSS, VmHWM
	threads        int
	fds, sockets   int // open file descriptors, and how many of them are sockets
}

func readProc(pid int) (procStats, error) {
	var st procStats
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for line := range strings.Lines(string(data)) {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch key {
		case "VmRSS":
			st.rssKiB = n
		case "VmHWM":
			st.hwmKiB = n
		case "Threads":
			st.threads = int(n)
		}
	}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return st, err
	}
	st.fds = len(fds)
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && strings.HasPrefix(target, "socket:") {
			st.sockets++
		}
	}
	return st, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tail returns the end of a log file, for error messages.
func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return strings.TrimSpace(string(data))
}
