package sinks

import (
	"errors"
	"sync"
)

// inParallel calls fn(i) for every i below n, at most workers at once,
// and joins their errors. For work that waits on the filesystem more than
// on the CPU (unlinking, fsyncing) on separate files or folders.
func inParallel(n, workers int, fn func(i int) error) error {
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
