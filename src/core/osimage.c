#include "osimage.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t cpio_entry(uint8_t *out, const char *name, unsigned mode, const char *data,
			 size_t len, unsigned ino)
{
	size_t namesz = strlen(name) + 1, n;

	n = (size_t)sprintf((char *)out,
			    "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino,
			    mode, 0u, 0u, 1u, 0u, len, 0u, 0u, 0u, 0u, namesz, 0u);
	memcpy(out + n, name, namesz);
	n += namesz;
	while (n % 4)
		out[n++] = 0;
	if (len) {
		memcpy(out + n, data, len);
		n += len;
		while (n % 4)
			out[n++] = 0;
	}
	return n;
}

uint8_t *dl_cpio_token(const char *content, size_t len, size_t *outlen)
{
	/* three headers of 110 bytes + names + padding + data */
	uint8_t *buf = calloc(1, 3 * 128 + 64 + len + 8 + 512);
	size_t n = 0;

	if (!buf)
		return NULL;
	n += cpio_entry(buf + n, "dlite", 040700, NULL, 0, 1);
	n += cpio_entry(buf + n, "dlite/token", 0100600, content, len, 2);
	n += cpio_entry(buf + n, "TRAILER!!!", 0, NULL, 0, 0);
	/* pad to 512 like cpio(1) does */
	while (n % 512)
		buf[n++] = 0;
	*outlen = n;
	return buf;
}

int dl_sha256_file(const char *path, char hex[65], struct dl_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static uint8_t buf[1 << 16];
	ssize_t r;

	if (fd < 0)
		return dl_fail(e, errno, "cannot read %s", path);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	int saved = errno;
	close(fd);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (r < 0)
		return dl_fail(e, saved, "cannot read %s", path);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	hex[64] = '\0';
	return 0;
}

static json_t *load_manifest(const char *dir, struct dl_manifest *m, struct dl_err *e)
{
	char path[1100];
	json_error_t jerr;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (access(path, F_OK) < 0)
		return dl_fail(e, errno, "no OS image in %s (manifest.json missing); run `make image` "
					 "or pass --os PATH", dir), NULL;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		dl_fail(e, 0, "%s is not a valid manifest (%s); rebuild the image with `make image`",
			path, root ? "not an object" : jerr.text);
		json_decref(root);
		return NULL;
	}
	memset(m, 0, sizeof(*m));
	const char *k[] = { "image_version", "kernel_version", "docker_version" };
	char *dst[] = { m->image_version, m->kernel_version, m->docker_version };
	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(root, k[i]);
		if (json_is_string(v))
			snprintf(dst[i], sizeof(m->image_version), "%s", json_string_value(v));
	}
	const char *ks = json_string_value(json_object_get(json_object_get(root, "files"), "vmlinuz"));
	if (ks && strlen(ks) == 64 && strspn(ks, "0123456789abcdef") == 64)
		memcpy(m->kernel_sha256, ks, 65);
	return root;
}

int dl_manifest_read(const char *dir, struct dl_manifest *m, struct dl_err *e)
{
	json_t *root = load_manifest(dir, m, e);

	if (!root)
		return -1;
	json_decref(root);
	return 0;
}

int dl_manifest_verify(const char *dir, struct dl_manifest *m, struct dl_err *e)
{
	json_t *root = load_manifest(dir, m, e), *files, *v;
	const char *name;
	const char *need[] = { "vmlinuz", "initrd", "root.erofs" };

	if (!root)
		return -1;
	files = json_object_get(root, "files");
	if (!json_is_object(files)) {
		json_decref(root);
		return dl_fail(e, 0, "%s/manifest.json lists no files; rebuild the image", dir);
	}
	for (int i = 0; i < 3; i++)
		if (!json_is_string(json_object_get(files, need[i]))) {
			json_decref(root);
			return dl_fail(e, 0, "%s/manifest.json does not list %s; rebuild the image",
				       dir, need[i]);
		}
	json_object_foreach(files, name, v) {
		char path[1100], hex[65];
		if (!json_is_string(v) || strchr(name, '/') || name[0] == '.') {
			dl_fail(e, 0, "%s/manifest.json: bad entry \"%s\"", dir, name);
			json_decref(root);
			return -1;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (dl_sha256_file(path, hex, e) < 0) {
			json_decref(root);
			return -1;
		}
		if (strcmp(hex, json_string_value(v)) != 0) {
			json_decref(root);
			return dl_fail(e, 0, "%s: sha256 mismatch (image corrupt or truncated); rebuild "
					     "or download it again", path);
		}
	}
	json_decref(root);
	return 0;
}

char **dl_manifest_files(const char *text, size_t len, struct dl_err *e)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *files, *v;
	const char *name;
	const char *need[] = { "vmlinuz", "initrd", "root.erofs" };
	size_t n = 0;

	if (!root || !json_is_object(files = json_object_get(root, "files"))) {
		json_decref(root);
		dl_fail(e, 0, "manifest.json is not valid (%s); rebuild the image or download it again",
			root ? "no \"files\" object" : jerr.text);
		return NULL;
	}
	/* checked before any file is fetched: what is listed, how */
	for (int i = 0; i < 3; i++)
		if (!json_object_get(files, need[i])) {
			json_decref(root);
			dl_fail(e, 0, "manifest.json does not list %s; rebuild the image or download it "
				"again", need[i]);
			return NULL;
		}
	json_object_foreach(files, name, v) {
		const char *h = json_string_value(v);
		if (!h || strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64 ||
		    strchr(name, '/') || name[0] == '.' || !name[0]) {
			dl_fail(e, 0, "manifest.json: bad entry \"%.100s\" (a plain file name and the "
				"64 hex digits of its sha256); rebuild the image", name);
			json_decref(root);
			return NULL;
		}
	}
	char **out = calloc(json_object_size(files) + 1, sizeof(char *));
	if (!out) {
		json_decref(root);
		dl_fail(e, ENOMEM, "manifest.json");
		return NULL;
	}
	json_object_foreach(files, name, v)
		out[n++] = strdup(name);
	json_decref(root);
	return out;
}
