# Flat Makefile: src/common -> libp2p.a; src/serve -> libp2pserve.a (the
# chunk server, for the programs that serve chunks); src/<prog>/*.cc ->
# ./<prog>; test/unit + test/integration -> two Catch2 binaries sharing one
# main.
#
#   make                 build every program whose sources exist
#   make test            unit tests, then integration tests (real processes)
#   make test SANITIZE=address,undefined
#   make demo | bench | bench-index | bench-peer | bench-swarm | fuzz | install | clean

CXX      ?= g++
PREFIX   ?= /usr/local
DESTDIR  ?=
# systemd's own search path has a directory under /usr/local too.
UNITDIR  ?= $(PREFIX)/lib/systemd/system
SANITIZE ?=

WARN     := -Wall -Wextra -Wpedantic -Werror
# Sanitized builds are for finding bugs, not speed: -O1 compiles faster.
OPT      := $(if $(SANITIZE),-O1,-O2) -g
SANFLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
BUILD    ?= build$(if $(SANITIZE),-san)
# Sanitized binaries stay out of the top of the tree so they never replace
# the ones users run.
BINDIR   ?= $(if $(SANITIZE),$(BUILD)/bin,.)

PKGS     := libevent libevent_pthreads libsodium hiredis
# Recursive (=) so they are evaluated after `deps` has run on a fresh machine.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CPPFLAGS := -Iinclude -Isrc -MMD -MP
CXXFLAGS := -std=c++20 $(OPT) $(WARN) $(SANFLAGS)
LDFLAGS  := $(SANFLAGS)
LDLIBS   := -lpthread

CATCH_HEADER := /usr/include/catch2/catch.hpp
DEPS_OK := $(shell command -v pkg-config >/dev/null 2>&1 && \
             pkg-config --exists $(PKGS) 2>/dev/null && \
             test -f $(CATCH_HEADER) && command -v groff >/dev/null 2>&1 && \
             command -v python3 >/dev/null 2>&1 && \
             command -v redis-server >/dev/null 2>&1 && echo yes)
DEPS_STEP := $(if $(DEPS_OK),,deps)

COMMON_SRC := $(wildcard src/common/*.cc)
COMMON_OBJ := $(COMMON_SRC:%.cc=$(BUILD)/%.o)
LIBP2P     := $(BUILD)/libp2p.a
SERVE_SRC  := $(wildcard src/serve/*.cc)
SERVE_OBJ  := $(SERVE_SRC:%.cc=$(BUILD)/%.o)
LIBSERVE   := $(BUILD)/libp2pserve.a
# Source folders that are libraries, not programs (no main.cc).
LIB_DIRS   := common serve
# Programs that link the chunk server.
SERVE_USERS := peerd p2pget

ALL_PROGS := $(sort $(patsubst src/%/main.cc,%,$(wildcard src/*/main.cc)))
# PROGS=indexd builds and tests one program alone (its tests are named
# test/*/PROG-*.cc; the rest are common).
PROGS ?= $(ALL_PROGS)
OTHER_PROGS := $(filter-out $(PROGS) $(LIB_DIRS),$(notdir $(wildcard src/*)))
only_ours = $(filter-out $(foreach p,$(OTHER_PROGS),test/$(1)/$(p)-%),$(wildcard test/$(1)/*.cc))
BINS  := $(PROGS:%=$(BINDIR)/%)

# Per-program objects except main.o go into a per-program archive, so unit
# tests can link the pure modules (options, chunk-plan, peer-table...).
define prog_rules
$(1)_SRC := $$(wildcard src/$(1)/*.cc)
$(1)_OBJ := $$($(1)_SRC:%.cc=$(BUILD)/%.o)
$(1)_LIB := $(BUILD)/lib$(1).a
$(1)_LINK := $$($(1)_LIB) $$(if $$(filter $(1),$(SERVE_USERS)),$(LIBSERVE)) $(LIBP2P)
$$($(1)_LIB): $$(filter-out %/main.o,$$($(1)_OBJ))
	@rm -f $$@
	ar rcs $$@ $$^
$(BINDIR)/$(1): $(BUILD)/src/$(1)/main.o $$($(1)_LINK)
	@mkdir -p $$(@D)
	$$(CXX) $$(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS) $$(LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rules,$(p))))
PROG_LIBS := $(PROGS:%=$(BUILD)/lib%.a)

UNIT_SRC  := $(call only_ours,unit)
UNIT_OBJ  := $(UNIT_SRC:%.cc=$(BUILD)/%.o)
INTEG_SRC := $(call only_ours,integration)
INTEG_OBJ := $(INTEG_SRC:%.cc=$(BUILD)/%.o)
CATCH_MAIN := $(BUILD)/test/catch-main.o
UNIT_BIN  := $(BUILD)/unit-tests
INTEG_BIN := $(BUILD)/integration-tests

TOOL_SRC := $(wildcard tools/*.cc)
TOOL_BIN := $(TOOL_SRC:tools/%.cc=$(BUILD)/tools/%)

ALL_OBJ := $(COMMON_OBJ) $(SERVE_OBJ) $(foreach p,$(PROGS),$($(p)_OBJ)) $(UNIT_OBJ) $(INTEG_OBJ) $(CATCH_MAIN)

.PHONY: all deps lint test unit integration demo bench bench-index bench-peer bench-swarm fuzz install clean FORCE
.DEFAULT_GOAL := all

all: $(BINS) $(TOOL_BIN)

deps:
	@tools/install-deps.sh

$(ALL_OBJ) $(TOOL_BIN): | $(DEPS_STEP)

$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(PKG_CFLAGS) $(CXXFLAGS) -c -o $@ $<

# GCC 12 under the sanitizers warns falsely inside libstdc++'s regex, which
# Catch2's main uses; our own files keep every warning.
$(CATCH_MAIN): test/catch-main.cc
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -Wno-maybe-uninitialized -c -o $@ $<

$(LIBP2P): $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBSERVE): $(SERVE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tools/%: tools/%.cc $(LIBP2P)
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(PKG_CFLAGS) $(CXXFLAGS) $(LDFLAGS) -o $@ $< $(LIBP2P) $(PKG_LIBS) $(LDLIBS)

# What each test binary is linked from, in a file rewritten only when it
# changes: another PROGS relinks them with only that program's tests.
UNIT_LINK  := $(CATCH_MAIN) $(UNIT_OBJ) $(PROG_LIBS) $(LIBSERVE) $(LIBP2P)
# indexd's store runs in-process against a real redis-server in one test.
INTEG_LINK := $(CATCH_MAIN) $(INTEG_OBJ) $(filter %/libindexd.a,$(PROG_LIBS)) $(LIBSERVE) $(LIBP2P)
$(BUILD)/unit-tests.inputs $(BUILD)/integration-tests.inputs: FORCE
	@mkdir -p $(@D)
	@echo '$(if $(findstring unit,$(@F)),$(UNIT_LINK),$(INTEG_LINK))' | cmp -s - $@ || \
	  echo '$(if $(findstring unit,$(@F)),$(UNIT_LINK),$(INTEG_LINK))' >$@

# Tests of the chunk server library (test/*/serve-*.cc) are common: they
# run whatever PROGS says.
$(UNIT_BIN): $(UNIT_LINK) $(BUILD)/unit-tests.inputs
	$(CXX) $(LDFLAGS) -o $@ $(UNIT_LINK) $(PKG_LIBS) $(LDLIBS)

$(INTEG_BIN): $(INTEG_LINK) $(BUILD)/integration-tests.inputs
	$(CXX) $(LDFLAGS) -o $@ $(INTEG_LINK) $(PKG_LIBS) $(LDLIBS)

lint: | $(DEPS_STEP)
	tools/lint.sh

unit: $(UNIT_BIN)
	$(UNIT_BIN)

# Integration tests find the programs under test through P2P_BIN_DIR.
integration: $(INTEG_BIN) $(BINS) $(TOOL_BIN)
	P2P_BIN_DIR=$(abspath $(BINDIR)) P2P_TOOL_DIR=$(abspath $(BUILD)/tools) \
	  P2P_SANITIZED=$(SANITIZE) $(INTEG_BIN)

# The lint (man pages under groff -ww, functions under 60 lines), then the
# unit tests, then the integration tests, in SHARDS processes at once
# (default 3; SHARDS=1 runs them one after another).
test: $(UNIT_BIN) $(INTEG_BIN) $(BINS) $(TOOL_BIN)
	tools/lint.sh
	$(UNIT_BIN)
	P2P_BIN_DIR=$(abspath $(BINDIR)) P2P_TOOL_DIR=$(abspath $(BUILD)/tools) \
	  P2P_SANITIZED=$(SANITIZE) tools/test-shards.sh $(INTEG_BIN)
	# The indexd suite again, with the index in Redis (indexd --store redis://).
	P2P_BIN_DIR=$(abspath $(BINDIR)) P2P_TOOL_DIR=$(abspath $(BUILD)/tools) \
	  P2P_SANITIZED=$(SANITIZE) P2P_TEST_STORE=redis tools/test-shards.sh $(INTEG_BIN) "[indexd]"

demo: all
	tools/demo.sh

# STORE=redis adds indexd on Redis (one, and two on one Redis).
bench-index: all
	STORE=$(STORE) tools/bench-index.sh

bench-peer: all
	tools/bench-peer.sh

bench: all
	tools/bench.sh

# Root only (network namespaces, tc); says why it skips otherwise.
# HOSTS= SIZE_MIB= RATE_MBIT= RUNS= come through the environment.
bench-swarm: all
	python3 tools/bench-swarm.py

fuzz:
	tools/fuzz.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 644 $(wildcard man/*.8) $(DESTDIR)$(PREFIX)/share/man/man8
	install -d $(DESTDIR)$(UNITDIR)
	for u in tools/systemd/*.service; do \
	  sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@UNITDIR@|$(UNITDIR)|g' "$$u" \
	    > $(DESTDIR)$(UNITDIR)/$$(basename "$$u") && chmod 644 $(DESTDIR)$(UNITDIR)/$$(basename "$$u"); \
	done

clean:
	rm -rf build build-san $(PROGS:%=./%)

-include $(ALL_OBJ:.o=.d) $(TOOL_BIN:=.d)
