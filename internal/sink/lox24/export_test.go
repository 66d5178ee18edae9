package lox24

// SetBatchSize sets how many phone entries one batch request carries
// (tests use small batches).
func (c *Client) SetBatchSize(n int) {
	if n > 0 {
		c.batchSize = n
	}
}
