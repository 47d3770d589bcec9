# dlite — GNU make (3.81 is enough, so macOS's /usr/bin/make works too).
# Usage: make; make image; make check; make install PREFIX=/usr/local
#        make SANITIZE=1 (ASan+UBSan)

PREFIX  ?= /usr/local
B       ?= build
DEB_ARCH := $(shell uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
VERSION := $(shell sed -n 's/^\#define DLITE_VERSION "\(.*\)"/\1/p' src/cli/cli.h)
CC      ?= cc
UNAME_S := $(shell uname -s)

# gcc's -Wformat-truncation flags every bounded snprintf of a path; lengths
# are checked where they matter. clang has no such option.
NOTRUNC := $(shell $(CC) -Werror -Wno-format-truncation -E -x c /dev/null >/dev/null 2>&1 && echo -Wno-format-truncation)
WARN    = -Wall -Wextra -Werror -Wno-unused-parameter $(NOTRUNC)
CFLAGS  ?= -O2 -g
CFLAGS  += $(WARN) -std=gnu11 -D_GNU_SOURCE -Isrc -Isrc/core
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

PKGS    = libevent jansson ldns libcrypto libzstd
# libcurl: headers only; src/cli/osinstall.c dlopen()s it for downloads, so the
# daemon (same binary) never maps it.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser

# Pure library: everything that is not the CLI entry point, the daemon loop or the agent.
# src/cli's pure files (the command table, generators, renderers) go in the library too.
CLI_PURE    = src/cli/cmdtab.c src/cli/gen.c src/cli/doctor.c src/cli/progress.c
LIB_SRCS    = $(wildcard src/core/*.c src/host/*.c src/vm/*.c src/lib/*.c) $(CLI_PURE)
DAEMON_SRCS = $(wildcard src/daemon/*.c)
CLI_SRCS    = $(filter-out $(CLI_PURE),$(wildcard src/cli/*.c))
AGENT_SRCS  = $(wildcard agent/*.c) src/core/proto.c src/core/cmdline.c

LIB_OBJS    = $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS))
DAEMON_OBJS = $(patsubst %.c,$(B)/obj/%.o,$(DAEMON_SRCS))
CLI_OBJS    = $(patsubst %.c,$(B)/obj/%.o,$(CLI_SRCS))

UNIT_SRCS   = $(wildcard tests/unit/test_*.c)
UNIT_BINS   = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))

# The agent is the Linux guest's PID 1: built (static) on Linux only; a Mac
# uses an image built on Linux.
ifeq ($(UNAME_S),Linux)
all: $(B)/dlite $(B)/dlite-agent
else
all: $(B)/dlite
endif

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libdlite.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(LIB_OBJS)

$(B)/dlite: $(CLI_OBJS) $(DAEMON_OBJS) $(B)/libdlite.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(DAEMON_OBJS) $(B)/libdlite.a $(PKG_LIBS) -lpthread -lm

# The agent is the guest's PID 1: static, no sanitizers (it runs in the VM),
# Linux only.
AGENT_CFLAGS = -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -Isrc -Isrc/core
$(B)/dlite-agent: $(AGENT_SRCS) $(wildcard agent/*.h) src/core/proto.h src/core/cmdline.h
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -static -o $@ $(AGENT_SRCS)

# Unit tests link the pure library and the daemon's objects (no main there).
$(B)/tests/%: tests/unit/%.c $(B)/libdlite.a $(DAEMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(DAEMON_OBJS) $(B)/libdlite.a $(PKG_LIBS) -lcmocka -lpthread -lm

unit: $(UNIT_BINS)
	tests/run-unit $(UNIT_BINS)

# Data-path harness (proxy + ports without a VM) and the benchmark load
# generator: tests/e2e/t_proxy_host.sh, bench/proxy.
HARNESS_OBJS = $(patsubst %.c,$(B)/obj/%.o,src/daemon/chan.c src/daemon/chanpool.c src/daemon/relay.c src/daemon/proxy.c src/daemon/ports.c src/daemon/ports_udp.c src/daemon/guard.c src/daemon/log.c)
$(B)/tests/relay-harness: tests/harness/relay_harness.c $(HARNESS_OBJS) $(B)/libdlite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(HARNESS_OBJS) $(B)/libdlite.a $(shell pkg-config --libs libevent)

$(B)/bench/loadgen: bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

FSW_OBJS = $(patsubst %.c,$(B)/obj/%.o,src/daemon/chan.c src/daemon/fswatch.c src/daemon/log.c)
$(B)/tests/fswatch-harness: tests/harness/fswatch_harness.c $(FSW_OBJS) $(B)/libdlite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(FSW_OBJS) $(B)/libdlite.a $(shell pkg-config --libs libevent)

harness: $(B)/tests/relay-harness $(B)/tests/fswatch-harness $(B)/bench/loadgen

image: $(B)/dlite-agent
	image/build.sh $(B)

e2e: all
	tests/run-e2e

check: all unit e2e

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/dlite
	install -m 0755 $(B)/dlite $(DESTDIR)$(PREFIX)/bin/dlite
	if [ -f $(B)/dlite-agent ]; then install -m 0755 $(B)/dlite-agent $(DESTDIR)$(PREFIX)/lib/dlite/dlite-agent; fi
	if [ -d $(B)/os ]; then rm -rf $(DESTDIR)$(PREFIX)/lib/dlite/os && cp -RL $(B)/os $(DESTDIR)$(PREFIX)/lib/dlite/os; fi
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0644 contrib/man/dlite.1 $(DESTDIR)$(PREFIX)/share/man/man1/dlite.1
	install -m 0644 contrib/completion/dlite.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/dlite
	install -m 0644 contrib/completion/_dlite $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_dlite
	install -m 0644 contrib/completion/dlite.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/dlite.fish

# Debian package (build/deb/dlite_VERSION_ARCH.deb) from the built image
deb: $(B)/os/manifest.json
	packaging/deb/build.sh $(B) $(VERSION)

# Release tarball of the committed tree (reproducible: git archive's times
# are the commit's, gzip -n stores no name or time), and the Homebrew
# formula with its digest
dist:
	@mkdir -p $(B)
	git archive --format=tar --prefix=dlite-$(VERSION)/ HEAD | gzip -9n >$(B)/dlite-$(VERSION).tar.gz
	if [ -f $(B)/os/manifest.json ]; then \
		tar -C $(B)/os -c --sort=name --owner=0 --group=0 --numeric-owner --mode=u=rwX,go=rX \
			--mtime=@$$(git log -1 --format=%ct) -h . | gzip -9n >$(B)/dlite-os-$(VERSION)-$(DEB_ARCH).tar.gz; fi
	if [ -f $(B)/dlite-os-$(VERSION)-$(DEB_ARCH).tar.gz ]; then \
		packaging/homebrew/formula.sh $(VERSION) $(B)/dlite-$(VERSION).tar.gz >$(B)/dlite.rb.tmp && \
		mv $(B)/dlite.rb.tmp $(B)/dlite.rb && echo "$(B)/dlite.rb"; \
	else echo "make dist: no OS image in $(B)/os, so no OS tarball and no Homebrew formula; run \`make image\` first"; fi

# Completions and the man page from the command table (src/cli/cmdtab.c);
# tests/unit/test_cmdtab.c fails when the committed copies differ.
GEN_FILES = contrib/completion/dlite.bash contrib/completion/_dlite contrib/completion/dlite.fish contrib/man/dlite.1
gen: $(B)/dlite
	@mkdir -p contrib/completion contrib/man
	$(B)/dlite __gen bash >contrib/completion/dlite.bash
	$(B)/dlite __gen zsh >contrib/completion/_dlite
	$(B)/dlite __gen fish >contrib/completion/dlite.fish
	$(B)/dlite __gen man >contrib/man/dlite.1

clean:
	rm -rf $(B)/obj $(B)/tests $(B)/dlite $(B)/dlite-agent $(B)/libdlite.a

.PHONY: all unit image e2e check install clean harness deb dist gen
-include $(LIB_OBJS:.o=.d) $(DAEMON_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
