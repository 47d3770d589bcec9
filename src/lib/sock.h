/* Socket helpers shared by the daemon, the CLI and the command runner. */
#ifndef DLITE_LIB_SOCK_H
#define DLITE_LIB_SOCK_H

#include <sys/socket.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: sockets get SO_NOSIGPIPE instead */
#endif

/* Non-blocking, close-on-exec socket (SO_NOSIGPIPE where it exists). */
int dl_socket_nb(int domain, int type);
/* accept() returning a non-blocking, close-on-exec fd. */
int dl_accept_nb(int lfd, struct sockaddr *sa, socklen_t *len);
int dl_set_nonblock(int fd, int on);
void dl_set_nodelay(int fd);
/* pipe2(O_CLOEXEC [| O_NONBLOCK]) where it exists, pipe + fcntl elsewhere. */
int dl_pipe(int p[2], int nonblock);

#endif
