/* mmapw FILE TEXT: write TEXT into FILE through a shared writable mapping
 * (what sqlite and some package managers do), for the share tests. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mmapw FILE TEXT\n");
		return 2;
	}
	size_t n = strlen(argv[2]);
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)n) < 0) {
		perror(argv[1]);
		return 1;
	}
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap MAP_SHARED");
		return 1;
	}
	memcpy(p, argv[2], n);
	if (msync(p, n, MS_SYNC) < 0 || munmap(p, n) < 0 || close(fd) < 0) {
		perror("msync");
		return 1;
	}
	return 0;
}
