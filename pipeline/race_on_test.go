//go:build race

package pipeline_test

// raceDetector is true when the tests run with -race.
const raceDetector = true
