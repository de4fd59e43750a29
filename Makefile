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

# `make bench`: speed of the benchmark architectures (see `lemonade bench --help`).
.PHONY: all test run bench deps-run deps-test install uninstall clean check-mpi

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
	$(MAKE) lemonade tests/run_unit
	bash tests/run_all.sh

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
