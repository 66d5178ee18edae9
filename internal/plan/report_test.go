package plan

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFailedReportListsEachJoinedError(t *testing.T) {
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	r := FailedReport(start, start.Add(time.Second),
		errors.Join(errors.New("g.yaml:3:13: name: must not be empty"), errors.New("m.csv:2: phone: missing (required)")),
		fmt.Errorf("lox24: %w", errors.New("no token")))
	assert.Equal(t, []string{
		"g.yaml:3:13: name: must not be empty",
		"m.csv:2: phone: missing (required)",
		"lox24: no token",
	}, r.Errors)
	assert.Empty(t, r.Items)
}
