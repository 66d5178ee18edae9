package sink

import "fmt"

// Recovered returns f made safe to run on a goroutine of its own: a panic
// in it is returned as an internal error instead of ending the process, so
// that the read it belongs to fails, its system fails closed, and the run
// still writes its report.
func Recovered(f func() error) func() error {
	return func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("internal error: %v", v)
			}
		}()
		return f()
	}
}
