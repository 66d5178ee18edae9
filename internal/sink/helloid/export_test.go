package helloid

// SetPageSize sets the take of list requests (tests use small pages).
func (c *Client) SetPageSize(n int) {
	if n > 0 {
		c.pageSize = n
	}
}

// SetGoroutineHook makes every goroutine the package starts call h first
// with what it does, until the test ends.
func SetGoroutineHook(t interface{ Cleanup(func()) }, h func(what string)) {
	testGoroutineHook = h
	t.Cleanup(func() { testGoroutineHook = nil })
}
