# SPDX-License-Identifier: ISC
# wren - a complete mail server for a home domain in one static binary.
#
#   make                      build/host/wren (static, glibc)
#   make ARCH=armhf|aarch64|mipsel   static musl cross build, build/<arch>/wren
#   make test [ARCH=...]      unit + integration tests (QEMU for cross)
#   make run [PORT_BASE=N] [RUN_DIR=var]  the demo server (conf/demo.conf)
#   make size                 stripped sizes and the biggest contributors
#   make defconfig | menuconfig | <board>_defconfig
#   make deb [ARCH=...]       Debian package, build/<arch>/wren_*.deb
#   make install DESTDIR=...  binary, links, example config, man pages
#   make version              the version `wren --version` prints
#   make SAN=1 ...            ASan + UBSan build (build/host-san)
#   make fuzz                 every libFuzzer harness, bounded, under ASan
#
# Warnings are errors when CI=true or WERROR=1.

ARCH ?= host
SAN ?= 0
# The release, written here only: `wren --version` prints it, NEWS's
# first entry names it. A build from git that is not the release's tag
# (v$(RELEASE)) adds the commit, e.g. 0.2.0+g1a2b3c4, so two builds
# can be told apart; a tarball without git is the release alone.
RELEASE := 0.2.0
VERSION ?= $(RELEASE)$(shell [ -d .git ] || [ -f .git ] || exit 0; \
	git describe --exact-match --tags --match 'v$(RELEASE)' HEAD \
	>/dev/null 2>&1 && exit 0; \
	h=$$(git rev-parse --short HEAD 2>/dev/null) && echo "+g$$h")

ifeq ($(SAN),1)
B ?= build/$(ARCH)-san
else
B ?= build/$(ARCH)
endif

# --- Kconfig --------------------------------------------------------------
# DEFCONFIG=board/x/defconfig builds with that board's features in its
# own .config under $(B); without it, the top-level .config is used
# (made from board/defconfig when missing).
ifdef DEFCONFIG
KCONFIG_CONFIG := $(B)/.config
$(KCONFIG_CONFIG): $(DEFCONFIG) Kconfig
	@mkdir -p $(B)
	KCONFIG_CONFIG=$@ kconfig-conf --defconfig=$(DEFCONFIG) Kconfig >/dev/null
else
KCONFIG_CONFIG := .config
.config:
	KCONFIG_CONFIG=$@ kconfig-conf --defconfig=board/defconfig Kconfig >/dev/null
endif


# --- toolchains -------------------------------------------------------------
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wwrite-strings -Wundef -Wvla -Wformat=2 \
	-Wno-format-nonliteral -Wimplicit-fallthrough
ifneq ($(filter true 1,$(CI) $(WERROR)),)
WARN += -Werror
endif

SYSROOT := build/sysroot/$(ARCH)
QEMU :=
QEMU_UNIT :=
EXTRA_OBJ :=
ifeq ($(ARCH),host)
CC = gcc
STRIP = strip
OPT = -O2
ifeq ($(SAN),1)
OPT = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDSTATIC =
else
LDSTATIC = -static
endif
LDLIBS ?= -lbearssl -lcdb
UNIT_CC = gcc
UNIT_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
UNIT_LIBS = -lcmocka -lbearssl -lcdb
else ifeq ($(ARCH),custom)
# Another build system's toolchain (OpenWrt SDK): CC, AR, STRIP and
# LDLIBS come from the caller.
STRIP ?= strip
OPT = -Os
LDSTATIC = -static
else
ifeq ($(ARCH),armhf)
TRIPLET := arm-linux-gnueabihf
MUSLCC := arm-linux-musleabihf-gcc
QEMU := qemu-arm-static
QEMU_UNIT := qemu-arm-static -L /usr/$(TRIPLET)
else ifeq ($(ARCH),aarch64)
TRIPLET := aarch64-linux-gnu
MUSLCC := aarch64-linux-musl-gcc
QEMU := qemu-aarch64-static
QEMU_UNIT := qemu-aarch64-static -L /usr/$(TRIPLET)
else ifeq ($(ARCH),mipsel)
TRIPLET := mipsel-linux-gnu
MUSLCC := mipsel-linux-musl-gcc
# An FPU-less router core (MT7620/MT76x8 class): catches floating point.
QEMU := qemu-mipsel-static -cpu 24KEc
# Unit tests link glibc, whose start-up uses the FPU.
QEMU_UNIT := qemu-mipsel-static -cpu 74Kf -L /usr/$(TRIPLET)
else
$(error ARCH must be host, armhf, aarch64, mipsel or custom)
endif
# musl, linked against Debian's static BearSSL and tinycdb (built for
# glibc: the shim supplies the three _FORTIFY_SOURCE helpers they use).
CC = $(MUSLCC)
STRIP = $(TRIPLET)-strip
# Debian's compilers make position-independent code by default, which
# a static binary at a fixed address does not use: -fno-pie is about
# 20 KB less on armhf, link-time optimisation 4 KB more (size budget).
OPT = -Os -flto=auto -fno-pie
# musl's static start-up never write-protects the RELRO segment (only
# its dynamic loader does), so aligning it to a page only pads the
# file: about 2 KB.
LDSTATIC = -static -no-pie -Wl,-z,norelro
CROSS_INC := $(SYSROOT)/inc
EXTRA_INC := -isystem $(CROSS_INC)
LDLIBS := /usr/lib/$(TRIPLET)/libbearssl.a $(SYSROOT)/usr/lib/$(TRIPLET)/libcdb.a
EXTRA_OBJ := $(B)/obj/compat/musl_shim.o $(B)/obj/compat/small_malloc.o
UNIT_CC = $(TRIPLET)-gcc
UNIT_CFLAGS = -O1 -g
UNIT_LIBS = -lcmocka /usr/lib/$(TRIPLET)/libbearssl.a \
	$(SYSROOT)/usr/lib/$(TRIPLET)/libcdb.a
endif

CFLAGS_ALL := -std=c99 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(OPT) $(WARN) -ffunction-sections \
	-fdata-sections -I$(B) -Isrc $(EXTRA_INC) \
	$(EXTRA_CFLAGS)
LDFLAGS_ALL := $(LDSTATIC) -Wl,--gc-sections -Wl,-Map=$(B)/wren.map \
	$(OPT) $(LDFLAGS)

# The make variables (CONFIG_SMTP, ...) come from the config completed
# with Kconfig's defaults, as config.h does: a .config written before
# an option existed then gets its default in both, never one in each.
$(B)/.config.full: $(KCONFIG_CONFIG) Kconfig | $(if $(TRIPLET),cross-deps)
	@mkdir -p $(B)
	@cp $(KCONFIG_CONFIG) $@.tmp
	@KCONFIG_CONFIG=$@.tmp kconfig-conf --olddefconfig Kconfig >/dev/null
	@rm -f $@.tmp.old
	@mv $@.tmp $@
# (Here, below TRIPLET: a cross build checks its packages first.)
-include $(B)/.config.full

# --- sources ----------------------------------------------------------------
# A feature folder is compiled only when its Kconfig option is on.
# Tables (map/), addresses (msg/) and TLS (tls/) serve every protocol.
JUNK_SRC := src/msg/junk_tok.c src/store/junk_db.c src/store/junk.c
SRC := $(wildcard src/core/*.c) $(filter-out src/cli/queue.c,$(wildcard src/cli/*.c)) \
	$(wildcard src/map/*.c) $(filter-out $(JUNK_SRC),$(wildcard src/msg/*.c)) \
	$(wildcard src/tls/*.c) $(wildcard src/auth/*.c)
# The ACME HTTP-01 challenge table is shared by the ACME client and the
# HTTP listener (in SRC-y, whose sort drops a second mention); a build
# with neither drops it at link time.
SRC-y += src/acme/acme_chal.c
# The queue's on-disk format (queue/spool.c, its envelope parser and the
# maildrop format) is written by inbound SMTP and `wren sendmail`; the
# rest of queue/ delivers it.
QUEUE_FORMAT := $(wildcard src/queue/spool.c src/queue/envelope.c \
	src/queue/maildrop.c)
SRC-$(CONFIG_SMTP) += $(wildcard src/smtp/*.c) $(wildcard src/store/*.c) \
	$(QUEUE_FORMAT) src/cli/queue.c
IMAP_SORT_SRC := src/imap/imap_sort.c src/imap/imap_thread.c \
	src/imap/imap_esearch.c
SRC-$(CONFIG_IMAP) += $(filter-out src/imap/imap_compress.c $(IMAP_SORT_SRC),\
	$(wildcard src/imap/*.c)) $(wildcard src/store/*.c)
SRC-$(CONFIG_COMPRESS) += $(wildcard src/compress/*.c) src/imap/imap_compress.c
SRC-$(CONFIG_IMAP_SORT) += $(IMAP_SORT_SRC)
SRC-$(CONFIG_JUNK_FILTER) += $(JUNK_SRC)
SRC-$(CONFIG_POP3) += $(wildcard src/pop3/*.c) $(wildcard src/store/*.c)
SRC-$(CONFIG_HTTP) += $(wildcard src/http/*.c)
SRC-$(CONFIG_OUTBOUND) += $(filter-out $(QUEUE_FORMAT),$(wildcard src/queue/*.c)) \
	$(wildcard src/dns/*.c)
SRC-$(CONFIG_ACME) += $(wildcard src/acme/*.c)
SRC += $(sort $(filter-out $(if $(CONFIG_JUNK_FILTER),,$(JUNK_SRC)),$(SRC-y)))
OBJ := $(SRC:src/%.c=$(B)/obj/%.o)
CORE_OBJ := $(filter-out $(B)/obj/cli/%,$(OBJ))

UNIT_TESTS := $(patsubst test/unit/%.c,$(B)/unit/%,$(wildcard test/unit/test_*.c))

.PHONY: all deps clean test unit integration run size size-check install bench \
	deb deb-all \
	version cross-deps \
	defconfig menuconfig savedefconfig lint fuzz faults FORCE

all: $(B)/wren

# --- dependencies -------------------------------------------------------------
DEPS_ARCH := $(if $(filter host custom,$(ARCH)),,$(ARCH))
deps:
	@board/deps.sh host $(DEPS_ARCH)

# A cross build checks its packages first (one dpkg-query when all are
# there): `make ARCH=mipsel` alone installs them as root, or prints the
# exact commands and stops.
cross-deps:
	@board/deps.sh host $(DEPS_ARCH)

$(SYSROOT)/usr/lib/$(TRIPLET)/libcdb.a: | cross-deps
	board/sysroot.sh $(ARCH) $(SYSROOT)

$(CROSS_INC)/cdb.h:
	@mkdir -p $(CROSS_INC)
	ln -sf /usr/include/bearssl.h /usr/include/bearssl /usr/include/cdb.h $(CROSS_INC)/

# --- build --------------------------------------------------------------------
# config.h: every bool of Kconfig as WREN_<NAME> 0/1 (so `#if WREN_IMAP`
# works whether or not the option is set), every int as CONFIG_<NAME>.
$(B)/config.h: $(B)/.config.full Kconfig | $(if $(TRIPLET),cross-deps)
	@awk 'FNR==NR { if ($$1 == "config") sym = $$2; \
		else if (sym != "" && ($$1 == "bool" || $$1 == "int")) { \
			type[sym] = $$1; order[++n] = sym; sym = "" } next } \
		/^CONFIG_[A-Z0-9_]*=/ { i = index($$0, "="); \
			val[substr($$0, 8, i - 8)] = substr($$0, i + 1) } \
		END { print "/* generated from $(KCONFIG_CONFIG) by make: do not edit */"; \
			for (k = 1; k <= n; k++) { s = order[k]; \
			if (type[s] == "bool") \
				print "#define WREN_" s " " (val[s] == "y" ? 1 : 0); \
			else if (s in val) \
				print "#define CONFIG_" s " " val[s] } }' \
		Kconfig $(B)/.config.full > $@.tmp
	@mv $@.tmp $@
	@echo "  GEN     $@"

# version.h is rewritten only when the version changes, so a new commit
# rebuilds main.o (and nothing else) and an unchanged tree rebuilds
# nothing.
$(B)/version.h: FORCE
	@mkdir -p $(B)
	@t=$@.tmp.$$$$; echo '#define WREN_VERSION "$(VERSION)"' > $$t; \
	if cmp -s $$t $@; then rm -f $$t; else mv $$t $@; \
		echo "  GEN     $@ ($(VERSION))"; fi
$(B)/obj/cli/main.o: $(B)/version.h

version:
	@echo $(VERSION)

CROSS_PREREQ := $(if $(TRIPLET),cross-deps $(SYSROOT)/usr/lib/$(TRIPLET)/libcdb.a \
	$(CROSS_INC)/cdb.h)

$(B)/obj/%.o: src/%.c $(B)/config.h | $(CROSS_PREREQ)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

# musl's printf family saves FPU registers: on an FPU-less MIPS router
# core every call would trap. A musl build must not link it at all.
$(B)/wren: $(OBJ) $(EXTRA_OBJ)
	@echo "  LD      $@"
	@$(CC) -o $@ $(OBJ) $(EXTRA_OBJ) $(LDFLAGS_ALL) $(LDLIBS)
	@if [ -n "$(TRIPLET)" ] && grep -q 'libc\.a(vfprintf\.lo)' $(B)/wren.map; then \
		echo "error: musl's vfprintf is linked in; who calls it:"; \
		grep -B1 -A1 'printf' $(B)/wren.map | grep 'libc.a' | head; \
		rm -f $@; exit 1; fi

$(B)/wren.stripped: $(B)/wren
	$(STRIP) -o $@ $<

-include $(OBJ:.o=.d)

# --- tests --------------------------------------------------------------------
# Unit tests link the core objects, built again with the sanitizers on
# the host (or with the glibc cross compiler and cmocka under QEMU).
UNIT_OBJ := $(CORE_OBJ:$(B)/obj/%.o=$(B)/unit/obj/%.o)

$(B)/unit/obj/%.o: src/%.c $(B)/config.h | $(CROSS_PREREQ)
	@mkdir -p $(dir $@)
	@$(UNIT_CC) -std=c99 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(UNIT_CFLAGS) $(WARN) -I$(B) -Isrc \
		-MMD -MP -c -o $@ $<

$(B)/unit/libcore.a: $(UNIT_OBJ)
	@rm -f $@
	@$(if $(TRIPLET),$(TRIPLET)-ar,ar) rcs $@ $^

$(B)/unit/test_%: test/unit/test_%.c test/unit/testutil.h $(B)/unit/libcore.a
	@echo "  CC      $<"
	@$(UNIT_CC) -std=c99 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(UNIT_CFLAGS) -Wall -Wextra -I$(B) \
		-Isrc -Itest/unit -o $@ $< $(B)/unit/libcore.a $(UNIT_LIBS)

-include $(UNIT_OBJ:.o=.d)

unit: $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do \
		echo "== $$t"; \
		WREN_TEST_DATA=$(CURDIR)/test/data WREN_QEMU="$(QEMU_UNIT)" \
			$(QEMU_UNIT) $$t || fail=1; \
	done; exit $$fail

PYTEST := /usr/bin/python3 -m pytest
integration: $(B)/wren
	WREN_BIN=$(CURDIR)/$(B)/wren WREN_RUN="$(QEMU)" WREN_ARCH=$(ARCH) \
		$(PYTEST) -q -p no:cacheprovider test/integration

test:
	@board/deps.sh host test $(DEPS_ARCH)
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

# --- benchmarks (figures, never pass/fail) ---------------------------------
BENCH_DIR ?= /var/tmp/wren-bench
# Benchmarks link the same optimised objects as the binary.
$(B)/bench/bench_%: test/bench/bench_%.c $(CORE_OBJ) $(EXTRA_OBJ)
	@mkdir -p $(dir $@)
	@$(CC) -std=c99 -D_GNU_SOURCE $(OPT) -I$(B) -Isrc $(EXTRA_INC) \
		-o $@ $< $(CORE_OBJ) $(EXTRA_OBJ) $(LDSTATIC) $(LDLIBS)

$(B)/bench/fsync_floor: test/bench/fsync_floor.c
	@mkdir -p $(dir $@)
	@$(CC) -O2 -o $@ $<

bench: $(B)/wren $(B)/bench/bench_map $(B)/bench/fsync_floor \
		$(B)/bench/bench_dkim
	@board/deps.sh host test
	@mkdir -p $(BENCH_DIR)
	@$(B)/bench/bench_map $(CURDIR)/$(B)/wren $(BENCH_DIR)
	@$(QEMU) $(B)/bench/bench_dkim test/data/dkim/rsa2048.pem
	@/usr/bin/python3 test/bench/bench_smtp.py $(CURDIR)/$(B)/wren \
		$(CURDIR)/$(B)/bench/fsync_floor $(BENCH_DIR)/smtp
	@/usr/bin/python3 test/bench/bench_inbound.py $(CURDIR)/$(B)/wren \
		$(BENCH_DIR)/inbound
	@/usr/bin/python3 test/bench/bench_tls.py $(CURDIR)/$(B)/wren \
		$(BENCH_DIR)/tls
	@/usr/bin/python3 test/bench/bench_imap.py $(CURDIR)/$(B)/wren \
		$(BENCH_DIR)/imap
	@/usr/bin/python3 test/bench/bench_condstore.py $(CURDIR)/$(B)/wren \
		$(BENCH_DIR)/condstore
	@/usr/bin/python3 test/bench/bench_imap_save.py $(CURDIR)/$(B)/wren \
		$(BENCH_DIR)/imap_save --floor $(CURDIR)/$(B)/bench/fsync_floor
	@/usr/bin/python3 test/bench/bench_outbound.py $(CURDIR)/$(B)/wren \
		$(BENCH_DIR)/outbound
	@/usr/bin/python3 test/bench/bench_load.py $(CURDIR)/$(B)/wren \
		$(BENCH_DIR)/load
	@/usr/bin/python3 test/bench/bench_junk.py $(CURDIR)/$(B)/wren \
		$(BENCH_DIR)/junk

# --- demo ---------------------------------------------------------------------
# board/demo.sh makes RUN_DIR's files (each written whole, then renamed)
# and a configuration from conf/demo.conf; PORT_BASE=N moves every port
# to N plus the standard one, to run beside another demo.
RUN_DIR ?= var
PORT_BASE ?=
run:
	@board/deps.sh host demo
	@$(MAKE) --no-print-directory ARCH=host SAN=0 all
	@board/demo.sh build/host/wren $(RUN_DIR) $(PORT_BASE)

# --- size ---------------------------------------------------------------------
size: $(B)/wren.stripped
	@board/size.sh $(B) $(wildcard build/*/wren)

# The budgets of README: armhf with every feature, and the smallest
# useful build (board/minimal).
# The goal for every feature is 450 KiB (460,800); the build is over
# it (README, "Size"), and this ceiling stops it growing further.
SIZE_BUDGET_ALL := 512000
SIZE_BUDGET_MIN := 307200
size-check:
	@$(MAKE) --no-print-directory ARCH=$(ARCH) B=build/$(ARCH)-all \
		DEFCONFIG=board/defconfig build/$(ARCH)-all/wren.stripped
	@$(MAKE) --no-print-directory ARCH=$(ARCH) B=build/$(ARCH)-minimal \
		DEFCONFIG=board/minimal/defconfig build/$(ARCH)-minimal/wren.stripped
	@board/size.sh --budget build/$(ARCH)-all/wren.stripped $(SIZE_BUDGET_ALL) \
		build/$(ARCH)-minimal/wren.stripped $(SIZE_BUDGET_MIN)

# --- Kconfig front ends -------------------------------------------------------
defconfig:
	KCONFIG_CONFIG=.config kconfig-conf --defconfig=board/defconfig Kconfig

%_defconfig: board/%/defconfig
	KCONFIG_CONFIG=.config kconfig-conf --defconfig=$< Kconfig

menuconfig:
	KCONFIG_CONFIG=.config kconfig-mconf Kconfig

savedefconfig:
	KCONFIG_CONFIG=.config kconfig-conf --savedefconfig=defconfig Kconfig

# --- checks -------------------------------------------------------------------
# No printf family (fmt.h says why), no #ifdef on feature flags (they
# are always defined, 0 or 1), an SPDX line in every file of src/ (LICENSE),
# man pages mandoc -Tlint clean.
lint:
	@bad=$$(grep -nE '\b(v?s?n?printf|v?fprintf|v?dprintf|syslog|vsyslog|strtod|atof|inet_ntop)\(' \
		$$(find src -name '*.c' -o -name '*.h') | grep -v '^src/core/fmt\.[ch]:' \
		| grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*)'); \
	if [ -n "$$bad" ]; then echo "lint: use fmt.h, not the printf family:"; \
		echo "$$bad"; exit 1; fi
	@feat=$$(awk '$$1 == "config" { printf "%s%s", sep, $$2; sep = "|" }' Kconfig); \
	bad=$$(grep -rnE "(#[[:space:]]*if(n)?def[[:space:]]+|defined[[:space:]]*\(?[[:space:]]*)WREN_($$feat)\b" src); \
	if [ -n "$$bad" ]; then echo "lint: test features with #if:"; \
		echo "$$bad"; exit 1; fi
	@bad=$$(awk 'FNR == 1 { prev = "" } \
		/^[[:space:]]*v?fmt\(/ && (prev == "" || \
		    prev ~ /([;{}:)]|\*\/|else)$$/ || prev ~ /^[[:space:]]*#/) { \
			print FILENAME ":" FNR ":" $$0 } \
		NF { prev = $$0; sub(/[[:space:]]+$$/, "", prev) }' \
		$$(find src -name '*.c' -o -name '*.h')); \
	if [ -n "$$bad" ]; then echo "lint: fmt() result unchecked" \
		"(check it against the size, or write (void)fmt( where a" \
		"cut text is fine):"; echo "$$bad"; exit 1; fi
	@board/spdx.sh src >/dev/null 2>&1 || { echo "lint: no SPDX line" \
		"(board/spdx.sh --fix adds it):"; board/spdx.sh src; exit 1; }
	@command -v mandoc >/dev/null || board/deps.sh host
	@# Cross references to pages of other packages (mail(1)) depend on
	@# what this machine has indexed: the one message left out.
	@bad=$$(mandoc -Tlint -W style man/*.[1-9] 2>&1 | grep -v \
		-e 'referenced manual not found' -e 'mandoc\.db'); \
	if [ -n "$$bad" ]; then echo "lint: mandoc -Tlint:"; \
		echo "$$bad"; exit 1; fi
	@echo "lint: ok"

FUZZ_RUNS ?= 20000
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
# The sans-I/O parsers and what they use; no event loop, no sockets.
FUZZ_LIB := $(filter-out src/core/conn.c src/core/ev.c src/core/listen.c \
	src/core/notify.c \
	src/core/connect.c,$(wildcard src/core/*.c)) \
	src/map/map_text.c src/map/map_edit.c $(wildcard src/msg/*.c) \
	src/smtp/smtp_parse.c \
	$(wildcard src/imap/imap_parse.c src/imap/imap_parse_args.c \
	    src/imap/imap_utf7.c \
	    src/imap/imap_pattern.c src/store/uidlist.c src/store/modseq.c \
	    src/store/hcache_fmt.c src/store/junk_db.c \
	    src/store/folder_name.c src/store/subs.c \
	    src/pop3/pop3_parse.c src/dns/dns_pkt.c src/dns/spf.c src/dns/spf_eval.c \
	    src/dns/dns_conf.c src/queue/envelope.c \
	    src/queue/maildrop.c src/queue/smtp_client.c src/queue/smtp_reply.c \
	    src/queue/control_parse.c src/compress/inflate.c \
	    src/compress/deflate.c src/http/http_parse.c src/acme/json.c \
	    src/acme/http_resp.c)
fuzz:
	@board/deps.sh host fuzz
	@$(MAKE) --no-print-directory $(B)/config.h
	@mkdir -p $(B)/fuzz
	@for f in $(FUZZ_SRC); do \
		n=$$(basename $$f .c); \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
			-I$(B) -Isrc -o $(B)/fuzz/$$n $$f \
			$(FUZZ_LIB) \
			|| exit 1; \
		mkdir -p $(B)/fuzz/$$n.corpus; \
		echo "== $$n ($(FUZZ_RUNS) runs)"; \
		$(B)/fuzz/$$n -runs=$(FUZZ_RUNS) -max_len=4096 \
			-artifact_prefix=$(B)/fuzz/ $(B)/fuzz/$$n.corpus \
			test/fuzz/corpus/$$n > $(B)/fuzz/$$n.log 2>&1; rc=$$?; \
		tail -n 2 $(B)/fuzz/$$n.log; [ $$rc -eq 0 ] || exit 1; \
	done

# --- fault injection -----------------------------------------------------------
# wren-faults: the same objects linked with test/faults/shim.c, which
# fails chosen write/fsync/syncfs/rename calls on demand (the binary is
# static: no LD_PRELOAD) and turns io_uring off, so the in-loop commit
# path is the one under test. `make faults` runs kill -9 rounds, a full
# file system (root: tmpfs and loop mounts) and injected EIO.
FAULT_WRAP := -Wl,--wrap=write,--wrap=copy_file_range,--wrap=fsync \
	-Wl,--wrap=fdatasync,--wrap=syncfs,--wrap=rename,--wrap=renameat \
	-Wl,--wrap=syscall

$(B)/faults/shim.o: test/faults/shim.c $(B)/config.h | $(CROSS_PREREQ)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(B)/wren-faults: $(OBJ) $(EXTRA_OBJ) $(B)/faults/shim.o
	@echo "  LD      $@"
	@$(CC) -o $@ $(OBJ) $(EXTRA_OBJ) $(B)/faults/shim.o $(LDSTATIC) \
		-Wl,--gc-sections $(OPT) $(LDFLAGS) $(FAULT_WRAP) $(LDLIBS)

faults: $(B)/wren $(B)/wren-faults
	@board/deps.sh host test $(DEPS_ARCH)
	WREN_BIN=$(CURDIR)/$(B)/wren WREN_FAULT_BIN=$(CURDIR)/$(B)/wren-faults \
		WREN_RUN="$(QEMU)" WREN_ARCH=$(ARCH) \
		$(PYTEST) -q -p no:cacheprovider test/faults

# --- install ------------------------------------------------------------------
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
MAN5 := $(wildcard man/*.5)
MAN8 := $(wildcard man/*.8)
install: $(B)/wren.stripped
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/wren
	install -m 0755 $(B)/wren.stripped $(DESTDIR)$(SBINDIR)/wren
	ln -sf wren $(DESTDIR)$(SBINDIR)/sendmail
	ln -sf wren $(DESTDIR)$(SBINDIR)/newaliases
	install -d -m 0755 $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib
	ln -sf ../sbin/wren $(DESTDIR)$(PREFIX)/bin/mailq
	ln -sf ../sbin/wren $(DESTDIR)$(PREFIX)/lib/sendmail
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/wren/wren.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/wren/wren.conf"; \
	else install -m 0644 conf/wren.conf $(DESTDIR)$(SYSCONFDIR)/wren/wren.conf; fi

# --- Debian package -----------------------------------------------------------
# dpkg-deb on a tree laid out by board/debian/mkdeb.sh (README there);
# the cross builds package their static musl binary.
DEBARCH_host = $(shell dpkg --print-architecture)
DEBARCH_armhf := armhf
DEBARCH_aarch64 := arm64
DEBARCH_mipsel := mipsel
deb: $(B)/wren.stripped
	@board/debian/mkdeb.sh $(B)/wren.stripped $(DEBARCH_$(ARCH)) \
		$(VERSION) $(B)

deb-all:
	@for a in host armhf aarch64 mipsel; do \
		$(MAKE) --no-print-directory ARCH=$$a deb || exit 1; done

clean:
	rm -rf build

$(B)/obj/compat/%.o: src/compat/%.c
	@mkdir -p $(dir $@)
	@$(CC) $(CFLAGS_ALL) -c -o $@ $<
