//go:build unix

package store

import (
	"errors"
	"io"
	"net"
	"syscall"
)

var errUnexpectedRead = errors.New("unexpected read from an idle connection")

// connCheck reports, without blocking, whether the peer has closed an idle connection or sent
// something nobody asked for. It reads one byte non-blockingly: nothing to read means alive. (The
// same check go-sql-driver/mysql makes before reusing a connection.) Connections that are not
// plain sockets, such as TLS ones, are not checked.
func connCheck(conn net.Conn) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var readErr error
	err = raw.Read(func(fd uintptr) bool {
		var buf [1]byte
		n, err := syscall.Read(int(fd), buf[:])
		switch {
		case n == 0 && err == nil:
			readErr = io.EOF
		case n > 0:
			readErr = errUnexpectedRead
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EWOULDBLOCK):
			readErr = nil
		default:
			readErr = err
		}
		return true // done: never wait for readability
	})
	if err != nil {
		return err
	}
	return readErr
}
