# Makefile - build, run and test the suite.
#
#   make            build everything
#   make demo       run every program, tutorial output first, then the extras
#   make demo-NAME  one section alone (basic, timing, reuse, shared, gil_sim)
#   make present    the same, one command at a time: Enter before each one
#   make test       build and run the bats tests (alias: make check)
#   make asan       the tests again under AddressSanitizer + UBSan
#   make tsan       the tests again under ThreadSanitizer
#   make valgrind   the demos and the pool tests under valgrind memcheck
#   make bench      the benchmarks
#   make compare    the suite's claims about Python, checked against python3
#   make lint       shellcheck on the scripts, cppcheck on the C
#   make clean
#
# CC, CFLAGS and LDFLAGS are yours to override; make -j works.

LIBS  := common pool
PROGS := basic timing reuse shared gil_sim
TOOLS := tests bench compare
DIRS  := $(LIBS) $(PROGS) $(TOOLS)

# Every bats run is bounded: a hung test fails instead of hanging CI.
TEST_TIMEOUT ?= 900
BATS         ?= bats
BATS_FLAGS   ?= --print-output-on-failure

# Sanitizer reports go to files, never into a test's output, and any file
# found after the run fails the target: a report cannot go unnoticed. The
# reports are looked for even when a test failed.
SANLOG := $(CURDIR)/.sanitizer-logs

# valgrind writes one log per process, workers included (their exit status
# is not ours to see), and any log whose summary counts an error fails. A
# worker the tests kill with SIGKILL leaves a log with no summary at all.
VGLOG    := $(CURDIR)/.valgrind-logs
VALGRIND := valgrind --log-file=$(VGLOG)/%p.log --error-exitcode=99 \
            --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect

# One target a folder, build-NAME (a bare NAME would clash with `bench`).
all: $(DIRS:%=build-%)

$(DIRS:%=build-%): build-%:
	+$(MAKE) -C $*

$(addprefix build-,$(PROGS) $(TOOLS)): $(LIBS:%=build-%)

# The demo shows the programs only: the build is quiet (its output appears
# only when it fails), and every line fits in 80 columns.
quiet-build:
	@echo "building..."
	@log=$$(mktemp) && \
	if $(MAKE) -s --no-print-directory all >"$$log" 2>&1; then rm -f "$$log"; \
	else cat "$$log"; rm -f "$$log"; exit 1; fi

demo: quiet-build
	@for d in $(PROGS); do $(MAKE) -s --no-print-directory -C $$d demo || exit 1; done

# One section alone, for a class: make demo-basic, ..., make demo-gil_sim.
# (make -C basic demo works too, but make itself then prints the folder it
# enters and leaves, a long path on a projector.)
$(PROGS:%=demo-%): demo-%: quiet-build
	@$(MAKE) -s --no-print-directory -C $* demo

# present: the demo paced for a class. When stdin is a terminal, wait for
# Enter before each command (common/present.sh), so that each screen holds
# one command and what it printed; q, Q or quit stop. Otherwise run
# straight on, as make demo.
present: quiet-build
	@stop=$$(mktemp -u); trap 'rm -f "$$stop"' EXIT; \
	for d in $(PROGS); do [ -e "$$stop" ] && break; \
	    $(MAKE) -s --no-print-directory -C $$d demo PRESENT="$$stop" || exit 1; done

test: all
	timeout $(TEST_TIMEOUT) $(BATS) $(BATS_FLAGS) tests

check: test

asan:
	rm -rf $(SANLOG) && mkdir -p $(SANLOG)
	ASAN_OPTIONS=log_path=$(SANLOG)/asan:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$(SANLOG)/ubsan:print_stacktrace=1:halt_on_error=1 \
	$(MAKE) SANITIZE=address,undefined test; status=$$?; \
	$(MAKE) -s sanlog-empty && exit $$status

tsan:
	rm -rf $(SANLOG) && mkdir -p $(SANLOG)
	TSAN_OPTIONS=log_path=$(SANLOG)/tsan:halt_on_error=1 \
	$(MAKE) SANITIZE=thread test; status=$$?; \
	$(MAKE) -s sanlog-empty && exit $$status

sanlog-empty:
	@if [ -n "$$(ls -A $(SANLOG))" ]; then \
	    echo "sanitizer reports:"; cat $(SANLOG)/*; exit 1; fi
	@echo "sanitizer: no reports"

valgrind: all
	rm -rf $(VGLOG) && mkdir -p $(VGLOG)
	@for d in $(PROGS) bench; do \
	    $(MAKE) -s --no-print-directory -C $$d demo RUN='$(VALGRIND)' || exit 1; done
	timeout $(TEST_TIMEOUT) $(VALGRIND) tests/pool_test all
	@# spawn and forkserver workers are fresh images: without
	@# --trace-children they would run outside valgrind, unchecked.
	timeout $(TEST_TIMEOUT) $(VALGRIND) --trace-children=yes tests/start_test all
	@bad=$$(grep -l 'ERROR SUMMARY: [1-9]' $(VGLOG)/*.log); \
	if [ -n "$$bad" ]; then echo "valgrind found errors:"; cat $$bad; exit 1; fi
	@echo "valgrind: $$(ls $(VGLOG) | wc -l) processes checked, no errors"

bench: all
	+$(MAKE) -C bench run

# Our Python programs beside the C ones (compare/README.md).
compare: all
	+$(MAKE) --no-print-directory -C compare run
.PHONY: compare

# cppcheck 2.10 does not read C11's _Noreturn, so it would follow a NULL past
# `if (!p) die(...)`; spelled as the GNU attribute, which it does read, die()
# and friends end the path as they end the program. No check is suppressed.
lint:
	shellcheck -x .ci/run tests/*.bash
	shellcheck -x -s bash tests/*.bats
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
	    --inline-suppr '-D_Noreturn=__attribute__((noreturn))' -Ipool -Icommon \
	    $(LIBS) $(PROGS) $(TOOLS)

clean:
	for d in $(DIRS); do $(MAKE) -C $$d clean || exit 1; done
	rm -rf $(SANLOG) $(VGLOG)

.PHONY: all $(DIRS:%=build-%) quiet-build demo $(PROGS:%=demo-%) present test check asan tsan sanlog-empty valgrind bench lint clean
