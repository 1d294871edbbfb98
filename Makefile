# SPDX-License-Identifier: GPL-2.0
#
# kgc top-level build. Kbuild (not this file) is what the kernel build reads.
#
#   make              module (against KDIR), libkgc, selftests
#   make check        every test (host, build checks, KUnit, kselftests in QEMU)
#   make demo         boot the VM with the module and run the example
#   make bench        benchmarks (tables, ratios against peers)
#   make install      module, library, header, pkg-config file, man pages
#
# KDIR defaults to the running kernel's build directory when there is one,
# else to the installed Debian 6.1 headers.

KVER_RUNNING := $(shell uname -r)
KDIR_DEBIAN  := $(firstword $(wildcard /usr/src/linux-headers-6.1.*-amd64))
ifneq ($(wildcard /lib/modules/$(KVER_RUNNING)/build/Makefile),)
KDIR ?= /lib/modules/$(KVER_RUNNING)/build
else
KDIR ?= $(KDIR_DEBIAN)
endif

O_DIR   ?= $(CURDIR)/build
PREFIX  ?= /usr/local
DESTDIR ?=
V       ?= 0

export KDIR O_DIR PREFIX DESTDIR

.PHONY: all module userlib selftests check demo bench install clean deps \
	host-tests uapi-check checkpatch

all: module userlib selftests

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

userlib:
	$(MAKE) -C userlib

selftests: userlib
	$(MAKE) -C selftests

host-tests:
	$(MAKE) -C tests/core check
	$(MAKE) -C userlib check

deps:
	tools/deps.sh

check:
	tools/check.sh

demo:
	tools/demo.sh

bench:
	tools/bench.sh

install:
	tools/install.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C userlib clean
	-$(MAKE) -C selftests clean
	-$(MAKE) -C tests/core clean
	rm -rf $(O_DIR)
