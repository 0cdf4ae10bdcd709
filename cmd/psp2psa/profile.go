package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// Profiles of a whole run, for `go tool pprof`: PSP2PSA_CPUPROFILE and
// PSP2PSA_MEMPROFILE name the files. The memory profile is the heap at
// the run's peak (taken again whenever the live heap grew by a tenth), so
// -sample_index=inuse_space shows what the run held at most, and
// alloc_space what it allocated until then. Not flags: a developer's tool,
// not part of the interface.
const (
	cpuProfileEnv = "PSP2PSA_CPUPROFILE"
	memProfileEnv = "PSP2PSA_MEMPROFILE"
)

// startProfiles starts what the environment asks for and returns the
// function that finishes the profiles.
func startProfiles(stderr io.Writer) func() {
	var stops []func()
	if path := os.Getenv(cpuProfileEnv); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "psp2psa: %s: %v\n", cpuProfileEnv, err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv(memProfileEnv); path != "" {
		stops = append(stops, watchHeapPeak(path, stderr))
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// watchHeapPeak writes a heap profile to path each time the live heap
// passes its previous peak by a tenth.
func watchHeapPeak(path string, stderr io.Writer) func() {
	done, stopped := make(chan struct{}), make(chan struct{})
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	go func() {
		defer close(stopped)
		var peak uint64
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			metrics.Read(sample)
			if live := sample[0].Value.Uint64(); live > peak+peak/10 {
				peak = live
				if err := writeHeapProfile(path); err != nil {
					fmt.Fprintf(stderr, "psp2psa: %s: %v\n", memProfileEnv, err)
					return
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
