package sink

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"groupsync/internal/plan"
)

func TestOutcomeIsUncertainWhenAWriteMayHaveBeenApplied(t *testing.T) {
	again := func(body any) func(context.Context) (any, error) {
		return func(context.Context) (any, error) { return body, nil }
	}
	checkFails := func(context.Context) (any, error) { return nil, errors.New("get groups: HTTP 503") }
	tests := []struct {
		name        string
		method      string
		answers     []answer
		beforeRetry func(context.Context) (any, error)
		uncertain   bool
	}{
		{"a PUT whose every attempt got a 5xx", "PUT", []answer{{status: 503}, {status: 502}, {status: 503}, {status: 500}, {status: 503}}, nil, true},
		{"a PUT whose answer was lost, then refused", "PUT", []answer{{status: 0}, {status: 400}}, nil, true},
		{"a PUT refused at once", "PUT", []answer{{status: 422}}, nil, false},
		{"a PUT throttled to the end", "PUT", []answer{{status: 429}, {status: 429}, {status: 429}, {status: 429}, {status: 429}}, nil, false},
		{"a PUT answered 501", "PUT", []answer{{status: 501}}, nil, false},
		{"a create whose check after a lost answer failed", "POST", []answer{{status: 0}}, checkFails, true},
		{"a create the check found not done, then refused", "POST", []answer{{status: 502}, {status: 409}}, again(map[string]any{}), false},
		{"a GET that failed", "GET", []answer{{status: 503}, {status: 503}, {status: 503}, {status: 503}, {status: 503}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newTestClient(t, tt.answers...)
			resp, err := c.Do(context.Background(), Request{Op: "op", Method: tt.method, Path: "/x", Body: map[string]any{"a": 1}, BeforeRetry: tt.beforeRetry})
			require.Error(t, err)
			o := OutcomeOf(resp, err)
			assert.Equal(t, plan.Failed, o.Status)
			assert.Equal(t, tt.uncertain, o.Uncertain)
		})
	}
}

func TestARefusedConnectionIsNotUncertain(t *testing.T) {
	c, err := NewClient(plan.LOX24, Config{BaseURL: "http://127.0.0.1:1", Rate: 1e6, Clock: &fakeClock{},
		Retry: RetryPolicy{MaxAttempts: 2}}, Options{})
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), Request{Op: "op", Method: http.MethodPut, Path: "/x", Body: map[string]any{}})
	require.Error(t, err)
	assert.False(t, OutcomeOf(resp, err).Uncertain)
}

func TestASuccessIsNeverUncertain(t *testing.T) {
	c, _, _ := newTestClient(t, answer{status: 0}, answer{status: 200, body: "{}"})
	resp, err := c.Do(context.Background(), Request{Op: "op", Method: http.MethodPut, Path: "/x", Body: map[string]any{}})
	require.NoError(t, err)
	assert.False(t, OutcomeOf(resp, err).Uncertain)
}
