package lox24

// SetBatchSize sets how many phone entries one batch request carries
// (tests use small batches).
func (c *Client) SetBatchSize(n int) {
	if n > 0 {
		c.batchSize = n
	}
}

// SetGoroutineHook makes every goroutine the package starts call h first
// with what it does, until the test ends.
func SetGoroutineHook(t interface{ Cleanup(func()) }, h func(what string)) {
	testGoroutineHook = h
	t.Cleanup(func() { testGoroutineHook = nil })
}
