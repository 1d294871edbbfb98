// SPDX-License-Identifier: GPL-2.0

// Collector figures for the Go workloads (binarytrees.go, gcbench.go),
// printed in the same "@@ gc" line as the C workloads (gcshim.h).
//
// Pauses: runtime.MemStats.PauseNs, one figure per cycle (the sum of the
// cycle's stop-the-world pauses), kept for the last 256 cycles; poll()
// reads them often enough that none is lost, and counts those that were.

package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

type gcStats struct {
	on        bool
	seen      uint32 // cycles whose pause has been read
	pauseMax  uint64
	lost      uint64
	sincePoll int64
	ms        runtime.MemStats
}

func newGCStats(on bool) *gcStats {
	if !on {
		debug.SetGCPercent(-1)
	} else {
		debug.SetGCPercent(100)
	}
	s := &gcStats{on: on}
	runtime.ReadMemStats(&s.ms)
	s.seen = s.ms.NumGC
	return s
}

// count notes n nodes allocated and polls every 2^20.
func (s *gcStats) count(n int64) {
	s.sincePoll += n
	if s.sincePoll >= 1<<20 {
		s.sincePoll = 0
		s.poll()
	}
}

func (s *gcStats) poll() {
	runtime.ReadMemStats(&s.ms)
	n := s.ms.NumGC
	if n-s.seen > 256 {
		s.lost += uint64(n - s.seen - 256)
		s.seen = n - 256
	}
	for c := s.seen + 1; c <= n; c++ {
		// Cycle c (from 1) is at (c + 255) % 256.
		if p := s.ms.PauseNs[(c+255)%256]; p > s.pauseMax {
			s.pauseMax = p
		}
	}
	s.seen = n
}

func peakRSSKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if strings.HasPrefix(sc.Text(), "VmHWM:") {
			fmt.Sscanf(strings.TrimPrefix(sc.Text(), "VmHWM:"), "%d", &kb)
			return kb
		}
	}
	return 0
}

func (s *gcStats) report(bench, params string, wall time.Duration, check int64) {
	s.poll()
	onoff := "off"
	if s.on {
		onoff = "on"
	}
	fmt.Printf("@@ gc bench=%s impl=go gc=%s %s wall_ms=%.1f peak_rss_kb=%d check=%d "+
		"num_gc=%d pause_max_us=%.1f pause_total_ms=%.2f lost=%d\n",
		bench, onoff, params, float64(wall.Nanoseconds())/1e6, peakRSSKiB(), check,
		s.ms.NumGC, float64(s.pauseMax)/1e3, float64(s.ms.PauseTotalNs)/1e6, s.lost)
}
