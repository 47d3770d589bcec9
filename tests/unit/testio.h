/* Small I/O helpers shared by the unit tests' fake agents. */
#ifndef DLITE_TESTS_TESTIO_H
#define DLITE_TESTS_TESTIO_H

#include <stddef.h>
#include <unistd.h>

/* Read exactly n bytes; -1 on EOF or error. */
static inline int read_full(int fd, void *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t r = read(fd, (char *)buf + off, n - off);
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

#endif
