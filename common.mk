# common.mk - the build flags in one place; every folder's Makefile includes it.
#
# Override from the command line as usual:  make CC=clang CFLAGS='-O0 -g'
# SANITIZE=address,undefined or SANITIZE=thread builds instrumented binaries
# (make asan / make tsan set it). Objects record the flags they were built with
# in .flags, so switching between plain and sanitized builds rebuilds what is
# needed and nothing else.

.DEFAULT_GOAL := all

CC       ?= cc
CFLAGS   ?= -O2 -g
LDFLAGS  ?=
SANITIZE ?=
# POOL_FAST=0 builds the pool's core alone, without its fast layer
# (pool/Makefile); exported, so that the tests know which build they test.
POOL_FAST ?= 1
export POOL_FAST

WARN     := -std=c11 -Wall -Wextra -pedantic -Werror
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -I$(ROOT)/pool -I$(ROOT)/common
SANFLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer)

ALL_CFLAGS  = $(WARN) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -pthread -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS) -pthread

LIBPOOL   := $(ROOT)/pool/libpool.a
LIBCOMMON := $(ROOT)/common/libcommon.a

# Rewritten only when the flags change, so make rebuilds on a change of flags.
FLAGS_NOW := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) POOL_FAST=$(POOL_FAST)
.flags: FORCE
	@printf '%s\n' '$(FLAGS_NOW)' | cmp -s - $@ || printf '%s\n' '$(FLAGS_NOW)' > $@

%.o: %.c .flags
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The two libraries are built on demand, so that `make -C basic demo` works
# on a fresh clone; their own Makefiles decide whether anything is stale.
$(LIBPOOL): FORCE
	@$(MAKE) -s --no-print-directory -C $(ROOT)/pool
$(LIBCOMMON): FORCE
	@$(MAKE) -s --no-print-directory -C $(ROOT)/common

# A program: its own objects, then the common helpers and the pool (in that
# order: the helpers call the pool).
# Usage in a folder's Makefile:  $(eval $(call program,basic,basic.o))
define program
$(1): $(2) $$(LIBCOMMON) $$(LIBPOOL)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $(2) $$(LIBCOMMON) $$(LIBPOOL) $$(LDLIBS) -lm
endef

# RUN prefixes every command a demo runs: make valgrind sets it to valgrind.
RUN ?=

# $(call show,COMMAND,COMMENT): print "$ COMMAND    # COMMENT", the command
# as typed from the project root, then run it there. (No commas in either.)
# Under make present (PRESENT=STOPFILE), wait for Enter first
# (common/present.sh), so that each command's output starts a screen of
# its own; once the class said stop, skip it.
show = if $(if $(PRESENT),$(ROOT)/common/present.sh '$(PRESENT)',true); then \
       printf '$$ %s%b\n' '$(strip $(1))' '$(if $(2),    \043 $(strip $(2)))' && \
       (cd $(ROOT) && $(RUN) $(1)); fi

# Build quietly for a demo: a class sees the programs, not the compiler.
# A failed build still shows everything it printed.
quiet-build:
	@log=$$(mktemp) && \
	if $(MAKE) -s --no-print-directory all >"$$log" 2>&1; then rm -f "$$log"; \
	else cat "$$log"; rm -f "$$log"; exit 1; fi

.PHONY: FORCE quiet-build
FORCE:

-include $(wildcard *.d)
