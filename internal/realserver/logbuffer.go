package realserver

import (
	"sync"
)

// logBuffer is a goroutine-safe writer keeping the last max bytes.
type logBuffer struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	dropped int // bytes discarded from the front
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0:0], b.buf[over:]...)
		b.dropped += over
	}
	return len(p), nil
}

// Len is the total number of bytes ever written.
func (b *logBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped + len(b.buf)
}

// Since returns what was written after the first mark bytes (as far as kept).
func (b *logBuffer) Since(mark int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := mark - b.dropped
	if i < 0 {
		i = 0
	}
	if i > len(b.buf) {
		i = len(b.buf)
	}
	return string(b.buf[i:])
}

func (b *logBuffer) String() string { return b.Since(0) }
