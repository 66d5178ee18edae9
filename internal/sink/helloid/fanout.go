package helloid

import (
	"context"

	"golang.org/x/sync/errgroup"

	"groupsync/internal/sink"
)

// eachGroup runs read(ctx, i) for every i in [0, n), c.readWorkers at a
// time, each on a goroutine of its own: what is the goroutines' name for
// the test hook ("members", "prune", "export", "reread"). read writes its
// result into slot i of a slice the caller owns, so that results keep the
// order of the caller's groups whatever order the answers come in. The
// first error cancels the reads still to come or in flight and is the one
// returned; a panic in read is an error too (sink.Recovered).
func (c *Client) eachGroup(ctx context.Context, what string, n int, read func(ctx context.Context, i int) error) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(c.readWorkers)
	for i := range n {
		eg.Go(sink.Recovered(func() error {
			goroutineStarted(what)
			if err := ctx.Err(); err != nil {
				return err // an earlier read failed, or the run is stopping
			}
			return read(ctx, i)
		}))
	}
	return eg.Wait()
}

// testGoroutineHook, when a test sets it, runs at the start of every
// goroutine the client starts, with what the goroutine does: a test injects
// a panic there.
var testGoroutineHook func(what string)

func goroutineStarted(what string) {
	if h := testGoroutineHook; h != nil {
		h(what)
	}
}
