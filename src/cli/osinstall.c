/* Installing an OS image into $DLITE_HOME/os: from a local folder or a URL,
 * always verified against its manifest, always swapped in by rename.
 * Downloads use libcurl, loaded with dlopen() only when a URL is given: the
 * binary is also the long-running daemon, which must not carry libcurl and
 * the TLS/krb5/ldap/... stack it pulls in (several MiB of resident pages). */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "cli/progress.h"
#include "cli.h"
#include "host/atomic.h"
#include "osimage.h"
#include "osinstall.h"

static int is_url(const char *s)
{
	return !strncasecmp(s, "https://", 8) || !strncasecmp(s, "file://", 7);
}

int os_check_source(const char *src, struct dl_err *e)
{
	if (strncasecmp(src, "http://", 7) == 0)
		return dl_fail(e, 0, "%.200s: plain http:// is refused (anyone on the path could swap "
				     "the image and its hashes); use https://, file:// or a local folder",
			       src);
	if (strstr(src, "://") && !is_url(src))
		return dl_fail(e, 0, "%.200s: only https:// and file:// URLs (or a local folder) are "
				     "accepted", src);
	return 0;
}

int os_check_pin(const char *pin, struct dl_err *e)
{
	size_t n = 0;

	while (pin[n] && strchr("0123456789abcdefABCDEF", pin[n]))
		n++;
	if (n != 64 || pin[n])
		return dl_fail(e, 0, "--sha256 %.80s: give the 64 hex digits of manifest.json's sha256 "
				     "(`sha256sum manifest.json`)", pin);
	return 0;
}

int os_lock(const char *lock_path, struct dl_err *e)
{
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return dl_fail(e, errno, "cannot open the lock %s", lock_path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		close(fd);
		if (err == EWOULDBLOCK)
			return dl_fail(e, 0, "the VM is running or restarting, or another update or "
					     "rebuild is under way; run `dlite stop` first, then retry");
		return dl_fail(e, err, "cannot lock %s", lock_path);
	}
	return fd;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags);

	if (fd < 0)
		return -1;
	int r = fsync(fd);
	if (r < 0 && (errno == EINVAL || errno == ENOTSUP || errno == EROFS))
		r = 0; /* a file system that cannot sync a directory */
	int err = errno;
	close(fd);
	errno = err;
	return r;
}

/* The folder holding path ("." when none). */
static void parent_of(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, n, ".");
	else if (slash == path)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%.*s", (int)(slash - path), path);
}

/* Swap two directory entries atomically; -1 with EINVAL/ENOSYS/ENOTSUP where
 * the system or file system cannot. */
static int exchange(const char *a, const char *b)
{
#if defined(__linux__) && defined(RENAME_EXCHANGE)
	return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
#elif defined(__APPLE__) && defined(RENAME_SWAP)
	return renamex_np(a, b, RENAME_SWAP);
#else
	(void)a;
	(void)b;
	errno = ENOSYS;
	return -1;
#endif
}

struct progress {
	const char *name;
	int last;
	bool tty;
};

static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ut, curl_off_t un)
{
	struct progress *pr = p;
	if (dl_prog_current) { /* the command's step list (progress.c) */
		dl_prog_bytes(dl_prog_current, (unsigned long long)dlnow,
			      dltotal > 0 ? (unsigned long long)dltotal : 0);
		return 0;
	}
	int pct = dltotal > 0 ? (int)(dlnow * 100 / dltotal) : -1;

	if (!pr->tty || pct == pr->last)
		return 0;
	pr->last = pct;
	int bar = pct < 0 ? 0 : pct * 30 / 100;
	fprintf(stderr, "\r  %-12s [%.*s%*s] %3d%% %6.1f MiB", pr->name, bar,
		"==============================", 30 - bar, "", pct < 0 ? 0 : pct,
		(double)dlnow / 1048576.0);
	return 0;
}

/* The few libcurl entry points fetch() uses, resolved at run time. */
static struct {
	CURL *(*init)(void);
	CURLcode (*setopt)(CURL *, CURLoption, ...);
	CURLcode (*perform)(CURL *);
	void (*cleanup)(CURL *);
	const char *(*strerror)(CURLcode);
} lc;

static int load_curl(struct dl_err *e)
{
	static const char *const names[] = { "libcurl.so.4", "libcurl.4.dylib", "libcurl.dylib" };
	void *h = NULL;

	if (lc.perform)
		return 0;
	for (size_t i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return dl_fail(e, 0, "downloading needs libcurl (libcurl.so.4), which is not installed: "
				     "install libcurl4, or pass --os with a local folder");
	*(void **)&lc.init = dlsym(h, "curl_easy_init");
	*(void **)&lc.setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&lc.cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&lc.strerror = dlsym(h, "curl_easy_strerror");
	*(void **)&lc.perform = dlsym(h, "curl_easy_perform");
	if (!lc.init || !lc.setopt || !lc.cleanup || !lc.strerror || !lc.perform) {
		lc.perform = NULL;
		return dl_fail(e, 0, "the libcurl found lacks curl_easy_*: install libcurl4");
	}
	return 0;
}

struct sink {
	FILE *f;
	int err; /* errno of a failed write (disk full): the message says why */
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;
	errno = 0;
	size_t w = fwrite(p, size, n, k->f);

	if (w < n && !k->err)
		k->err = errno ? errno : EIO;
	return w * size;
}

static int fetch(const char *url, const char *dest, const char *name, struct dl_err *e)
{
	struct progress pr = { .name = name, .last = -2, .tty = isatty(2) && !dl_prog_current };
	char errbuf[CURL_ERROR_SIZE] = "";

	if (load_curl(e) < 0)
		return -1;
	FILE *f = fopen(dest, "wxe");
	if (!f)
		return dl_fail(e, errno, "cannot create %s", dest);
	CURL *c = lc.init();
	if (!c) {
		fclose(f);
		return dl_fail(e, ENOMEM, "curl_easy_init");
	}
	lc.setopt(c, CURLOPT_URL, url);
	/* https and file only, redirects to https only: never plain http */
	if (lc.setopt(c, CURLOPT_PROTOCOLS_STR, "https,file") != CURLE_OK ||
	    lc.setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK) {
		lc.cleanup(c);
		fclose(f);
		return dl_fail(e, 0, "this libcurl is older than 7.85 and cannot be limited to "
				     "https; update libcurl, or pass --os with a local folder");
	}
	struct sink sink = { .f = f };
	lc.setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	lc.setopt(c, CURLOPT_WRITEDATA, &sink);
	lc.setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	lc.setopt(c, CURLOPT_FAILONERROR, 1L);
	lc.setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	lc.setopt(c, CURLOPT_NOPROGRESS, 0L);
	lc.setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	lc.setopt(c, CURLOPT_XFERINFODATA, &pr);
	lc.setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	if (dl_prog_current)
		dl_prog_sub(dl_prog_current, name);
	CURLcode rc = lc.perform(c);
	lc.cleanup(c);
	if (pr.tty)
		fputc('\n', stderr);
	if (rc == CURLE_WRITE_ERROR && sink.err) {
		fclose(f);
		return dl_fail(e, sink.err, "cannot write %s", dest);
	}
	if (rc == CURLE_OK && (fflush(f) != 0 || fsync(fileno(f)) < 0)) {
		int err = errno;
		fclose(f);
		return dl_fail(e, err, "cannot write %s", dest);
	}
	if (fclose(f) != 0 && rc == CURLE_OK)
		return dl_fail(e, errno, "cannot write %s", dest);
	if (rc != CURLE_OK)
		return dl_fail(e, 0, "download of %s failed: %s", url,
			       errbuf[0] ? errbuf : lc.strerror(rc));
	return 0;
}

static int copy_file(const char *src, const char *dst, struct dl_err *e)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out;
	static char buf[1 << 16];
	ssize_t r;

	if (in < 0)
		return dl_fail(e, errno, "cannot read %s", src);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return dl_fail(e, errno, "cannot create %s", dst);
	}
	int err = 0;
	while ((r = read(in, buf, sizeof(buf))) > 0) {
		/* a short write (disk full) is followed by one that says why */
		for (ssize_t off = 0, w; off < r; off += w) {
			w = write(out, buf + off, (size_t)(r - off));
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				err = w < 0 ? errno : EIO;
				r = -1;
				break;
			}
		}
		if (r < 0)
			break;
	}
	if (r < 0 && !err)
		err = errno;
	if (r == 0 && fsync(out) < 0)
		r = -1, err = errno;
	close(in);
	close(out);
	if (r < 0)
		return dl_fail(e, err, "cannot copy %s to %s", src, dst);
	return 0;
}

/* Remove one of our own flat folders (os/current, os/previous, a temp). */
int os_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4200];

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(dir);
}

/* --sha256: manifest.json (as fetched or copied) must hash to pin. */
static int check_pin(const char *path, const char *src, const char *pin, struct dl_err *e)
{
	char hex[65];

	if (!pin)
		return 0;
	if (dl_sha256_file(path, hex, e) < 0)
		return -1;
	if (strcasecmp(hex, pin) != 0)
		return dl_fail(e, 0, "the manifest.json of %.200s has sha256 %s, not the --sha256 "
				     "given (%.64s): refused; check where the image comes from", src,
			       hex, pin);
	return 0;
}

#ifdef __APPLE__
#define MTIME(st) ((st).st_mtimespec)
#else
#define MTIME(st) ((st).st_mtim)
#endif

/* "NAME SIZE MTIME_NS INODE\n" for every regular file of dir but .verified
 * and vmlinux (extracted at the first boot), sorted by readdir order. */
static char *os_stamp(const char *dir)
{
	char *out = NULL, path[4400];
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;

	if (!f || !d) {
		if (f)
			fclose(f);
		if (d)
			closedir(d);
		free(out);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "vmlinux") ||
		    strstr(de->d_name, ".tmp."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			fprintf(f, "%s %lld %lld.%09ld %llu\n", de->d_name, (long long)st.st_size,
				(long long)MTIME(st).tv_sec, (long)MTIME(st).tv_nsec,
				(unsigned long long)st.st_ino);
	}
	closedir(d);
	fclose(f);
	return out;
}

static void os_stamp_write(const char *dir)
{
	char path[4400], *s = os_stamp(dir);

	snprintf(path, sizeof(path), "%s/.verified", dir);
	if (s)
		dl_atomic_write(path, s, strlen(s), 0644, NULL);
	free(s);
}

int os_check_installed(const char *dir, struct dl_err *e)
{
	char path[4400], *old = NULL, *now = os_stamp(dir);
	size_t len = 0;
	struct dl_manifest m;

	snprintf(path, sizeof(path), "%s/.verified", dir);
	int same = now && dl_read_file(path, &old, &len, 1 << 16, NULL) == 0 && !strcmp(old, now);
	free(old);
	free(now);
	if (same)
		return 0;
	if (dl_manifest_verify(dir, &m, e) < 0)
		return dl_err_wrap(e, "the installed OS image is damaged (run `dlite update --rollback`, "
				      "or `dlite update` to install it again)");
	os_stamp_write(dir);
	return 0;
}

int os_install(const char *src, const char *dest, const char *pin, struct dl_manifest *m,
	       struct dl_err *e)
{
	char tmp[4200], path[4400], from[4400];
	char *text = NULL;
	size_t len = 0;
	char **files = NULL;
	int r = -1;

	if (os_check_source(src, e) < 0 || (pin && os_check_pin(pin, e) < 0))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.new", dest);
	os_rmdir(tmp);
	if (mkdir(tmp, 0755) < 0)
		return dl_fail(e, errno, "cannot create %s", tmp);
	if (is_url(src)) {
		char base[4096];
		snprintf(base, sizeof(base), "%s", src);
		size_t bl = strlen(base);
		if (bl > 14 && !strcmp(base + bl - 14, "/manifest.json"))
			base[bl - 14] = '\0';
		else if (bl && base[bl - 1] == '/')
			base[bl - 1] = '\0';
		snprintf(from, sizeof(from), "%s/manifest.json", base);
		snprintf(path, sizeof(path), "%s/manifest.json", tmp);
		if (!dl_prog_current)
			fprintf(stderr, "dlite: downloading the OS image from %s\n", base);
		if (fetch(from, path, "manifest", e) < 0 || check_pin(path, base, pin, e) < 0)
			goto out;
		if (dl_read_file(path, &text, &len, 1 << 20, e) < 0)
			goto out;
		if (!(files = dl_manifest_files(text, len, e)))
			goto out;
		for (char **f = files; *f; f++) {
			snprintf(from, sizeof(from), "%s/%s", base, *f);
			snprintf(path, sizeof(path), "%s/%s", tmp, *f);
			if (fetch(from, path, *f, e) < 0)
				goto out;
		}
	} else {
		snprintf(from, sizeof(from), "%s/manifest.json", src);
		if (dl_read_file(from, &text, &len, 1 << 20, e) < 0) {
			dl_err_wrap(e, "no OS image at %s; run `make image` or give --os PATH|URL", src);
			goto out;
		}
		if (check_pin(from, src, pin, e) < 0)
			goto out;
		if (!(files = dl_manifest_files(text, len, e)))
			goto out;
		snprintf(path, sizeof(path), "%s/manifest.json", tmp);
		if (copy_file(from, path, e) < 0)
			goto out;
		for (char **f = files; *f; f++) {
			snprintf(from, sizeof(from), "%s/%s", src, *f);
			snprintf(path, sizeof(path), "%s/%s", tmp, *f);
			if (copy_file(from, path, e) < 0)
				goto out;
		}
	}
	if (dl_manifest_verify(tmp, m, e) < 0)
		goto out;
	os_stamp_write(tmp); /* renames keep what it records */
	/* every file was fsync'd; now the folder's entries */
	if (fsync_path(tmp, O_DIRECTORY) < 0) {
		dl_fail(e, errno, "cannot sync %s", tmp);
		goto out;
	}
	r = 0;
out:
	if (files)
		for (char **f = files; *f; f++)
			free(*f);
	free(files);
	free(text);
	if (r < 0)
		os_rmdir(tmp);
	return r;
}

int os_swap_in(const char *staged, const char *current, const char *previous, struct dl_err *e)
{
	char dir[4200];
	struct stat st;

	parent_of(current, dir, sizeof(dir));
	if (lstat(current, &st) < 0) {
		/* first install: nothing to keep */
		if (rename(staged, current) < 0)
			return dl_fail(e, errno, "cannot install %s", current);
		fsync_path(dir, O_DIRECTORY);
		return 0;
	}
	if (exchange(staged, current) == 0) {
		/* current is the new image; staged holds the old one */
		if (fsync_path(dir, O_DIRECTORY) < 0)
			return dl_fail(e, errno, "cannot sync %s", dir);
		if (lstat(previous, &st) == 0) {
			if (exchange(staged, previous) < 0)
				return dl_fail(e, errno, "installed %s but cannot keep the old image as %s",
					       current, previous);
			fsync_path(dir, O_DIRECTORY);
			os_rmdir(staged); /* the image before the previous one */
		} else if (rename(staged, previous) < 0) {
			return dl_fail(e, errno, "installed %s but cannot keep the old image as %s",
				       current, previous);
		}
		fsync_path(dir, O_DIRECTORY);
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return dl_fail(e, errno, "cannot install %s", current);
	/* no exchange on this file system: previous goes only after the new
	 * image is complete, and only current's rename leaves a gap */
	os_rmdir(previous);
	if (rename(current, previous) < 0 && errno != ENOENT)
		return dl_fail(e, errno, "cannot move %s aside", current);
	if (rename(staged, current) < 0) {
		int err = errno;
		rename(previous, current);
		return dl_fail(e, err, "cannot install %s", current);
	}
	fsync_path(dir, O_DIRECTORY);
	return 0;
}

int os_source(const char *os, const char *version, char *out, size_t n, struct dl_err *e)
{
	if (os) {
		snprintf(out, n, "%s", os);
		return os_check_source(out, e);
	}
	if (version && getenv("DLITE_OS_URL")) {
		snprintf(out, n, "%s/%s/", getenv("DLITE_OS_URL"), version);
		return os_check_source(out, e);
	}
	return cli_default_os(out, n, e);
}

int os_stage(const char *src, const char *version, const char *dest, const char *pin,
	     struct dl_manifest *m, struct dl_err *e)
{
	char staged[4200];

	if (os_install(src, dest, pin, m, e) < 0)
		return -1;
	if (version && strcmp(version, m->image_version) != 0) {
		snprintf(staged, sizeof(staged), "%s.new", dest);
		os_rmdir(staged);
		return dl_fail(e, 0, "-v %s: the image at %s is version %s; set DLITE_OS_URL or pass "
				     "--os", version, src, m->image_version);
	}
	return 0;
}
