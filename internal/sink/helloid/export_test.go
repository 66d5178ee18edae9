package helloid

// SetPageSize sets the take of list requests (tests use small pages).
func (c *Client) SetPageSize(n int) {
	if n > 0 {
		c.pageSize = n
	}
}
