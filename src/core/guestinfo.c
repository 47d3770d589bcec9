/* Parsing the agent's status line for disk figures and platforms. */
#include "guestinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dl_status_value(const char *status, const char *key, char *out, size_t n)
{
	size_t klen = strlen(key);

	if (!status || !klen || n == 0)
		return -1;
	for (const char *p = status; (p = strstr(p, key)) != NULL; p += klen) {
		if ((p != status && p[-1] != ' ') || p[klen] != '=')
			continue;
		const char *v = p + klen + 1;
		size_t len = strcspn(v, " \r\n");
		if (len >= n)
			len = n - 1;
		memcpy(out, v, len);
		out[len] = '\0';
		return 0;
	}
	return -1;
}

static void put_u64(json_t *j, const char *status, const char *key)
{
	char v[32], *end;

	if (dl_status_value(status, key, v, sizeof(v)) < 0 || !v[0])
		return;
	unsigned long long x = strtoull(v, &end, 10);
	if (*end == '\0')
		json_object_set_new(j, key, json_integer((json_int_t)x));
}

json_t *dl_guestinfo_json(const char *status)
{
	json_t *j = json_object();
	char plat[512];

	if (!j)
		return NULL;
	put_u64(j, status, "disk_fs_size");
	put_u64(j, status, "disk_used");
	put_u64(j, status, "disk_free");
	if (dl_status_value(status, "platforms", plat, sizeof(plat)) == 0 && plat[0]) {
		json_t *a = json_array();
		for (char *save, *t = strtok_r(plat, ",", &save); a && t; t = strtok_r(NULL, ",", &save))
			json_array_append_new(a, json_string(t));
		if (a)
			json_object_set_new(j, "platforms", a);
	}
	return j;
}

void dl_human_bytes(unsigned long long b, char *out, size_t n)
{
	if (b >= (1ull << 30))
		snprintf(out, n, "%.1f GiB", (double)b / (double)(1ull << 30));
	else if (b >= (1ull << 20))
		snprintf(out, n, "%llu MiB", b >> 20);
	else if (b >= 1024)
		snprintf(out, n, "%llu KiB", b >> 10);
	else
		snprintf(out, n, "%llu B", b);
}
