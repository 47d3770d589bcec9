/*
 * Commands as data: the pure builders in src/host return the programs dlite
 * would run as argv arrays, never run them.
 *
 *   char **      a command: NULL-terminated argv, the array and every string
 *                malloc'd; free with dl_cmd_free().
 *   char ***     a command list: NULL-terminated array of commands, run in
 *                order; free with dl_cmds_free().
 */
#ifndef DLITE_HOST_CMD_H
#define DLITE_HOST_CMD_H

#include <stddef.h>

/* dl_cmd_new("ip", "route", "del", x, (char *)NULL); NULL on ENOMEM. */
char **dl_cmd_new(const char *arg0, ...) __attribute__((sentinel));
/* Append one argument (copied); returns the new array or NULL (old one freed). */
char **dl_cmd_push(char **cmd, const char *arg);
size_t dl_cmd_len(char *const *cmd);
void dl_cmd_free(char **cmd);

/* Append a command (taken over); on ENOMEM frees both and returns NULL. */
char ***dl_cmds_push(char ***cmds, char **cmd);
size_t dl_cmds_len(char **const *cmds);
void dl_cmds_free(char ***cmds);

/* Render for logs, messages and golden files: one command per line, words
 * separated by one space, words with shell-special characters in single
 * quotes.  A NULL list renders as "". */
char *dl_cmd_format(char *const *cmd);
char *dl_cmds_format(char **const *cmds);

/* An absolute path without control characters, at most 4096 bytes: what
 * may go into a unit file, a plist or an argv. 0, or -1 with *e naming what. */
struct dl_err;
int dl_path_check(const char *what, const char *p, struct dl_err *e);

#endif
