package sinks

import (
	"errors"
	"sync"
)

// InParallel calls fn(i) for every i below n, at most workers at once,
// and joins their errors: for work on separate files or folders, with
// workers about the cores for CPU work, more for work that waits on the
// filesystem (unlinking, fsyncing).
func InParallel(n, workers int, fn func(i int) error) error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				errs[i] = fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}
