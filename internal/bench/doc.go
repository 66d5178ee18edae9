// Package bench holds groupsync's benchmarks: the readers and Diff at a
// million members, and whole runs against the in-process emulator with
// latency and throttling. Run them with `make bench`; they print figures
// (ratios and medians, since shared machines are noisy) rather than pass or
// fail on timings. The package has no code of its own outside its tests.
package bench
