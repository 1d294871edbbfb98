// SPDX-License-Identifier: GPL-2.0

// binarytrees - the binary-trees workload of binarytrees.c, in Go.
// Built with gcstats.go: go build binarytrees.go gcstats.go
//
// Usage: binarytrees MAXDEPTH on|off   ("off": GOGC=off)

package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

const minDepth = 4

type node struct {
	left, right *node
}

func bottomUp(depth int) *node {
	n := &node{}
	if depth > 0 {
		n.left = bottomUp(depth - 1)
		n.right = bottomUp(depth - 1)
	}
	return n
}

func (n *node) check() int64 {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

func main() {
	if len(os.Args) != 3 || (os.Args[2] != "on" && os.Args[2] != "off") {
		fmt.Fprintln(os.Stderr, "usage: binarytrees MAXDEPTH on|off")
		os.Exit(2)
	}
	max, _ := strconv.Atoi(os.Args[1])
	if max < minDepth+2 {
		max = minDepth + 2
	}
	st := newGCStats(os.Args[2] == "on")

	t0 := time.Now()
	var total int64
	total += bottomUp(max + 1).check()
	st.count(2<<(max+1) - 1)

	longLived := bottomUp(max)
	st.count(2<<max - 1)
	for d := minDepth; d <= max; d += 2 {
		iters := 1 << (max - d + minDepth)
		for i := 0; i < iters; i++ {
			total += bottomUp(d).check()
			st.count(2<<d - 1)
		}
	}
	total += longLived.check()
	st.report("binarytrees", fmt.Sprintf("depth=%d", max), time.Since(t0), total)
}
