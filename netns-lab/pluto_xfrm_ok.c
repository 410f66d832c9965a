/* pluto_xfrm_ok.c: an LD_PRELOAD shim that lets libreswan's pluto complete
 * CHILD SAs on a kernel without ESP (no esp4/esp6 module: every XFRM
 * NEWSA/UPDSA for ESP is acked with EPROTONOSUPPORT). Built by
 * netns-lab/libreswan.sh at test time.
 *
 * Flow, per NETLINK_XFRM socket only:
 *   request out  (write/send/sendto/sendmsg): remember nlmsg_seq -> nlmsg_type
 *   ack in       (read/recv/recvfrom/recvmsg): an NLMSG_ERROR whose request was
 *                NEWSA/UPDSA failing with EPROTONOSUPPORT, ENOENT or ENOSYS, or
 *                DELSA failing with ESRCH (the SA was never there), becomes 0
 * Every other message passes untouched: SPI allocation and the policies are
 * real, so pluto's state machine runs as on a full kernel. No ESP packet can
 * flow; the tests check SAs through whack and mesh-site's status instead.
 * PLUTO_XFRM_OK_LOG=FILE appends one line per ack turned into success. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

/* pluto has one request in flight per socket; a small ring is plenty. */
enum { REQUESTS = 64 };
static struct {
	__u32 seq;
	__u16 type;
} requests[REQUESTS];
static unsigned next_request;

static int is_xfrm_socket(int fd)
{
	int saved = errno, value = 0, xfrm = 0;
	socklen_t len = sizeof value;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &len) == 0 && value == AF_NETLINK) {
		len = sizeof value;
		xfrm = getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &value, &len) == 0 && value == NETLINK_XFRM;
	}
	errno = saved;
	return xfrm;
}

static void remember(const void *buf, size_t len)
{
	const struct nlmsghdr *h = buf;
	if (len < sizeof *h)
		return;
	requests[next_request % REQUESTS].seq = h->nlmsg_seq;
	requests[next_request % REQUESTS].type = h->nlmsg_type;
	next_request++;
}

static int request_type(__u32 seq)
{
	for (int i = 0; i < REQUESTS; i++)
		if (requests[i].type != 0 && requests[i].seq == seq)
			return requests[i].type;
	return -1;
}

static int missing_esp(int type, int err)
{
	if (type == XFRM_MSG_NEWSA || type == XFRM_MSG_UPDSA)
		return err == EPROTONOSUPPORT || err == ENOENT || err == ENOSYS;
	return type == XFRM_MSG_DELSA && err == ESRCH;
}

static void rewrite_acks(void *buf, ssize_t len)
{
	size_t left = (size_t)len;
	for (struct nlmsghdr *h = buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
			continue;
		struct nlmsgerr *e = NLMSG_DATA(h);
		int type = request_type(h->nlmsg_seq);
		if (e->error == 0 || !missing_esp(type, -e->error))
			continue;
		const char *log = getenv("PLUTO_XFRM_OK_LOG");
		FILE *f = log ? fopen(log, "a") : NULL;
		if (f) {
			fprintf(f, "seq %u xfrm type %d: errno %d -> 0\n", h->nlmsg_seq, type, -e->error);
			fclose(f);
		}
		e->error = 0;
	}
}

#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (!real_##name) \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t len)
{
	REAL(write);
	if (is_xfrm_socket(fd))
		remember(buf, len);
	return real_write(fd, buf, len);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	REAL(send);
	if (is_xfrm_socket(fd))
		remember(buf, len);
	return real_send(fd, buf, len, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	REAL(sendto);
	if (is_xfrm_socket(fd))
		remember(buf, len);
	return real_sendto(fd, buf, len, flags, to, tolen);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	REAL(sendmsg);
	if (msg->msg_iovlen > 0 && is_xfrm_socket(fd))
		remember(msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len);
	return real_sendmsg(fd, msg, flags);
}

ssize_t read(int fd, void *buf, size_t len)
{
	REAL(read);
	ssize_t got = real_read(fd, buf, len);
	if (got > 0 && is_xfrm_socket(fd))
		rewrite_acks(buf, got);
	return got;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	REAL(recv);
	ssize_t got = real_recv(fd, buf, len, flags);
	if (got > 0 && is_xfrm_socket(fd))
		rewrite_acks(buf, got);
	return got;
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	REAL(recvfrom);
	ssize_t got = real_recvfrom(fd, buf, len, flags, from, fromlen);
	if (got > 0 && is_xfrm_socket(fd))
		rewrite_acks(buf, got);
	return got;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	REAL(recvmsg);
	ssize_t got = real_recvmsg(fd, msg, flags);
	if (got > 0 && msg->msg_iovlen == 1 && is_xfrm_socket(fd)) {
		size_t room = msg->msg_iov[0].iov_len;
		rewrite_acks(msg->msg_iov[0].iov_base, (size_t)got < room ? got : (ssize_t)room);
	}
	return got;
}
