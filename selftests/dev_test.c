// SPDX-License-Identifier: GPL-2.0
/*
 * dev_test - /dev/kgc: open, the API handshake, ioctl argument rules.
 *
 * The kselftest harness runs each test in a forked child, so every test
 * gets a process (mm) of its own and may open its own heap.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kgc_test_util.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, KGC_DEV " missing: is kgc.ko loaded?");
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* The handshake answers with the version, features, ioctls and layout. */
TEST_F(dev, handshake)
{
	struct kgc_api api;

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_handshake(self->fd, &api));
	EXPECT_EQ(KGC_API, api.api);
	EXPECT_EQ(KGC_FEATURES_ALL, api.features & KGC_FEATURES_ALL);
	EXPECT_TRUE(api.ioctls & (1ULL << KGC_IOC_NR_API));
	EXPECT_TRUE(api.ioctls & (1ULL << KGC_IOC_NR_REFILL));
	EXPECT_TRUE(api.ioctls & (1ULL << KGC_IOC_NR_LARGE_ALLOC));
	EXPECT_TRUE(api.ioctls & (1ULL << KGC_IOC_NR_FREE));
	EXPECT_TRUE(api.ioctls & (1ULL << KGC_IOC_NR_STATS));
	EXPECT_EQ(KGC_PAGE_SIZE, api.page_size);
	EXPECT_EQ(KGC_NR_SIZE_CLASSES, api.nr_size_classes);
	EXPECT_NE(0, api.max_heap_size);
	EXPECT_EQ(0, api.max_heap_size % KGC_ARENA_SIZE);
	EXPECT_NE(api.heap_offset, api.bitmap_offset);
	EXPECT_EQ(0, api.heap_offset % getpagesize());
	/* Once only. */
	EXPECT_EQ(-EINVAL, kgc_handshake(self->fd, &api));
}

/* A wrong API version is refused and leaves the handshake undone. */
TEST_F(dev, handshake_wrong_api)
{
	struct kgc_api api = { .api = KGC_API + 1 };

	DEV_REQUIRED();
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_API, &api));
	api.api = 0;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_API, &api));
	EXPECT_EQ(0, kgc_handshake(self->fd, &api));
}

/* Unknown feature bits and non-zero reserved fields: EINVAL. */
TEST_F(dev, handshake_unknown_feature_and_reserved)
{
	struct kgc_api api = { .api = KGC_API, .features = 1ULL << 62 };

	DEV_REQUIRED();
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_API, &api));
	memset(&api, 0, sizeof(api));
	api.api = KGC_API;
	api.resv[0] = 1;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_API, &api));
	api.resv[0] = 0;
	api.resv[1] = 1ULL << 40;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_API, &api));
}

/* Unknown commands, other types and wrong directions: ENOTTY. */
TEST_F(dev, unknown_ioctl)
{
	struct kgc_api api;
	uint64_t buf[64] = { 0 };

	DEV_REQUIRED();
	EXPECT_EQ(-ENOTTY, kgc_ioctl(self->fd, _IOWR(KGC_IOC_MAGIC, 0x3f,
						     uint64_t), buf));
	EXPECT_EQ(-ENOTTY, kgc_ioctl(self->fd, _IOWR(KGC_IOC_MAGIC, 0x30,
						     struct kgc_api), buf));
	EXPECT_EQ(-ENOTTY, kgc_ioctl(self->fd, _IOWR('k', KGC_IOC_NR_API,
						     struct kgc_api), buf));
	EXPECT_EQ(-ENOTTY, kgc_ioctl(self->fd, _IOR(KGC_IOC_MAGIC,
						    KGC_IOC_NR_API,
						    struct kgc_api), buf));
	EXPECT_EQ(-ENOTTY, kgc_ioctl(self->fd, _IO(KGC_IOC_MAGIC,
						   KGC_IOC_NR_STATS), buf));
	EXPECT_EQ(-ENOTTY, kgc_ioctl(self->fd, FIONREAD, buf));
	/* Still usable afterwards. */
	EXPECT_EQ(0, kgc_handshake(self->fd, &api));
}

/*
 * Size-versioned structs: shorter than the first version is EINVAL; longer
 * works when the extra bytes are zero and is E2BIG when they are not; output
 * beyond the kernel's struct is zeroed, not left as garbage.
 */
TEST_F(dev, struct_sizes)
{
	struct {
		struct kgc_api api;
		uint64_t extra[3];
	} big;
	struct kgc_api api = { .api = KGC_API };

	DEV_REQUIRED();
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, _IOWR(KGC_IOC_MAGIC,
			KGC_IOC_NR_API, uint64_t), &api));
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
			KGC_IOC_MAGIC, KGC_IOC_NR_API, KGC_API_SIZE_VER0 - 8),
			&api));

	memset(&big, 0, sizeof(big));
	big.api.api = KGC_API;
	big.extra[1] = 7;
	EXPECT_EQ(-E2BIG, kgc_ioctl(self->fd, _IOWR(KGC_IOC_MAGIC,
			KGC_IOC_NR_API, big), &big));

	memset(&big, 0, sizeof(big));
	big.api.api = KGC_API;
	ASSERT_EQ(0, kgc_ioctl(self->fd, _IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_API,
					       big), &big));
	EXPECT_EQ(KGC_PAGE_SIZE, big.api.page_size);
	EXPECT_EQ(0, big.extra[0] | big.extra[1] | big.extra[2]);
}

/* Bad argument pointers: EFAULT, and nothing changes. */
TEST_F(dev, bad_pointer)
{
	struct kgc_api api;

	DEV_REQUIRED();
	EXPECT_EQ(-EFAULT, kgc_ioctl(self->fd, KGC_IOC_API, NULL));
	EXPECT_EQ(-EFAULT, kgc_ioctl(self->fd, KGC_IOC_API, (void *)8));
	EXPECT_EQ(-EFAULT, kgc_ioctl(self->fd, KGC_IOC_API,
				     (void *)-4096L));
	EXPECT_EQ(0, kgc_handshake(self->fd, &api));
}

/* Nothing but the handshake works before the handshake. */
TEST_F(dev, calls_before_handshake)
{
	struct kgc_refill r = { .spanclass = KGC_SPANCLASS(1, 0) };
	struct kgc_stats st;
	void *p;

	DEV_REQUIRED();
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r));
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_STATS, &st));
	p = mmap(NULL, KGC_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

/* A process has one heap: a second open gets EBUSY until the first closes. */
TEST_F(dev, second_open_busy)
{
	int fd2 = open(KGC_DEV, O_RDWR | O_CLOEXEC);

	DEV_REQUIRED();
	EXPECT_EQ(-1, fd2);
	EXPECT_EQ(EBUSY, errno);
	close(self->fd);
	self->fd = -1;
	fd2 = open(KGC_DEV, O_RDWR | O_CLOEXEC);
	EXPECT_LE(0, fd2);
	self->fd = fd2;
}

/*
 * The heap belongs to the mm that opened it: a fork child (which inherits
 * the fd) gets EPERM for every ioctl and mmap, and can open a heap of its
 * own.
 */
TEST_F(dev, fork_child_eperm)
{
	struct kgc_api api;
	pid_t pid;
	int status;

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_handshake(self->fd, &api));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kgc_stats st;
		struct kgc_api a2;
		int fd2;

		if (kgc_ioctl(self->fd, KGC_IOC_STATS, &st) != -EPERM)
			_exit(1);
		if (kgc_handshake(self->fd, &a2) != -EPERM)
			_exit(2);
		if (mmap(NULL, KGC_ARENA_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->fd, api.heap_offset) != MAP_FAILED ||
		    errno != EPERM)
			_exit(3);
		fd2 = open(KGC_DEV, O_RDWR);
		if (fd2 < 0 || kgc_handshake(fd2, &a2))
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

static int send_fd(int sock, int fd)
{
	char buf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'k';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = buf, .msg_controllen = sizeof(buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = buf, .msg_controllen = sizeof(buf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * An fd passed over a unix socket to a process that never had the heap is
 * useless there: EPERM.
 */
TEST_F(dev, fd_passed_over_socket_eperm)
{
	struct kgc_api api;
	int sv[2], status;
	pid_t pid;

	DEV_REQUIRED();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	close(self->fd);
	self->fd = -1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kgc_stats st;
		int fd;

		close(sv[0]);
		fd = recv_fd(sv[1]);
		if (fd < 0)
			_exit(10);
		if (kgc_ioctl(fd, KGC_IOC_STATS, &st) != -EPERM)
			_exit(11);
		if (kgc_ioctl(fd, KGC_IOC_REFILL, &st) != -EPERM)
			_exit(12);
		_exit(0);
	}
	close(sv[1]);
	self->fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kgc_handshake(self->fd, &api));
	ASSERT_EQ(0, send_fd(sv[0], self->fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);
}

/*
 * exec replaces the mm: a heap fd kept across exec (no O_CLOEXEC) no longer
 * works, its old mapping is gone, and the new image may open a heap of its
 * own. The child opens and touches a heap, then re-executes this binary,
 * which does the checks in a constructor (exec_child()).
 */
TEST(exec_drops_heap)
{
	int status;
	pid_t pid;

	if (access(KGC_DEV, F_OK))
		SKIP(return, KGC_DEV " missing");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kgc_api api;
		char fdstr[16];
		char *heap;
		int fd;

		fd = open(KGC_DEV, O_RDWR);
		if (fd < 0 || kgc_handshake(fd, &api))
			_exit(30);
		heap = kgc_map_heap(fd, &api, KGC_ARENA_SIZE);
		if (heap == MAP_FAILED)
			_exit(31);
		memset(heap, 0x5a, 4 * KGC_PAGE_SIZE);
		snprintf(fdstr, sizeof(fdstr), "%d", fd);
		setenv("KGC_EXEC_CHILD_FD", fdstr, 1);
		execl("/proc/self/exe", "dev_test", NULL);
		_exit(32);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

__attribute__((constructor)) static void exec_child(void)
{
	const char *s = getenv("KGC_EXEC_CHILD_FD");
	struct kgc_stats st;
	struct kgc_api api;
	int fd;

	if (!s)
		return;
	fd = atoi(s);
	if (kgc_ioctl(fd, KGC_IOC_STATS, &st) != -EPERM)
		_exit(21);
	fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0 || kgc_handshake(fd, &api))
		_exit(22);
	_exit(0);
}

TEST_HARNESS_MAIN
