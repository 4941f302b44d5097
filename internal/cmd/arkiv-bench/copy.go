package main

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// copyTree copies the folder src to dst (which must not exist): real
// copies of every regular file, never hard links, so that a benchmark
// that changes the copy cannot touch the original. Two workers copy files.
func copyTree(src, dst string) (files int, err error) {
	if _, err := os.Stat(dst); err == nil {
		return 0, errors.New("copy: " + dst + " exists already")
	}
	jobs := make(chan [2]string, 256)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			var first error
			for j := range jobs {
				if first == nil {
					first = copyFile(j[0], j[1])
				}
			}
			errs <- first
		})
	}
	walkErr := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type().IsRegular():
			files++
			jobs <- [2]string{path, to}
		}
		return nil
	})
	close(jobs)
	wg.Wait()
	close(errs)
	all := []error{walkErr}
	for e := range errs {
		all = append(all, e)
	}
	return files, errors.Join(all...)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
