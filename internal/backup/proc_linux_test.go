package backup

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// TestChildOutlivesExitingThreads is the restore drill's failure in small:
// while a child started with dieWithParent runs, goroutines locked to
// their threads keep exiting (as bcrypt's do), and the goroutine that
// started the child parks (as restore's does, copying pg_restore into
// psql). The child must not be killed with a thread it did not belong to.
func TestChildOutlivesExitingThreads(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	for range 4 {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				done := make(chan struct{})
				go func() {
					runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
					close(done)
				}()
				<-done
			}
		}()
	}
	for i := range 5 {
		cmd, err := (&pgEngine{}).tool(ctx, "sleep", "0.3")
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer holdThread()()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for range 30 {
				time.Sleep(10 * time.Millisecond) // parks: the thread is free for others
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child %d: %v", i, err)
			}
		}()
	}
}
