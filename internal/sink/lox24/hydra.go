package lox24

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"groupsync/internal/sink"
)

// collection is a Hydra collection page.
type collection[T any] struct {
	Member     *[]T `json:"hydra:member"`
	TotalItems *int `json:"hydra:totalItems"`
	View       struct {
		Next string `json:"hydra:next"`
	} `json:"hydra:view"`
}

// readAll reads every page of a Hydra collection at path. The first page is
// read alone; when it gives hydra:totalItems and a hydra:next, the other
// pages are known (page=2..N, the page size being the first page's) and are
// read side by side, within the client's pace and in-flight limit. Without
// hydra:totalItems it follows hydra:next page by page. Either way the pages
// must add up to hydra:totalItems, and every page but the last be full.
func readAll[T any](ctx context.Context, api *sink.Client, what, path string) ([]T, error) {
	first, err := readPage[T](ctx, api, what, path, url.Values{"page": {"1"}})
	if err != nil {
		return nil, err
	}
	if first.View.Next == "" {
		return checkTotal(what, *first.Member, first.TotalItems)
	}
	size := len(*first.Member)
	if first.TotalItems == nil || size == 0 {
		return followNext(ctx, api, what, path, first)
	}
	total := *first.TotalItems
	pages := (total + size - 1) / size
	if next, err := url.Parse(first.View.Next); err != nil || next.Path != path || next.Query().Get("page") != "2" {
		return followNext(ctx, api, what, path, first) // not the page=N scheme: do as it says
	}
	results := make([][]T, pages)
	results[0] = *first.Member
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(8) // goroutines; the client bounds requests in flight
	for n := 2; n <= pages; n++ {
		eg.Go(func() error {
			col, err := readPage[T](ctx, api, what, path, url.Values{"page": {strconv.Itoa(n)}})
			if err != nil {
				return err
			}
			if n < pages && len(*col.Member) != size {
				return fmt.Errorf("lox24: get %s page %d: %d items on a page of %d (did they change while reading?)", what, n, len(*col.Member), size)
			}
			results[n-1] = *col.Member
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	out := make([]T, 0, total)
	for _, r := range results {
		out = append(out, r...)
	}
	return checkTotal(what, out, first.TotalItems)
}

// followNext reads the pages after first one by one, as hydra:next says.
func followNext[T any](ctx context.Context, api *sink.Client, what, path string, first collection[T]) ([]T, error) {
	out := *first.Member
	col := first
	seen := map[string]bool{"page=1": true}
	for col.View.Next != "" {
		op := fmt.Sprintf("get %s: hydra:next %q", what, col.View.Next)
		next, err := url.Parse(col.View.Next)
		if err != nil {
			return nil, fmt.Errorf("lox24: %s: %w", op, err)
		}
		if next.Host != "" || next.Path != path {
			return nil, fmt.Errorf("lox24: %s leaves %s", op, path)
		}
		query := next.Query()
		if seen[query.Encode()] {
			return nil, fmt.Errorf("lox24: %s points back to a page already read", op)
		}
		seen[query.Encode()] = true
		if col, err = readPage[T](ctx, api, what, path, query); err != nil {
			return nil, err
		}
		out = append(out, *col.Member...)
	}
	return checkTotal(what, out, first.TotalItems)
}

// readPage reads one page of a Hydra collection.
func readPage[T any](ctx context.Context, api *sink.Client, what, path string, query url.Values) (collection[T], error) {
	var col collection[T]
	op := fmt.Sprintf("get %s page %s", what, query.Get("page"))
	resp, err := api.Do(ctx, sink.Request{Op: op, Method: http.MethodGet, Path: path, Query: query})
	if err != nil {
		return col, err
	}
	if body := strings.TrimSpace(string(resp.Body)); strings.HasPrefix(body, "[") {
		return col, fmt.Errorf("lox24: %s: the API answered a plain JSON array, which carries no paging; cannot tell whether more pages exist", op)
	}
	if err := sink.DecodeJSON("lox24: "+op, resp.Body, &col); err != nil {
		return col, err
	}
	if col.Member == nil {
		return col, fmt.Errorf("lox24: %s: response has no hydra:member", op)
	}
	return col, nil
}

// checkTotal checks the items read against hydra:totalItems, when given.
func checkTotal[T any](what string, out []T, total *int) ([]T, error) {
	if total != nil && *total != len(out) {
		return nil, fmt.Errorf("lox24: %s: read %d items but hydra:totalItems is %d (did they change while reading?)", what, len(out), *total)
	}
	return out, nil
}
