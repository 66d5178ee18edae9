// Package sink holds the HTTP plumbing the API clients share: base URL
// checks, rate limiting, status-to-error mapping, capped body reads and the
// rule that a system answering 401/403 gets no further request.
//
// The clients themselves live in sink/lox24 and sink/helloid; they turn plan
// types into requests and know nothing of files.
package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"groupsync/internal/plan"
)

// Config is what every client needs to reach its API.
type Config struct {
	// BaseURL is the API's root. It must be https://, except for loopback
	// hosts (the emulator).
	BaseURL string
	// Rate is the number of requests per second (burst 1); 0 means 10.
	Rate float64
	// Timeout bounds every request (default 30s).
	Timeout time.Duration
	// MaxBody caps how much of a response body is read (default 16 MiB).
	MaxBody int64
	// Transport, when set, replaces http.DefaultTransport (tests).
	Transport http.RoundTripper
	// Retry says what is retried and how long to wait between attempts.
	Retry RetryPolicy
	// Clock, when set, replaces the real clock for retry waits (tests).
	Clock Clock
	// MaxInFlight bounds the requests in flight at once, reads and writes
	// together (default 4). The client's own transport keeps as many idle
	// connections, so that a long read reuses them instead of opening new
	// ones.
	MaxInFlight int
	// MaxReadItems bounds each listing: the items read and the total it
	// claims (default DefaultMaxReadItems).
	MaxReadItems int
	// OnEvent, when set, is told of every retry and every 429 (from several
	// goroutines at once); the client itself prints nothing.
	OnEvent func(Event)
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	// EventRetry: a failed attempt is followed by another after Wait.
	EventRetry EventKind = "retry"
	// EventThrottled: the server answered 429; Pace is the system's pace
	// after it (cut, or left alone when the cut for the same burst of 429s
	// has been made).
	EventThrottled EventKind = "throttled"
)

// Event is a retry or a throttling answer, for the run's log.
type Event struct {
	Kind    EventKind
	System  plan.System
	Op      string        // the item, e.g. "put group 12344"
	Attempt int           // the attempt that failed, from 1
	Reason  string        // the failure, e.g. "HTTP 503 Service Unavailable"
	Wait    time.Duration // before the next attempt (EventRetry)
	Pace    float64       // requests per second after the event
}

// Client sends requests to one API: one limiter, one http.Client that never
// follows redirects, and a latch that stops all requests after a 401/403.
type Client struct {
	system   plan.System
	base     *url.URL
	http     *http.Client
	pacer    *pacer
	inFlight chan struct{} // a slot per request in flight
	retry    RetryPolicy
	clock    Clock
	// testBeforeSlot, when a test sets it, runs when a request starts to
	// wait for its slot.
	testBeforeSlot func()
	maxBody        int64
	auth           func(*http.Request)
	reqIDName      string
	message        func(body []byte) string
	secrets        []string // never shown: replaced in what the API says
	redactor       *Redactor
	onEvent        func(Event)
	maxInFl        int

	maxReadItems int

	mu      sync.Mutex
	stopErr error // set after a 401/403: no further request
}

// Options are a client's API-specific parts.
type Options struct {
	// Auth adds the credentials to a request.
	Auth func(*http.Request)
	// RequestIDHeader names the response header carrying the API's request id.
	RequestIDHeader string
	// Message extracts the API's own error text from an error body.
	Message func(body []byte) string
	// Secrets are the credentials the client sends, in every form it sends
	// them (a Basic auth header's base64 too). An API that echoes one in an
	// error message or a Location has it replaced by "xxxxx", so it does not
	// reach the report, the logs or the terminal.
	Secrets []string
}

// NewClient checks cfg and returns a client for system.
func NewClient(system plan.System, cfg Config, opt Options) (*Client, error) {
	base, err := CheckBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", system, err)
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 10
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 16 << 20
	}
	if opt.Message == nil {
		opt.Message = func([]byte) string { return "" }
	}
	cfg.Retry.defaults()
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 4
	}
	tr := cfg.Transport
	if tr == nil {
		tr = newTransport(cfg.MaxInFlight)
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.MaxReadItems <= 0 {
		cfg.MaxReadItems = DefaultMaxReadItems
	}
	return &Client{
		system: system,
		base:   base,
		http: &http.Client{
			Transport: tr,
			Timeout:   cfg.Timeout,
			// Never follow a redirect: Go would forward custom headers such
			// as X-LOX24-AUTH-TOKEN to wherever it points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		pacer:     newPacer(cfg.Rate),
		inFlight:  make(chan struct{}, cfg.MaxInFlight),
		retry:     cfg.Retry,
		clock:     cfg.Clock,
		maxBody:   cfg.MaxBody,
		auth:      opt.Auth,
		reqIDName: opt.RequestIDHeader,
		message:   opt.Message,
		secrets:   nonEmpty(opt.Secrets),
		redactor:  NewRedactor(opt.Secrets...),
		onEvent:   cfg.OnEvent,
		maxInFl:   cfg.MaxInFlight,

		maxReadItems: cfg.MaxReadItems,
	}, nil
}

// newTransport returns a client's own transport: Go's defaults, but keeping
// an idle connection for every request that may be in flight (the default
// keeps 2 per host, so that 4 workers open a new connection, over HTTPS a
// new TLS handshake, for about every sixth request).
func newTransport(inFlight int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = inFlight + 2
	t.MaxIdleConns = max(t.MaxIdleConns, inFlight+2)
	// Nor more connections than that, dialling included: a connection the
	// server closed while a request was being dialled elsewhere is replaced,
	// never added to.
	t.MaxConnsPerHost = inFlight + 2
	// A page of a listing (30 LOX24 members are about 8 KB) is read in one
	// system call, headers and body, where Go's 4 KB took two or three.
	t.ReadBufferSize = 64 << 10
	return t
}

// MaxInFlight is the most requests the client has in flight at once.
func (c *Client) MaxInFlight() int { return c.maxInFl }

func (c *Client) event(e Event) {
	if c.onEvent != nil {
		e.System = c.system
		c.onEvent(e)
	}
}

// Request is one API call.
type Request struct {
	Op     string // for errors: "get groups page 2"
	Method string
	Path   string     // relative to the base URL, e.g. "/groups"
	Query  url.Values // optional
	Header http.Header
	Body   any // encoded as JSON when non-nil
	// BeforeRetry makes a create (POST) retryable after an answer that
	// leaves it unknown whether the server acted on it (a 5xx, a lost
	// connection). It re-reads the remote state and returns the body to
	// send again, or nil when nothing is left to send (the create happened
	// after all). Without it such a POST is not retried; a 429 is always
	// retried, since the server did not act on the request.
	BeforeRetry func(ctx context.Context) (body any, err error)
	// Decode, when set, is given the body of a 2xx answer instead of
	// Response.Body, in a buffer the client reuses for later requests: it
	// must not keep body. An error from it fails the call (no retry).
	Decode func(body []byte) error
}

// Response is what came back for a call. Do returns it whenever a request
// was sent, also with an error, so that the report can say how it went.
type Response struct {
	StatusCode int // of the last response; 0 if none came
	RequestID  string
	Attempts   int
	Duration   time.Duration
	Body       []byte
	// MaybeApplied says that a write's request may have been carried out
	// though no success came back for it: an attempt got a 5xx or no
	// answer (a lost connection, a timeout) after it may have reached the
	// server, and no later check showed it was not.
	MaybeApplied bool
}

// Do sends req. A 2xx answer is a success; any other status is a
// *StatusError carrying the API's message. The Response is non-nil whenever
// a request was sent.
//
// Transient failures (429, 5xx other than 501, no answer) are retried up to
// the policy's attempts, with capped, jittered exponential backoff or the
// server's Retry-After when longer (capped). GET, PUT and DELETE are
// retried as they are; a POST only after a 429, or after BeforeRetry has
// re-read the state. A 429 also slows the system's pace and holds its other
// requests back. After a 401/403 the client sends nothing more: every later
// call fails at once. Once the run is asked to stop, no retry starts.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	op := string(c.system) + ": " + req.Op
	resp := &Response{}
	start := time.Now()
	defer func() { resp.Duration = time.Since(start) }()
	// A write of Apply's that gets a 429 goes back to Apply's queue rather
	// than waiting here; its attempts count on from those sent before.
	sentBefore, requeue := plan.Requeue(ctx)
	requeue = requeue && req.Method != http.MethodGet
	for attempt := sentBefore + 1; ; attempt++ {
		if err := c.stopped(); err != nil {
			return nilIfUnsent(resp), fmt.Errorf("%s: not sent: %w", op, err)
		}
		var body []byte
		if req.Body != nil {
			var err error
			if body, err = json.Marshal(req.Body); err != nil {
				return nilIfUnsent(resp), fmt.Errorf("%s: encode body: %w", op, err)
			}
		}
		if plan.StopRequested(ctx) {
			return nilIfUnsent(resp), fmt.Errorf("%s: not sent: %w", op, errInterrupted)
		}
		// The slot first, then the permit: a request that waits for a slot
		// holds no permit, so that more callers than slots (a read's pages
		// and several groups' members at once) never send a burst of
		// permits taken while they waited, and a cut spaces the next one.
		if c.testBeforeSlot != nil {
			c.testBeforeSlot()
		}
		select {
		case c.inFlight <- struct{}{}:
		case <-ctx.Done():
			return nilIfUnsent(resp), fmt.Errorf("%s: not sent: %w", op, ctx.Err())
		}
		if err := c.pacer.wait(ctx, c.clock); err != nil {
			<-c.inFlight
			return nilIfUnsent(resp), fmt.Errorf("%s: not sent: %w", op, err)
		}
		if plan.StopRequested(ctx) {
			<-c.inFlight
			return nilIfUnsent(resp), fmt.Errorf("%s: not sent: %w", op, errInterrupted)
		}
		// Checked again at the last moment: a 401 may have come back for
		// another request while this one waited for its turn, and every
		// further bad-credential request counts towards LOX24's lockout.
		if err := c.stopped(); err != nil {
			<-c.inFlight
			return nilIfUnsent(resp), fmt.Errorf("%s: not sent: %w", op, err)
		}
		// A select with a free slot and an ended ctx may take the slot; a
		// request on an ended ctx would not leave, so it is no attempt.
		if err := ctx.Err(); err != nil {
			<-c.inFlight
			return nilIfUnsent(resp), fmt.Errorf("%s: not sent: %w", op, err)
		}
		resp.Attempts = attempt
		resp.StatusCode, resp.RequestID, resp.Body = 0, "", nil
		sent := c.clock.Now()
		err := c.send(ctx, op, req, body, resp)
		<-c.inFlight
		if err == nil {
			return resp, nil
		}
		if errors.As(err, new(decodeError)) {
			return resp, err
		}
		if req.Method != http.MethodGet && mayHaveActed(err) {
			resp.MaybeApplied = true
		}
		if req.Method == http.MethodDelete && attempt > 1 && resp.StatusCode == http.StatusNotFound {
			// An earlier attempt was carried out but its answer was lost:
			// what was to be deleted is gone, which is what was asked.
			return resp, nil
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			// Every 429 slows the pace, the last attempt's too: the other
			// requests of the run still go to that server.
			c.pacer.throttled(sent, c.clock.Now())
		}
		retry, sure := transient(ctx, err)
		if !retry || attempt >= c.retry.MaxAttempts || plan.StopRequested(ctx) {
			return resp, err
		}
		wait := c.retry.wait(attempt, err, c.pacer.random())
		if resp.StatusCode == http.StatusTooManyRequests {
			c.event(Event{Kind: EventThrottled, Op: req.Op, Attempt: attempt, Reason: reason(err), Pace: c.pace()})
			if requeue {
				c.event(Event{Kind: EventRetry, Op: req.Op, Attempt: attempt, Reason: reason(err), Wait: wait, Pace: c.pace()})
				return resp, &plan.ThrottledError{After: max(wait, time.Nanosecond), Err: err}
			}
		}
		idempotent := req.Method == http.MethodGet || req.Method == http.MethodPut || req.Method == http.MethodDelete
		if !idempotent && !sure && req.BeforeRetry == nil {
			return resp, err
		}
		c.event(Event{Kind: EventRetry, Op: req.Op, Attempt: attempt, Reason: reason(err), Wait: wait, Pace: c.pace()})
		if serr := c.clock.Sleep(ctx, wait); serr != nil {
			return resp, fmt.Errorf("not retried (%v): %w", serr, err) //nolint:errorlint // err is what callers branch on; serr only says why
		}
		if !idempotent && !sure {
			next, rerr := req.BeforeRetry(ctx)
			if rerr != nil {
				return resp, fmt.Errorf("checking whether it happened anyway failed (%v) after: %w", rerr, err) //nolint:errorlint // err is what callers branch on; rerr only says why
			}
			if next == nil {
				return resp, nil // it happened after all
			}
			// The check found it not done: what may have been applied was not.
			resp.MaybeApplied = false
			req.Body = next
		}
	}
}

// nilIfUnsent returns resp when a request was sent, nil otherwise.
func nilIfUnsent(resp *Response) *Response {
	if resp.Attempts == 0 {
		return nil
	}
	return resp
}

// pace returns the system's current pace in requests per second (lower than
// configured after 429s, until it recovers).
func (c *Client) pace() float64 { return c.pacer.limit() }

func (c *Client) send(ctx context.Context, op string, req Request, body []byte, resp *Response) error {
	u := c.requestURL(req.Path, req.Query)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("User-Agent", "groupsync")
	if c.auth != nil {
		c.auth(hr)
	}
	res, err := c.http.Do(hr)
	if err != nil {
		return fmt.Errorf("%s: %w", op, scrubURLError(err))
	}
	defer res.Body.Close()
	resp.StatusCode = res.StatusCode
	if c.reqIDName != "" {
		resp.RequestID = res.Header.Get(c.reqIDName)
	}
	ok := res.StatusCode >= 200 && res.StatusCode < 300
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer putBodyBuffer(buf)
	buf.Reset()
	if res.ContentLength > 0 && res.ContentLength <= c.maxBody {
		buf.Grow(int(res.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(res.Body, c.maxBody+1)); err != nil {
		return fmt.Errorf("%s: read response: %w", op, err)
	}
	if int64(buf.Len()) > c.maxBody {
		return fmt.Errorf("%s: over the cap of %d bytes: %w", op, c.maxBody, errBodyTooLarge)
	}
	if ok && req.Decode != nil {
		if err := req.Decode(buf.Bytes()); err != nil {
			return decodeError{err}
		}
		return nil
	}
	data := bytes.Clone(buf.Bytes())
	if data == nil {
		data = []byte{}
	}
	if ok {
		resp.Body = data
		return nil
	}
	se := &StatusError{
		Op: op, StatusCode: res.StatusCode, RequestID: resp.RequestID,
		Message:    trimMessage(c.hide(c.message(data))),
		RetryAfter: parseRetryAfter(res.Header.Get("Retry-After"), c.clock.Now()),
	}
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		if loc, err := res.Location(); err == nil {
			se.Location = c.hide(RedactURL(loc.String()))
		}
	}
	if se.Is(ErrUnauthorized) {
		c.stop(se)
	}
	return se
}

// requestURL is the URL of a request to path (relative to the base URL)
// with query. A path of plain segments under a plain base path, as every
// request of a listing's pages has, is appended as it is; any other is
// joined and cleaned by url.JoinPath. Both give the same URL.
func (c *Client) requestURL(path string, query url.Values) *url.URL {
	var u *url.URL
	if (c.base.Path == "" || plainPath(c.base.Path)) && c.base.RawPath == "" && plainPath(path) {
		v := *c.base
		v.Path = strings.TrimSuffix(c.base.Path, "/") + path
		u = &v
	} else {
		u = c.base.JoinPath(path)
	}
	if query != nil {
		u.RawQuery = query.Encode()
	}
	return u
}

// bodyBuffers are the buffers response bodies are read into.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBodyBuffer returns buf to the pool unless it grew unusually large.
func putBodyBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 1<<20 {
		bodyBuffers.Put(buf)
	}
}

// decodeError is a failure of Request.Decode: the answer came, but is not
// what was expected, and asking again would not change it.
type decodeError struct{ err error }

func (e decodeError) Error() string { return e.err.Error() }
func (e decodeError) Unwrap() error { return e.err }

// reason is err's text without the operation it names.
func reason(err error) string {
	var se *StatusError
	if errors.As(err, &se) {
		s := fmt.Sprintf("HTTP %d", se.StatusCode)
		if t := http.StatusText(se.StatusCode); t != "" {
			s += " " + t
		}
		return s
	}
	return err.Error()
}

func (c *Client) stopped() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopErr
}

func (c *Client) stop(err *StatusError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopErr == nil {
		c.stopErr = fmt.Errorf("an earlier request was refused with HTTP %d: %w", err.StatusCode, plan.ErrStop)
	}
}

// OutcomeOf turns the result of one write into the item's outcome for the
// report.
func OutcomeOf(resp *Response, err error) plan.Outcome {
	o := plan.Outcome{Status: plan.Succeeded, Err: err}
	if err != nil {
		o.Status = plan.Failed
	}
	if resp != nil {
		o.HTTPStatus, o.RequestID, o.Attempts, o.Duration = resp.StatusCode, resp.RequestID, resp.Attempts, resp.Duration
		o.Uncertain = err != nil && resp.MaybeApplied
	}
	return o
}
