// SPDX-License-Identifier: GPL-2.0

// gcbench - the GCBench-shaped workload of gcbench.c, in Go.
// Built with gcstats.go: go build gcbench.go gcstats.go
//
// Usage: gcbench STRETCH LONG MAX ARRAY on|off

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
	i, j        int32
}

func treeSize(depth int) int64 { return 2<<depth - 1 }

func populate(depth int, n *node) {
	if depth <= 0 {
		return
	}
	n.left = &node{}
	n.right = &node{}
	populate(depth-1, n.left)
	populate(depth-1, n.right)
}

func makeTree(depth int) *node {
	n := &node{}
	if depth > 0 {
		n.left = makeTree(depth - 1)
		n.right = makeTree(depth - 1)
	}
	n.i = int32(depth)
	return n
}

func walk(n *node) int64 {
	if n.left == nil {
		return 1
	}
	return 1 + walk(n.left) + walk(n.right)
}

func main() {
	if len(os.Args) != 6 || (os.Args[5] != "on" && os.Args[5] != "off") {
		fmt.Fprintln(os.Stderr, "usage: gcbench STRETCH LONG MAX ARRAY on|off")
		os.Exit(2)
	}
	stretch, _ := strconv.Atoi(os.Args[1])
	longd, _ := strconv.Atoi(os.Args[2])
	max, _ := strconv.Atoi(os.Args[3])
	arrayLen, _ := strconv.Atoi(os.Args[4])
	if stretch < minDepth || longd < 1 || max < minDepth || arrayLen < 1001 {
		fmt.Fprintln(os.Stderr, "gcbench: parameters too small")
		os.Exit(2)
	}
	st := newGCStats(os.Args[5] == "on")
	var nodes, total int64

	t0 := time.Now()
	total += walk(makeTree(stretch))
	nodes += treeSize(stretch)
	st.count(treeSize(stretch))

	longLived := &node{}
	populate(longd, longLived)
	nodes += treeSize(longd)
	st.count(treeSize(longd))
	array := make([]float64, arrayLen)
	for i := 0; i < arrayLen/2; i++ {
		array[i] = 1.0 / float64(i+1)
	}

	var t *node
	for d := minDepth; d <= max; d += 2 {
		iters := 2 * treeSize(stretch) / treeSize(d)
		for i := int64(0); i < iters; i++ {
			t = &node{}
			populate(d, t)
			nodes += treeSize(d)
			st.count(treeSize(d))
		}
		for i := int64(0); i < iters; i++ {
			t = makeTree(d)
			nodes += treeSize(d)
			st.count(treeSize(d))
		}
		total += walk(t)
	}

	if longLived == nil || array[1000] != 1.0/1001.0 {
		fmt.Println("@@ gc bench=gcbench impl=go na=long-lived-data-lost")
		os.Exit(1)
	}
	total += walk(longLived)
	st.report("gcbench", fmt.Sprintf("depths=%d/%d/%d array=%d nodes=%d",
		stretch, longd, max, arrayLen, nodes), time.Since(t0), total)
}
