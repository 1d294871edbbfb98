// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * init.c - opening the heap: options, environment, device handshake, mmap,
 * and closing it again.
 *
 * kgc_init() runs the protocol of uapi/linux/kgc.h:
 *   1. open /dev/kgc O_RDWR | O_CLOEXEC (one heap per process: EBUSY);
 *   2. KGC_IOC_API with our API version and the features we need (heap,
 *      pointer bitmap, statistics, the collector); check the page size,
 *      the number of size classes (the table is shared) and the ioctls the
 *      kernel has;
 *   3. mmap the heap (a multiple of the 64 MiB arena, at most what the
 *      kernel allows) at api.heap_offset, which starts the kernel's marker
 *      thread, then the pointer bitmap (1/64 of it) at api.bitmap_offset;
 *   4. mmap the control area (KGC_CTL_SIZE bytes at api.ctl_offset,
 *      MAP_SHARED | MAP_FIXED) over the library's object of that size,
 *      kgc_write_barrier_enabled (ctlarea.c): from now on the kernel turns
 *      the write barrier on and off;
 *   5. hand GOGC, the memory limit and the debug switches to the collector
 *      (KGC_IOC_GC), install the safepoint signal handler, and register
 *      the data and bss of the loaded objects as roots (roots.c).
 * Each step that fails unwinds the ones before through one label ladder
 * and leaves a sentence in kgc_last_error().
 *
 * Options come from struct kgc_options (libbpf style: @sz versioned, zero
 * means "not set"), then from the environment (KGC_GOGC, KGC_MEMLIMIT,
 * KGC_HEAP_RESERVE, KGC_DEBUG), then from the defaults: explicit options
 * win, as in Go where debug.SetGCPercent() overrides GOGC. Debug flags add
 * up instead. A malformed environment variable fails kgc_init() rather than
 * being ignored: a typo in a GC knob should be seen, not guessed around.
 *
 * fork(): the kernel does not copy the heap mapping into children
 * (VM_DONTCOPY) and refuses the fd to any other mm (EPERM). A child starts
 * without a heap (KGC_HEAP_FORKED) and may kgc_init() its own. The control
 * area is not copied either: the child handler puts zero pages there, so
 * kgc_write_barrier_enabled reads 0 and nothing faults (kgc_shutdown()
 * does the same).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "profile.h"

static int sys_open(const char *path, int flags)
{
	return open(path, flags);
}

static int sys_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg);
}

const struct kgc_sys kgc_sys_default = {
	.open = sys_open,
	.close = close,
	.ioctl = sys_ioctl,
	.mmap = mmap,
	.munmap = munmap,
};

struct kgc_heap kgc_heap = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.state = KGC_HEAP_UNINIT,
	.fd = -1,
	.sys = &kgc_sys_default,
};

/* The ioctls this library uses: the kernel must have every one. */
#define KGC_IOCTLS_NEEDED						\
	((1ULL << KGC_IOC_NR_API) | (1ULL << KGC_IOC_NR_REFILL) |	\
	 (1ULL << KGC_IOC_NR_LARGE_ALLOC) | (1ULL << KGC_IOC_NR_FREE) |	\
	 (1ULL << KGC_IOC_NR_STATS) |					\
	 (1ULL << KGC_IOC_NR_THREAD_ATTACH) |				\
	 (1ULL << KGC_IOC_NR_THREAD_DETACH) |				\
	 (1ULL << KGC_IOC_NR_SAFEPOINT) | (1ULL << KGC_IOC_NR_ROOTS) |	\
	 (1ULL << KGC_IOC_NR_GC) | (1ULL << KGC_IOC_NR_GC_STATS))

#define KGC_FEATURES_NEEDED						\
	(KGC_FEATURE_HEAP | KGC_FEATURE_PTRBITMAP | KGC_FEATURE_STATS |	\
	 KGC_FEATURE_GC)

/* The safepoint signal when none is chosen: Go's choice. */
#define KGC_DEFAULT_SIGNAL	SIGURG

/* ---- environment and options ---- */

/**
 * kgc_parse_gogc() - parse a GOGC value
 * @s: "off", or a decimal percentage from -1 (off) to INT_MAX
 * @out: the value, KGC_GOGC_OFF for off
 *
 * Return: 0, or -EINVAL.
 */
int kgc_parse_gogc(const char *s, int *out)
{
	char *end;
	long v;

	if (!strcmp(s, "off")) {
		*out = KGC_GOGC_OFF;
		return 0;
	}
	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < KGC_GOGC_OFF || v > INT_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/**
 * kgc_parse_bytes() - parse a byte count the way Go parses GOMEMLIMIT
 * @s: decimal digits, then nothing or one of B, KiB, MiB, GiB, TiB
 * @out: bytes
 *
 * Return: 0, -EINVAL for bad syntax, -ERANGE when it does not fit 64 bits.
 */
int kgc_parse_bytes(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} units[] = {
		{ "", 0 }, { "B", 0 }, { "KiB", 10 }, { "MiB", 20 },
		{ "GiB", 30 }, { "TiB", 40 },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (*s < '0' || *s > '9')	/* no sign, no space, not empty */
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		*out = (uint64_t)v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

/**
 * kgc_parse_memlimit() - parse a memory limit
 * @s: "off", or a byte count (kgc_parse_bytes()) up to INT64_MAX
 * @out: bytes, KGC_NO_MEMORY_LIMIT for off
 *
 * Return: 0, -EINVAL or -ERANGE.
 */
int kgc_parse_memlimit(const char *s, int64_t *out)
{
	uint64_t v;
	int err;

	if (!strcmp(s, "off")) {
		*out = KGC_NO_MEMORY_LIMIT;
		return 0;
	}
	err = kgc_parse_bytes(s, &v);
	if (err)
		return err;
	if (v > INT64_MAX)
		return -ERANGE;
	*out = (int64_t)v;
	return 0;
}

/**
 * kgc_parse_debug() - parse a KGC_DEBUG list
 * @s: comma-separated name=value items (value a decimal number, 0 clears,
 *	anything else sets; a bare name sets); empty items are skipped
 * @flags: in: flags so far; out: with the list applied
 *
 * Return: 0, or -EINVAL for an unknown name or a bad value (@flags is then
 * unchanged).
 */
int kgc_parse_debug(const char *s, unsigned int *flags)
{
	static const struct {
		const char *name;
		unsigned int flag;
	} names[] = {
		{ "gctrace", KGC_DEBUG_GCTRACE },
		{ "checkmark", KGC_DEBUG_CHECKMARK },
		{ "poison", KGC_DEBUG_POISON },
		{ "nobarrier", KGC_DEBUG_NOBARRIER },
		{ "noroots", KGC_DEBUG_NOROOTS },
	};
	unsigned int f = *flags;

	while (*s) {
		const char *item = s, *eq, *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		unsigned long val = 1;
		size_t namelen, i;

		s = comma ? comma + 1 : s + len;
		if (!len)
			continue;
		eq = memchr(item, '=', len);
		namelen = eq ? (size_t)(eq - item) : len;
		if (eq) {
			char num[24], *end;
			size_t vlen = len - namelen - 1;

			if (!vlen || vlen >= sizeof(num) || eq[1] < '0' ||
			    eq[1] > '9')
				return -EINVAL;
			memcpy(num, eq + 1, vlen);
			num[vlen] = '\0';
			errno = 0;
			val = strtoul(num, &end, 10);
			if (errno || *end)
				return -EINVAL;
		}
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (strlen(names[i].name) == namelen &&
			    !memcmp(names[i].name, item, namelen))
				break;
		if (i == ARRAY_SIZE(names))
			return -EINVAL;
		if (val)
			f |= names[i].flag;
		else
			f &= ~names[i].flag;
	}
	*flags = f;
	return 0;
}

/* Signals the kernel raises for faults, or that cannot be caught. */
static bool kgc_signal_ok(int signo)
{
	switch (signo) {
	case SIGKILL:
	case SIGSTOP:
	case SIGSEGV:
	case SIGBUS:
	case SIGILL:
	case SIGFPE:
	case SIGTRAP:
	case SIGSYS:
		return false;
	default:
		return signo >= 1 && signo <= 64 && signo < _NSIG;
	}
}

/**
 * kgc_parse_signal() - parse a KGC_SIGNAL value
 * @s: a number, a name with or without "SIG" ("SIGURG", "USR2"), or
 *	"SIGRTMIN+n" / "RTMIN+n" / "SIGRTMAX-n"
 * @signo: the signal
 *
 * Return: 0, or -EINVAL (unknown, or a signal that cannot serve: KILL,
 * STOP, and the fault signals SEGV, BUS, ILL, FPE, TRAP, SYS).
 */
int kgc_parse_signal(const char *s, int *signo)
{
	static const struct {
		const char *name;
		int signo;
	} names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },
		{ "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
		{ "CONT", SIGCONT }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
		{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU },
		{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM },
		{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
		{ "PWR", SIGPWR },
	};
	char *end;
	long v;
	size_t i;

	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || *end || v > 64 || !kgc_signal_ok((int)v))
			return -EINVAL;
		*signo = (int)v;
		return 0;
	}
	if (!strncmp(s, "SIG", 3))
		s += 3;
	if (!strncmp(s, "RTMIN", 5) || !strncmp(s, "RTMAX", 5)) {
		bool max = s[3] == 'A';
		long off = 0;

		s += 5;
		if (*s) {
			if ((max ? *s != '-' : *s != '+') || s[1] < '0' ||
			    s[1] > '9')
				return -EINVAL;
			errno = 0;
			off = strtol(s + 1, &end, 10);
			if (errno || *end || off > 64)
				return -EINVAL;
		}
		v = max ? SIGRTMAX - off : SIGRTMIN + off;
		if (v < SIGRTMIN || v > SIGRTMAX || !kgc_signal_ok((int)v))
			return -EINVAL;
		*signo = (int)v;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i].name)) {
			*signo = names[i].signo;
			return 0;
		}
	return -EINVAL;
}

static const char *kgc_getenv(const struct kgc_config *cfg, const char *name)
{
	if (cfg->flags & KGC_INIT_NOENV)
		return NULL;
	return secure_getenv(name);
}

/**
 * kgc_config_resolve() - options + environment + defaults
 * @opts: the caller's options, or NULL
 * @cfg: filled
 *
 * Return: 0, or -EINVAL / -E2BIG with a message.
 */
int kgc_config_resolve(const struct kgc_options *opts, struct kgc_config *cfg)
{
	struct kgc_options o;
	const char *env, *dev;
	uint64_t bytes;
	int err;

	memset(&o, 0, sizeof(o));
	memset(cfg, 0, sizeof(*cfg));
	if (opts) {
		if (opts->sz < offsetofend(struct kgc_options, sz))
			return kgc_seterr(EINVAL,
				"kgc: kgc_options.sz is %zu: set it to sizeof(struct kgc_options) (see KGC_OPTS())",
				opts->sz);
		if (opts->sz > sizeof(o)) {
			const unsigned char *tail = (const unsigned char *)opts;
			size_t i;

			for (i = sizeof(o); i < opts->sz; i++)
				if (tail[i])
					return kgc_seterr(E2BIG,
						"kgc: kgc_options has fields this libkgc %s does not know (byte %zu of %zu is set)",
						KGC_VERSION_STR, i, opts->sz);
		}
		memcpy(&o, opts, MIN(opts->sz, sizeof(o)));
	}

	if (o.gc_percent < KGC_GOGC_OFF)
		return kgc_seterr(EINVAL,
			"kgc: gc_percent %d: expected a percentage or KGC_GOGC_OFF",
			o.gc_percent);
	if (o.memory_limit < 0)
		return kgc_seterr(EINVAL,
			"kgc: memory_limit %" PRId64 ": expected bytes or KGC_NO_MEMORY_LIMIT",
			o.memory_limit);
	if (o.debug & ~KGC_DEBUG_ALL)
		return kgc_seterr(EINVAL, "kgc: unknown debug flags 0x%x",
				  o.debug & ~KGC_DEBUG_ALL);
	if (o.flags & ~KGC_INIT_FLAGS)
		return kgc_seterr(EINVAL, "kgc: unknown option flags 0x%x",
				  o.flags & ~KGC_INIT_FLAGS);
	dev = o.device ? o.device : KGC_DEFAULT_DEVICE;
	if (!*dev || strlen(dev) >= sizeof(cfg->device))
		return kgc_seterr(EINVAL, "kgc: bad device path \"%.64s\"", dev);
	strcpy(cfg->device, dev);
	cfg->flags = o.flags;
	cfg->gc_percent = o.gc_percent;
	cfg->memory_limit = o.memory_limit;
	cfg->heap_reserve = o.heap_reserve;
	cfg->debug = o.debug;

	env = kgc_getenv(cfg, "KGC_GOGC");
	if (env && kgc_parse_gogc(env, &cfg->gc_percent))
		return kgc_seterr(EINVAL,
			"kgc: KGC_GOGC=\"%.64s\": expected a percentage (0 or more) or \"off\"",
			env);
	if (o.gc_percent)
		cfg->gc_percent = o.gc_percent;
	else if (!env)
		cfg->gc_percent = KGC_DEFAULT_GC_PERCENT;

	env = kgc_getenv(cfg, "KGC_MEMLIMIT");
	if (env) {
		err = kgc_parse_memlimit(env, &cfg->memory_limit);
		if (err)
			return kgc_seterr(EINVAL,
				"kgc: KGC_MEMLIMIT=\"%.64s\": %s", env,
				err == -ERANGE ? "too large (at most 2^63-1 bytes)" :
				"expected bytes with an optional B, KiB, MiB, GiB or TiB suffix, or \"off\"");
	}
	if (o.memory_limit)
		cfg->memory_limit = o.memory_limit;
	else if (!env)
		cfg->memory_limit = KGC_NO_MEMORY_LIMIT;
	cfg->memory_limit_set = o.memory_limit || env;

	env = kgc_getenv(cfg, "KGC_HEAP_RESERVE");
	if (env) {
		err = kgc_parse_bytes(env, &bytes);
		if (err || !bytes || bytes > SIZE_MAX)
			return kgc_seterr(EINVAL,
				"kgc: KGC_HEAP_RESERVE=\"%.64s\": %s", env,
				err == -ERANGE ? "too large" :
				"expected bytes (more than 0) with an optional B, KiB, MiB, GiB or TiB suffix");
		cfg->heap_reserve = (size_t)bytes;
	}
	if (o.heap_reserve)
		cfg->heap_reserve = o.heap_reserve;
	else if (!env)
		cfg->heap_reserve = KGC_DEFAULT_HEAP_RESERVE;

	env = kgc_getenv(cfg, "KGC_DEBUG");
	if (env && kgc_parse_debug(env, &cfg->debug))
		return kgc_seterr(EINVAL,
			"kgc: KGC_DEBUG=\"%.64s\": expected a comma-separated list of gctrace=N, checkmark=N, poison=N, nobarrier=N, noroots=N",
			env);

	if (o.signal && !kgc_signal_ok(o.signal))
		return kgc_seterr(EINVAL,
			"kgc: signal %d cannot be the safepoint signal (1 to 64, not KILL, STOP or a fault signal)",
			o.signal);
	env = kgc_getenv(cfg, "KGC_SIGNAL");
	cfg->signo = KGC_DEFAULT_SIGNAL;
	if (env && kgc_parse_signal(env, &cfg->signo))
		return kgc_seterr(EINVAL,
			"kgc: KGC_SIGNAL=\"%.64s\": expected a signal number or name (SIGURG, SIGUSR2, SIGRTMIN+3, ...) other than KILL, STOP or a fault signal",
			env);
	if (o.signal)
		cfg->signo = o.signal;
	return 0;
}

/* ---- the heap ---- */

int kgc_err_noheap(const char *what)
{
	switch (__atomic_load_n(&kgc_heap.state, __ATOMIC_ACQUIRE)) {
	case KGC_HEAP_SHUTDOWN:
		return kgc_seterr(EINVAL,
			"kgc: %s: the heap was shut down (kgc_shutdown())", what);
	case KGC_HEAP_FORKED:
		return kgc_seterr(EINVAL,
			"kgc: %s: the heap is not inherited across fork(); call kgc_init() in the child",
			what);
	default:
		return kgc_seterr(EINVAL,
			"kgc: %s: no heap (call kgc_init() first)", what);
	}
}

int kgc_sys_ioctl(struct kgc_thread *t, unsigned long cmd, void *arg)
{
	int ret;

	if (t)
		STAT_INC(t->mcache.stats.syscalls);
	else
		kgc_heap.folded.syscalls++;	/* callers hold kgc_heap.lock */
	do {
		ret = kgc_heap.sys->ioctl(kgc_heap.fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

static const char *open_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return " (is kgc.ko loaded?)";
	case EACCES:
	case EPERM:
		return " (check the permissions of the device)";
	case EBUSY:
		return " (this process already has a kgc heap)";
	default:
		return "";
	}
}

/* Handshake: KGC_IOC_API and checks of the answer. Return 0 or -errno. */
static int kgc_handshake(struct kgc_api *api)
{
	int err;

	memset(api, 0, sizeof(*api));
	api->api = KGC_API;
	api->features = KGC_FEATURES_NEEDED;
	err = kgc_sys_ioctl(NULL, KGC_IOC_API, api);
	if (err == -EINVAL)
		return kgc_seterr(EPROTO,
			"kgc: %s refused API 0x%llx with features 0x%llx: kgc.ko and libkgc %s do not match",
			kgc_heap.cfg.device, (unsigned long long)KGC_API,
			(unsigned long long)KGC_FEATURES_NEEDED, KGC_VERSION_STR);
	if (err)
		return kgc_seterr(-err, "kgc: API handshake on %s failed: %s",
				  kgc_heap.cfg.device, strerror(-err));
	if (api->api != KGC_API ||
	    (api->features & KGC_FEATURES_NEEDED) != KGC_FEATURES_NEEDED)
		return kgc_seterr(EPROTO,
			"kgc: kernel answered API 0x%llx, features 0x%llx; libkgc needs API 0x%llx, features 0x%llx",
			(unsigned long long)api->api,
			(unsigned long long)api->features,
			(unsigned long long)KGC_API,
			(unsigned long long)KGC_FEATURES_NEEDED);
	if ((api->ioctls & KGC_IOCTLS_NEEDED) != KGC_IOCTLS_NEEDED)
		return kgc_seterr(EPROTO,
			"kgc: kernel lacks ioctls (mask 0x%llx, libkgc needs 0x%llx)",
			(unsigned long long)api->ioctls,
			(unsigned long long)KGC_IOCTLS_NEEDED);
	if (api->page_size != KGC_PAGE_SIZE ||
	    api->nr_size_classes != KGC_NR_SIZE_CLASSES)
		return kgc_seterr(EPROTO,
			"kgc: kernel heap has %u-byte pages and %u size classes, libkgc was built for %lu and %u",
			api->page_size, api->nr_size_classes,
			(unsigned long)KGC_PAGE_SIZE, KGC_NR_SIZE_CLASSES);
	if (api->max_heap_size < KGC_ARENA_SIZE)
		return kgc_seterr(ENOMEM,
			"kgc: kernel allows a heap of %llu bytes, less than one %lu MiB arena",
			(unsigned long long)api->max_heap_size,
			KGC_ARENA_SIZE >> 20);
	return 0;
}

/* The heap length: @reserve rounded to arenas, capped at @max. */
static size_t kgc_heap_len(size_t reserve, uint64_t max)
{
	uint64_t len;

	max = ROUND_DOWN(max, (uint64_t)KGC_ARENA_SIZE);
	if (max > SIZE_MAX)
		max = ROUND_DOWN((uint64_t)SIZE_MAX, (uint64_t)KGC_ARENA_SIZE);
	if (reserve >= max)
		return (size_t)max;
	len = ROUND_UP((uint64_t)reserve, (uint64_t)KGC_ARENA_SIZE);
	return (size_t)(len > max ? max : len);
}

/* Unmap the heap and its pointer bitmap, close the device. */
static void kgc_heap_release(void)
{
	kgc_heap.sys->munmap(kgc_heap.bitmap, kgc_heap.bitmap_len);
	kgc_heap.sys->munmap((void *)kgc_heap.arena_start,
			     kgc_heap.arena_end - kgc_heap.arena_start);
	kgc_heap.sys->close(kgc_heap.fd);
	kgc_heap.fd = -1;
	kgc_heap.arena_start = 0;
	kgc_heap.arena_end = 0;
	kgc_heap.bitmap = NULL;
	kgc_heap.bitmap_len = 0;
}

static void kgc_atfork_prepare(void)
{
	pthread_mutex_lock(&kgc_heap.lock);
	kgc_roots_atfork_prepare();
}

static void kgc_atfork_parent(void)
{
	kgc_roots_atfork_parent();
	pthread_mutex_unlock(&kgc_heap.lock);
}

/*
 * The child has no heap: the mapping was not copied and the fd is the
 * parent's. Drop both (munmap of the absent range is harmless), forget the
 * threads (only this one exists; the others' structs are not freed here,
 * which only async-signal-safe code could be trusted to do) and the roots.
 */
static void kgc_atfork_child(void)
{
	if (kgc_heap.state == KGC_HEAP_READY) {
		__atomic_store_n(&kgc_heap.state, KGC_HEAP_FORKED,
				 __ATOMIC_RELEASE);
		kgc_ctl_restore();
		kgc_threads_orphan_all();
		kgc_roots_atfork_child(true);
		kgc_heap_release();
	} else {
		kgc_roots_atfork_child(false);
	}
	pthread_mutex_unlock(&kgc_heap.lock);
}

/**
 * kgc_ctl_restore() - put anonymous zero pages under the control area
 *
 * After kgc_shutdown(), in a fork child (where the device mapping is a
 * hole: VM_DONTCOPY) and when kgc_init() fails after mapping it: the
 * barrier flag reads 0 again and nothing faults. Async-signal-safe.
 */
void kgc_ctl_restore(void)
{
	mmap(kgc_ctl(), KGC_CTL_SIZE, PROT_READ | PROT_WRITE,
	     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* Map the kernel's control area over ours. Return 0 or -errno. */
static int kgc_ctl_map(int fd, const struct kgc_api *api)
{
	void *ctl = kgc_ctl(), *p;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0 || (uintptr_t)ctl % (uintptr_t)page ||
	    KGC_CTL_SIZE % page)
		return kgc_seterr(EPROTO,
			"kgc: the control area at %p is not page aligned (page size %ld): the program's copy of kgc_write_barrier_enabled lost its alignment",
			ctl, page);
	kgc_heap.folded.syscalls++;
	p = kgc_heap.sys->mmap(ctl, KGC_CTL_SIZE, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, fd,
			       (off_t)api->ctl_offset);
	if (p == MAP_FAILED)
		return kgc_seterr(errno,
			"kgc: cannot map the collector's control area: %s",
			strerror(errno));
	if (p != ctl) {
		kgc_ctl_restore();
		return kgc_seterr(EPROTO,
			"kgc: the control area was mapped at %p, not at %p",
			p, ctl);
	}
	return 0;
}

/* Hand one setting to the collector. Return 0 or -errno with a message. */
static int kgc_gc_set(uint32_t op, uint64_t value, const char *what)
{
	struct kgc_gc_ctl c;
	int err;

	memset(&c, 0, sizeof(c));
	c.op = op;
	c.value = value;
	err = kgc_sys_ioctl(NULL, KGC_IOC_GC, &c);
	if (err)
		return kgc_seterr(-err, "kgc: setting %s failed: %s", what,
				  strerror(-err));
	return 0;
}

/* The settings, as the collector takes them. Caller holds kgc_heap.lock. */
int kgc_apply_settings(void)
{
	const struct kgc_config *cfg = &kgc_heap.cfg;
	uint64_t debug = 0;
	int err;

	err = kgc_gc_set(KGC_GC_SET_PERCENT, cfg->gc_percent == KGC_GOGC_OFF ?
			 KGC_GC_OFF : (uint64_t)cfg->gc_percent, "GOGC");
	/* Not set: the kernel's default (the cgroup's memory.max) stays. */
	if (!err && cfg->memory_limit_set)
		err = kgc_gc_set(KGC_GC_SET_LIMIT,
				 cfg->memory_limit == KGC_NO_MEMORY_LIMIT ?
				 KGC_GC_OFF : (uint64_t)cfg->memory_limit,
				 "the memory limit");
	if (cfg->debug & KGC_DEBUG_CHECKMARK)
		debug |= KGC_GCDEBUG_CHECKMARK;
	if (cfg->debug & KGC_DEBUG_POISON)
		debug |= KGC_GCDEBUG_POISON;
	if (cfg->debug & KGC_DEBUG_NOROOTS)
		debug |= KGC_GCDEBUG_NOROOTS;
	if (!err)
		err = kgc_gc_set(KGC_GC_SET_DEBUG, debug, "the debug switches");
	return err;
}

static void kgc_once_setup(void)
{
	pthread_atfork(kgc_atfork_prepare, kgc_atfork_parent,
		       kgc_atfork_child);
}

KGC_EXPORT int kgc_init(const struct kgc_options *opts)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct kgc_config cfg;
	struct kgc_api api;
	void *heap, *bitmap;
	size_t len;
	int fd, err;

	kgc_sizeclass_init();
	pthread_once(&once, kgc_once_setup);

	pthread_mutex_lock(&kgc_heap.lock);
	if (kgc_heap.state == KGC_HEAP_READY) {
		err = kgc_seterr(EBUSY,
			"kgc: kgc_init: already initialised (call kgc_shutdown() first)");
		goto out_unlock;
	}
	err = kgc_config_resolve(opts, &cfg);
	if (err)
		goto out_unlock;
	/* Heap profile: KGC_MEMPROFILERATE, KGC_HEAPPROFILE(_SIGNAL). */
	err = kgc__profile_configure(&cfg);
	if (err)
		goto out_unlock;
	kgc_heap.cfg = cfg;
	memset(&kgc_heap.folded, 0, sizeof(kgc_heap.folded));

	kgc_heap.folded.syscalls++;
	fd = kgc_heap.sys->open(cfg.device, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = kgc_seterr(errno, "kgc: cannot open %s: %s%s",
				 cfg.device, strerror(errno),
				 open_hint(errno));
		goto out_unlock;
	}
	kgc_heap.fd = fd;

	err = kgc_handshake(&api);
	if (err)
		goto err_close;

	len = kgc_heap_len(cfg.heap_reserve, api.max_heap_size);
	kgc_heap.folded.syscalls++;
	heap = kgc_heap.sys->mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_SHARED, fd, (off_t)api.heap_offset);
	if (heap == MAP_FAILED) {
		err = kgc_seterr(errno,
			"kgc: cannot map a %zu MiB heap: %s (try a smaller KGC_HEAP_RESERVE)",
			len >> 20, strerror(errno));
		goto err_close;
	}
	kgc_heap.folded.syscalls++;
	bitmap = kgc_heap.sys->mmap(NULL, len / 64, PROT_READ | PROT_WRITE,
				    MAP_SHARED, fd, (off_t)api.bitmap_offset);
	if (bitmap == MAP_FAILED) {
		err = kgc_seterr(errno,
			"kgc: cannot map the %zu KiB pointer bitmap: %s",
			(len / 64) >> 10, strerror(errno));
		goto err_unmap_heap;
	}

	err = kgc_ctl_map(fd, &api);
	if (err)
		goto err_unmap_bitmap;

	kgc_heap.api = api;
	kgc_heap.arena_start = (uintptr_t)heap;
	kgc_heap.arena_end = (uintptr_t)heap + len;
	kgc_heap.bitmap = bitmap;
	kgc_heap.bitmap_len = len / 64;
	kgc_heap.threads = NULL;
	kgc_heap.nthreads = 0;
	kgc_heap.init_ns = kgc_now_ns();
	kgc_heap.traced = __atomic_load_n(&kgc_ctl()->num_gc, __ATOMIC_RELAXED);
	memset(kgc_heap.term_cycle, 0, sizeof(kgc_heap.term_cycle));

	err = kgc_apply_settings();
	if (err)
		goto err_unmap_ctl;
	err = kgc_install_handler(cfg.signo);
	if (err) {
		err = kgc_seterr(-err,
			"kgc: cannot install the handler of signal %d: %s",
			cfg.signo, strerror(-err));
		goto err_unmap_ctl;
	}
	if (!(cfg.flags & KGC_INIT_NOAUTOROOTS)) {
		err = kgc_roots_auto();
		if (err)
			goto err_unmap_ctl;
	}
	kgc_heap.gen++;
	__atomic_store_n(&kgc_heap.state, KGC_HEAP_READY, __ATOMIC_RELEASE);

	if (cfg.debug & KGC_DEBUG_GCTRACE)
		fprintf(stderr,
			"kgc: heap %zu MiB at %p, pointer bitmap at %p, gc %d%%, memory limit %" PRId64 "%s, signal %d, libkgc %s\n",
			len >> 20, heap, bitmap, cfg.gc_percent,
			cfg.memory_limit,
			cfg.memory_limit_set ? "" : " (or the cgroup's memory.max)",
			cfg.signo, KGC_VERSION_STR);
	pthread_mutex_unlock(&kgc_heap.lock);
	return 0;

err_unmap_ctl:
	kgc_roots_clear();
	kgc_ctl_restore();
	kgc_heap.arena_start = 0;
	kgc_heap.arena_end = 0;
	kgc_heap.bitmap = NULL;
	kgc_heap.bitmap_len = 0;
err_unmap_bitmap:
	kgc_heap.sys->munmap(bitmap, len / 64);
err_unmap_heap:
	kgc_heap.sys->munmap(heap, len);
err_close:
	kgc_heap.sys->close(fd);
	kgc_heap.fd = -1;
out_unlock:
	pthread_mutex_unlock(&kgc_heap.lock);
	return err;
}

KGC_EXPORT void kgc_shutdown(void)
{
	pthread_mutex_lock(&kgc_heap.lock);
	if (kgc_heap.state != KGC_HEAP_READY)
		goto out_unlock;
	if (kgc_heap.cfg.debug & KGC_DEBUG_GCTRACE) {
		struct kgc_counters sum;

		kgc_threads_sum_counters(&sum);
		fprintf(stderr,
			"kgc: shutdown: %" PRIu64 " objects, %" PRIu64 " bytes allocated, %" PRIu64 " refills, %" PRIu64 " syscalls\n",
			sum.alloc_precise + sum.alloc_conservative +
			kgc_counters_noscan(&sum), sum.bytes_allocated,
			sum.refills,
			sum.syscalls);
	}
	/* The marker must not wait for us while the heap goes away. */
	if (kgc_curthread && kgc_curthread->attached &&
	    kgc_curthread->gen == kgc_heap.gen)
		kgc_sys_ioctl(NULL, KGC_IOC_THREAD_DETACH, NULL);
	__atomic_store_n(&kgc_heap.state, KGC_HEAP_SHUTDOWN, __ATOMIC_RELEASE);
	kgc_threads_orphan_all();
	kgc_roots_clear();
	kgc_ctl_restore();
	kgc_heap_release();
out_unlock:
	pthread_mutex_unlock(&kgc_heap.lock);
}

KGC_EXPORT const char *kgc_version(void)
{
	return KGC_VERSION_STR;
}
