# smtptrace build: `make`, `make run`, `make test`, `make asan`, `make deps`.
CC      ?= cc
PKGS    := libpcap sqlite3 libndpi
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN    := -Wall -Wextra -Werror -Wvla -Wshadow -Wformat=2
OPT     ?= -O2 -g
CFLAGS  ?=
ALL_CFLAGS = $(CSTD) $(WARN) $(OPT) $(CFLAGS) -pthread -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lpcap -lsqlite3 -lndpi -lm) -lgcrypt

BUILD   ?= build
LIB_SRC := $(sort $(wildcard capture/*.c dissect/*.c store/*.c))
CLI_SRC := $(sort $(wildcard cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

DEB_PKGS := build-essential pkg-config libpcap-dev libndpi-dev libsqlite3-dev libcmocka-dev \
            libgcrypt20-dev sqlite3 clang libclang-rt-14-dev python3 time
# What the tests use besides: peers to compare with, real mail software, a browser for the report.
DEB_TEST_PKGS := tshark tcpdump python3-aiosmtpd chromium groff-base

PHONY_EXTRA := build-deps install-packages
.PHONY: $(PHONY_EXTRA) all deps run test unit asan tsan fuzz fuzz-build fuzz-fast-build bench install clean samples golden-update
all: smtptrace

smtptrace: $(LIB_OBJ) $(CLI_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS) -lcmocka

# Installs the Debian packages that are missing; as non-root prints the apt-get line and fails.
# deps: everything to build and test; build-deps: what `make run` needs.
deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEB_PKGS) $(DEB_TEST_PKGS)"

build-deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEB_PKGS)"

install-packages:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	else \
	  echo "missing packages; run as root: apt-get install -y$$missing" >&2; exit 1; \
	fi

run: build-deps
	@$(MAKE) --no-print-directory smtptrace
	@rm -f samples.db samples.db-wal samples.db-shm
	./smtptrace read -d samples.db samples/*.pcap*
	@echo; echo "== smtptrace query -d samples.db findings"; ./smtptrace query -d samples.db findings
	@echo; echo "== smtptrace query -d samples.db servers"; ./smtptrace query -d samples.db servers
	@echo; echo "Next: ./smtptrace show -d samples.db N   (one session's transcript, findings and summary)"

unit: $(UNIT_BIN)

test: deps
	@$(MAKE) --no-print-directory smtptrace unit
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/run_all.sh

# Sanitizer build in its own tree: build-asan/smtptrace.
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CC=clang \
	  OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  build-asan/smtptrace build-asan/unit

# ThreadSanitizer build: the store's writer thread beside the parsing thread (tests/run_all.sh).
tsan:
	@$(MAKE) --no-print-directory BUILD=build-tsan CC=clang OPT="-O1 -g -fsanitize=thread" \
	  build-tsan/smtptrace build-tsan/tests/test_store

build-tsan/smtptrace: $(LIB_OBJ) $(CLI_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

build-asan/smtptrace: $(LIB_OBJ) $(CLI_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

build-asan/unit: $(UNIT_BIN)
	@touch $@

# libFuzzer targets (clang + libclang-rt-14-dev): build-fuzz/fuzz_*. `make fuzz FUZZ_SECONDS=N` runs each.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_smtp_parser fuzz_decode fuzz_pipeline
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	  OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  $(FUZZ_TARGETS:%=build-fuzz/%)

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_OBJ) $(BUILD)/cli/pipeline.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# Throughput build for the long runs: UBSan only. ASan's allocator bounds the pipeline target at a few
# hundred runs/s; the corpus a long run grows is replayed afterwards under the ASan build above.
fuzz-fast-build:
	@$(MAKE) --no-print-directory BUILD=build-fuzz-fast CC=clang \
	  OPT="-O2 -g -fsanitize=fuzzer-no-link,undefined -fno-sanitize-recover=all" \
	  $(FUZZ_TARGETS:%=build-fuzz-fast/%)

build-fuzz-fast/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_OBJ) $(BUILD)/cli/pipeline.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: deps fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# Rewrites tests/golden/*.txt from the current binary; review the diff before committing.
golden-update: smtptrace
	@sh tests/golden/update.sh

samples:
	@sh samples/make-samples.sh

# Side-by-side timing against cat, tcpdump and tshark on generated captures (bench/README.md).
bench: deps smtptrace
	@sh bench/run.sh

PREFIX ?= /usr/local
install: smtptrace
	install -D -m 755 smtptrace $(DESTDIR)$(PREFIX)/bin/smtptrace
	install -D -m 644 smtptrace.1 $(DESTDIR)$(PREFIX)/share/man/man1/smtptrace.1

clean:
	rm -rf build build-asan build-tsan build-fuzz build-fuzz-fast smtptrace
