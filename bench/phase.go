// SPDX-License-Identifier: GPL-2.0

// phase_go: the phase workload of phase_bench.c in Go (default GOGC, the
// runtime's own scavenger): grow to N MiB of live 1 KiB objects, keep 1/10,
// churn another N MiB, stay idle; prints phase_bench's table row.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

const obj = 1024

func rssMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l[6:])[0], 64)
			return kb / 1024
		}
	}
	return 0
}

var sink []byte

func main() {
	mib := flag.Int("n", 64, "MiB to grow to")
	idle := flag.Int("t", 10, "idle seconds")
	block := flag.Bool("b", false, "keep the first tenth instead of every tenth")
	flag.Parse()
	n := *mib * 1024 * 1024 / obj
	objs := make([][]byte, n)
	base := rssMiB()
	t0 := time.Now()
	var ts, rs []float64
	sample := func() {
		ts = append(ts, time.Since(t0).Seconds())
		rs = append(rs, rssMiB()-base)
	}
	for i := 0; i < n; i++ {
		b := make([]byte, obj)
		for j := range b {
			b[j] = 1
		}
		objs[i] = b
		if i%4096 == 0 {
			sample()
		}
	}
	sample()
	tdrop := time.Since(t0).Seconds()
	for i := 0; i < n; i++ {
		if (*block && i >= n/10) || (!*block && i%10 != 0) {
			objs[i] = nil
		}
	}
	live := float64(n/10) * obj / (1 << 20)
	for i := 0; i < n; i++ {
		b := make([]byte, obj)
		for j := range b {
			b[j] = 1
		}
		sink = b
		if i%4096 == 0 {
			sample()
		}
	}
	sample()
	work := ts[len(ts)-1]
	idleRSS := rs[len(rs)-1]
	for k := 0; k < *idle*10; k++ {
		time.Sleep(100 * time.Millisecond)
		sample()
	}
	fin := rs[len(rs)-1]
	// Read every survivor: this keeps objs (and what it holds) live to
	// the end, as the C version's root does, and checks the contents.
	bad := 0
	for i := 0; i < n; i++ {
		if objs[i] != nil && (objs[i][0] != 1 || objs[i][obj-1] != 1) {
			bad++
		}
	}
	if bad != 0 {
		fmt.Fprintf(os.Stderr, "phase_go: %d survivors corrupted\n", bad)
		os.Exit(1)
	}
	peak, t12, tset := 0.0, -1.0, -1.0
	for k := range rs {
		if rs[k] > peak {
			peak = rs[k]
		}
		if ts[k] >= tdrop && t12 < 0 && rs[k] <= 1.2*live {
			t12 = ts[k] - tdrop
		}
	}
	k := len(rs) - 1
	for ; k >= 0 && ts[k] >= tdrop; k-- {
		if rs[k] > fin*1.1+0.5 {
			break
		}
	}
	if k+1 < len(rs) {
		tset = ts[k+1] - tdrop
	}
	t12s := "never"
	if t12 >= 0 {
		t12s = fmt.Sprintf("%.1f", t12)
	}
	fmt.Printf("%-10s %8.1f %8.1f %9.1f %8.1f %9s %9.1f %8.2f\n", "go", live,
		peak, idleRSS, fin, t12s, tset, work)
	runtime.KeepAlive(objs)
}
