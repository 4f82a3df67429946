# gobrs — build, test, bench, demo. `make demo` and `make test` are the
# contract with a new user (README.md).

GO      ?= go
PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
BUILD   := build
LIB     := $(BUILD)/libbrs.so
GOSRC   := $(shell find core capi \( -name '*.go' -o -name '*.c' -o -name '*.h' \) -not -name '*_test.go' 2>/dev/null) go.mod go.sum
CFLAGS  ?= -O1 -g -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE
CXX     ?= g++
CXXFLAGS ?= -O1 -g -Wall -Wextra -Werror -pedantic
VALGRIND ?= valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-origins=yes -q \
            --suppressions=tests/c/valgrind.supp
# A C test that runs longer than this (under valgrind) is a hang.
CTEST_TIMEOUT ?= 600
# Short fuzz runs count executions, not seconds: a timed -fuzztime can end
# with Go's "context deadline exceeded" on a loaded machine, a failure of
# the fuzzing harness, not of the code.
FUZZTIME ?= 3000x

.PHONY: all lib venv install test test-go test-c test-c-asan test-python example-c fuzz fuzz-short demo bench clean

all: lib

lib: $(LIB)

$(LIB): $(GOSRC) include/brs.h
	@mkdir -p $(BUILD)
	$(GO) build -trimpath -buildmode=c-shared -o $(LIB) ./capi
	rm -f $(BUILD)/libbrs.h
	cp include/brs.h $(BUILD)/brs.h

# The virtualenv holds the test and demo dependencies; gobrs itself is
# installed by `pip install .`, which builds libbrs.so with Go.
$(VENV)/.deps: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.deps

# `pip install .` builds libbrs.so with Go by itself (setup.py); here it
# ships the one `make lib` built, so Go links it once.
$(VENV)/.installed: $(VENV)/.deps $(LIB) pyproject.toml setup.py $(shell find python -name '*.py' -o -name '*.typed')
	GOBRS_PREBUILT_LIBRARY=$(abspath $(LIB)) $(PY) -m pip install -q --no-deps --no-build-isolation --force-reinstall .
	touch $@

install: $(VENV)/.installed

test: test-go test-c test-python

# MOTO_PYTHON: a python with moto[server], for the Go and C tests that run
# STS against a local moto server (core/sts_moto_test.go, tests/c/test_sts.c).
test-go: $(VENV)/.deps
	$(GO) vet ./...
	MOTO_PYTHON=$(abspath $(PY)) $(GO) test -race -count=1 ./...
	$(MAKE) fuzz-short

# Short fuzz runs inside `make test`; `make fuzz` (or FUZZTIME=5m) runs longer.
FUZZ_TARGETS := $(shell grep -ho '^func Fuzz[A-Za-z0-9_]*' core/*_test.go 2>/dev/null | sed 's/^func //')
fuzz-short:
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $$t ($(FUZZTIME))"; \
	  $(GO) test ./core -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

fuzz:
	$(MAKE) fuzz-short FUZZTIME=$(if $(filter 3000x,$(FUZZTIME)),2m,$(FUZZTIME))

# The C tests run under valgrind memcheck against a second build of the
# library made for it: Go's `-tags valgrind` describes goroutine stacks and
# the Go heap to memcheck, DWARF 4 is what valgrind 3.19 reads, and
# tests/c/valgrind.supp silences the Go runtime's own memory (see there).
# The test binaries use RUNPATH, so LD_LIBRARY_PATH picks that build.
# GOGC=off: once the Go GC reuses a tiny block, memcheck sees two live
# "malloc-like" Go blocks at one address and aborts its leak check
# ("the 'impossible' happened"); without collection nothing is reused.
VGLIB   := $(BUILD)/valgrind/libbrs.so
C_TESTS := $(patsubst tests/c/%.c,$(BUILD)/tests/%,$(wildcard tests/c/test_*.c))
C_LINK  := -L$(BUILD) -lbrs -lpthread -Wl,--enable-new-dtags,-rpath,'$$ORIGIN/..'

$(VGLIB): $(GOSRC) include/brs.h
	@mkdir -p $(dir $@)
	GOEXPERIMENT=nodwarf5 CGO_CFLAGS='-O2 -g -gdwarf-4' \
	  $(GO) build -tags valgrind -buildmode=c-shared -o $@ ./capi
	rm -f $(BUILD)/valgrind/libbrs.h

$(BUILD)/tests/%: tests/c/%.c tests/c/harness.h include/brs.h $(LIB)
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS) -Iinclude -o $@ $< $(C_LINK)

# The C and C++ examples: built (and run) by test-c so they cannot rot.
example-c: $(BUILD)/examples/example-c $(BUILD)/examples/example-cpp

$(BUILD)/examples/example-c: examples/c/example.c include/brs.h $(LIB)
	@mkdir -p $(BUILD)/examples
	$(CC) $(CFLAGS) -Iinclude -o $@ $< $(C_LINK)

$(BUILD)/examples/example-cpp: examples/cpp/example.cpp include/brs.h $(LIB)
	@mkdir -p $(BUILD)/examples
	$(CXX) -std=c++17 $(CXXFLAGS) -Iinclude -o $@ $< $(C_LINK)

# brs.h compiles as C++ (C++11 and C++17, BRS_API overridden in one).
$(BUILD)/tests/header_check: tests/cxx/header_check.cpp include/brs.h $(LIB)
	@mkdir -p $(BUILD)/tests
	$(CXX) -std=c++17 $(CXXFLAGS) -DBRS_API= -Iinclude -fsyntax-only $<
	$(CXX) -std=c++11 $(CXXFLAGS) -Iinclude -o $@ $< $(C_LINK)

C_RUN := $(C_TESTS) $(BUILD)/tests/header_check $(BUILD)/examples/example-c $(BUILD)/examples/example-cpp

test-c: $(C_RUN) $(VGLIB) $(VENV)/.deps
	@for t in $(C_RUN); do \
	  echo "== $$t (valgrind)"; \
	  GOGC=off LD_LIBRARY_PATH=$(abspath $(BUILD)/valgrind) MOTO_PYTHON=$(abspath $(PY)) \
	    timeout $(CTEST_TIMEOUT) $(VALGRIND) $$t || { echo "FAILED: $$t"; exit 1; }; \
	done
	@# memcheck cannot see the Go heap: the leak test also runs natively,
	@# 10,000 sessions with RSS and thread counts asserted flat
	@echo "== $(BUILD)/tests/test_leaks (native)"
	@timeout $(CTEST_TIMEOUT) $(BUILD)/tests/test_leaks || { echo "FAILED: test_leaks (native)"; exit 1; }

# The C tests once more under AddressSanitizer and UBSan, against a build
# of the library made with `go build -asan` (shim.c instrumented too).
# test_leaks is left out: ASan's quarantine holds freed memory, so its RSS
# checks would fail; memcheck and its native run cover it.
ASAN_DIR := $(BUILD)/asan
ASAN_LIB := $(ASAN_DIR)/lib/libbrs.so

$(ASAN_LIB): $(GOSRC) include/brs.h
	@mkdir -p $(dir $@)
	$(GO) build -asan -buildmode=c-shared -o $@ ./capi
	rm -f $(ASAN_DIR)/lib/libbrs.h

test-c-asan: $(LIB) $(ASAN_LIB) $(VENV)/.deps
	@for src in $(filter-out tests/c/test_leaks.c,$(wildcard tests/c/test_*.c)); do \
	  t=$(ASAN_DIR)/$$(basename $$src .c); \
	  $(CC) $(CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer -Iinclude -o $$t $$src \
	    -L$(BUILD) -lbrs -lpthread || exit 1; \
	  echo "== $$t (asan)"; \
	  LD_LIBRARY_PATH=$(abspath $(ASAN_DIR)/lib) ASAN_OPTIONS=handle_segv=0:allow_user_segv_handler=1:detect_leaks=1 \
	    MOTO_PYTHON=$(abspath $(PY)) timeout $(CTEST_TIMEOUT) $$t || { echo "FAILED: $$t (asan)"; exit 1; }; \
	done

# The Python tests start their own moto server on 127.0.0.1 and build a
# wheel with Go once (tests/python/test_packaging.py).
test-python: install
	$(PY) -m pytest -q tests/python

demo: install
	$(PY) examples/python/demo.py

# `make bench`: gobrs against pure-Python boto3-refresh-session (bench/README.md).
# Its own virtualenv, bench/.venv: the latest boto3-refresh-session from PyPI,
# moto[server], matplotlib, and gobrs from this checkout. BENCH_ARGS is passed
# to bench/run.py (e.g. BENCH_ARGS=--quick).
BENCH_VENV := bench/.venv
BENCH_PY   := $(BENCH_VENV)/bin/python
BENCH_C    := $(BUILD)/bench/brs_bench
BENCH_ARGS ?=

$(BENCH_VENV)/.deps: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --upgrade pip
	$(BENCH_PY) -m pip install -q --upgrade -r bench/requirements.txt
	touch $@

$(BENCH_C): bench/c/brs_bench.c include/brs.h $(LIB)
	@mkdir -p $(BUILD)/bench
	$(CC) -O2 -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE -Iinclude -o $@ $< -L$(BUILD) -lbrs -lpthread -Wl,-rpath,'$$ORIGIN/..'

bench: $(BENCH_C) $(BENCH_VENV)/.deps
	$(BENCH_PY) -m pip install -q --upgrade boto3-refresh-session || echo "bench: PyPI not reachable; using the installed boto3-refresh-session"
	$(BENCH_PY) -m pip install -q --no-deps --force-reinstall .
	$(BENCH_PY) -m pip install -q .
	$(BENCH_PY) bench/run.py --c-bench $(BENCH_C) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(VENV) dist *.egg-info python/gobrs/libbrs.so
