# lemonade - multi-objective neural architecture search in C.
# `make` builds ./lemonade; `make test` installs what is missing, builds and
# runs every test; `make run` installs what is missing and runs the search.
# `make MPI=1` builds ./lemonade with MPI (mpicc, objects in build-mpi/);
# `make check-mpi` builds tests/lemonade-mpi that way and runs the MPI tests.

CC      ?= gcc
CFLAGS  ?= -O3 -march=native
PREFIX  ?= /usr/local
DESTDIR ?=

PKGS      := libcjson zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcjson -lz)

ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Iinclude $(PKG_CFLAGS) $(CFLAGS)
LDLIBS     := $(PKG_LIBS) -lm -lpthread

BIN   ?= lemonade
BUILD ?= build
ifeq ($(MPI),1)
CC         := mpicc
ALL_CFLAGS += -DLEMONADE_MPI
ifeq ($(BUILD),build)
BUILD      := build-mpi
endif
endif
LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%.o)

RUN_DEPS  := libcjson-dev zlib1g-dev dataset-fashion-mnist pkg-config
TEST_DEPS := libcjson-dev zlib1g-dev pkg-config jq libxml2-utils groff-base dataset-fashion-mnist

FUZZ_NAMES   := idx model genfile
FUZZ_SECONDS ?= 60

# `make bench`: speed of the benchmark architectures (see `lemonade bench --help`).
.PHONY: all test run bench deps-run deps-test deps-check install uninstall clean check-asan check-valgrind fuzz cppcheck \
        check-mpi

all: $(BIN)

# Relink when the same binary is built with or without MPI=1.
FLAVOUR := $(if $(filter 1,$(MPI)),mpi,default)
STAMP   := build/$(notdir $(BIN)).flavour
$(shell mkdir -p build/tests $(BUILD)/tests; [ "$$(cat $(STAMP) 2>/dev/null)" = "$(FLAVOUR)" ] || echo $(FLAVOUR) > $(STAMP))

$(BIN): $(BUILD)/main.o $(LIB_OBJ) $(STAMP)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

# The AVX-512 kernels get their own target flags whatever CFLAGS says, so
# the program builds (and falls back to the reference) on any x86-64.
AVX512_FLAGS := -mavx512f -mavx512vl -mavx512bw -mavx512dq -mfma
$(BUILD)/kernels_avx512.o: ALL_CFLAGS += $(AVX512_FLAGS)

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -Itests -MMD -MP -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)/tests

tests/run_unit: $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# The same programs inside a build directory, for the variant builds below
# (each its own BUILD, CC and CFLAGS, so they never mix with the default).
$(BUILD)/lemonade: $(BUILD)/main.o $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/run_unit: $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# A fuzz harness run on files (seed corpus + regressions), no libFuzzer.
$(BUILD)/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# A libFuzzer binary (only in the fuzz build: CFLAGS has fuzzer-no-link).
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# Install missing Debian packages (apt-get, through sudo unless root).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
endef

deps-run:
	$(call apt_install,$(RUN_DEPS))

deps-test:
	$(call apt_install,$(TEST_DEPS))

test: deps-test
	$(MAKE) lemonade tests/run_unit $(FUZZ_NAMES:%=$(BUILD)/replay_%)
	bash tests/run_all.sh

# ---- robustness: sanitizers, valgrind, fuzzing, static analysis ----------
CHECK_DEPS := clang libclang-rt-14-dev valgrind cppcheck
SAN_FLAGS  := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_ENV   := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

deps-check:
	$(call apt_install,$(TEST_DEPS) $(CHECK_DEPS))

# The whole test suite on a clang ASan+UBSan build in build/asan.
check-asan: deps-check
	$(MAKE) BUILD=build/asan CC=clang CFLAGS="$(SAN_FLAGS)" build/asan/lemonade build/asan/run_unit \
	    $(FUZZ_NAMES:%=build/asan/replay_%)
	$(ASAN_ENV) LEMONADE=build/asan/lemonade RUN_UNIT=build/asan/run_unit BUILD_DIR=build/asan \
	    TEST_TMP=build/asan/tmp bash tests/run_all.sh

# A short search on the fixture under memcheck: no errors, no leaks. Built
# without -march=native (valgrind does not know AVX-512).
VG_RUN := build/valgrind/run
check-valgrind: deps-check
	$(MAKE) BUILD=build/valgrind CFLAGS="-O2 -g" build/valgrind/lemonade
	rm -rf $(VG_RUN)
	valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
	    --error-exitcode=1 build/valgrind/lemonade --data data/fixture --gens 1 --accept 2 --epochs 1 \
	    --filters 4 --train-limit 64 --val-limit 32 --threads 1 --out $(VG_RUN) --quiet
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
	    build/valgrind/lemonade --resume $(VG_RUN) --gens 2 --threads 2 --quiet
	@echo "check-valgrind: search and resume clean (no memcheck errors, no leaks)"

# Each libFuzzer harness for FUZZ_SECONDS from its committed seed corpus
# (tests/fuzz/corpus/NAME; new finds go to build/fuzz/corpus/NAME). A crash
# fails the target and leaves its input in build/fuzz/: fix the bug and keep
# the input in tests/fuzz/regress/NAME/, which `make test` replays.
fuzz: deps-check
	$(MAKE) BUILD=build/fuzz CC=clang CFLAGS="$(SAN_FLAGS) -fsanitize=fuzzer-no-link" $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
	@for h in $(FUZZ_NAMES); do \
	  mkdir -p build/fuzz/corpus/$$h; \
	  echo "fuzz_$$h: $(FUZZ_SECONDS) s"; \
	  $(ASAN_ENV) build/fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
	    -dict=tests/fuzz/fuzz.dict -artifact_prefix=build/fuzz/crash-$$h- \
	    build/fuzz/corpus/$$h tests/fuzz/corpus/$$h tests/fuzz/regress/$$h >build/fuzz/$$h.log 2>&1; st=$$?; \
	  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE' build/fuzz/$$h.log; \
	  if [ $$st -ne 0 ]; then tail -40 build/fuzz/$$h.log; echo "fuzz_$$h FAILED"; exit 1; fi; \
	done; echo "fuzz: all harnesses ran $(FUZZ_SECONDS) s without a crash"

# Static analysis of src/ (suppressions are justified in cppcheck.supp), for
# the configuration we build: x86-64, little-endian (without these cppcheck
# takes the #error / non-x86 branches and skips or misreads those files).
CPPCHECK_TARGET := -D__x86_64__ -D__ORDER_LITTLE_ENDIAN__=1234 -D__BYTE_ORDER__=1234
cppcheck: deps-check
	cppcheck --std=c11 $(CPPCHECK_TARGET) --enable=warning,style,portability,performance --error-exitcode=1 --inline-suppr \
	    --suppressions-list=cppcheck.supp -Iinclude -q src

# MPI tests: an MPI build beside the default one, then tests/mpi_search.sh.
check-mpi: deps-test
	$(MAKE) lemonade
	$(MAKE) MPI=1 BIN=tests/lemonade-mpi tests/lemonade-mpi
	bash tests/mpi_search.sh

run: deps-run
	$(MAKE) lemonade
	./lemonade --gens 20 --accept 20 --epochs 5

bench: lemonade
	./lemonade bench

install: lemonade
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 lemonade $(DESTDIR)$(PREFIX)/bin/lemonade
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 lemonade.1 $(DESTDIR)$(PREFIX)/share/man/man1/lemonade.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/lemonade $(DESTDIR)$(PREFIX)/share/man/man1/lemonade.1

clean:
	rm -rf build build-mpi lemonade tests/run_unit tests/lemonade-mpi

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)
