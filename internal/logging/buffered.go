package logging

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// Buffered gathers log lines in memory and writes them out together: every
// interval, when the buffer is full, and on Flush or Close. An access-log
// line per request written straight to a file costs a write(2) each, about
// 5 % of the CPU of a small request (bench/NOTES.md); batched, a few per
// interval. New flushes at once after every line at WARN or above, so
// errors are never held back; a crash can lose at most the last interval
// of INFO lines.
type Buffered struct {
	mu   sync.Mutex
	buf  *bufio.Writer // its first write error sticks: later writes and flushes return it
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewBuffered returns a Buffered writing to w through a buffer of size
// bytes, flushed at least every interval. Close it to stop its goroutine
// and write what is left.
func NewBuffered(w io.Writer, size int, interval time.Duration) *Buffered {
	b := &Buffered{
		buf:  bufio.NewWriterSize(w, size),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go b.flushEvery(interval)
	return b
}

// Write implements io.Writer. It only copies p into the buffer unless the
// buffer is full.
func (b *Buffered) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Flush writes out what the buffer holds.
func (b *Buffered) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Flush()
}

// Close stops the periodic flush and writes out what is left. It returns
// the first error any write met.
func (b *Buffered) Close() error {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
	})
	return b.Flush()
}

func (b *Buffered) flushEvery(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			_ = b.Flush()
		}
	}
}
