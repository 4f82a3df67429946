# gobrs — build, test, lint, bench, demo, and packaging (`make wheel`,
# `make sdist`, `make install` for C). `make demo` and `make test` are the
# contract with a new user (README.md); CONTRIBUTING.md lists the targets.

GO      ?= go
PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
BUILD   := build
LIB     := $(BUILD)/libbrs.so
GOSRC   := $(shell find core capi internal \( -name '*.go' -o -name '*.c' -o -name '*.h' \) -not -name '*_test.go' 2>/dev/null) go.mod go.sum
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

# The one version of gobrs is the file VERSION. include/brsver.h (the C
# macros, compiled into brs_version()) and python/gobrs/_version.py
# (gobrs.__version__) are generated from it by `make version` and
# committed; setup.py refuses to build when they disagree with VERSION, and
# tests/python/test_version.py checks every place.
VERSION_STR := $(strip $(file <VERSION))
# The C library's soname follows the major version: libbrs.so.0 for 0.x.y.
SONAME      := libbrs.so.$(firstword $(subst ., ,$(VERSION_STR)))
# -s -w: no symbol table, no DWARF (Go's tracebacks need neither).
GO_LDFLAGS  := -s -w -extldflags=-Wl,-soname,$(SONAME)


.PHONY: prereqs all lib version venv venv-install install uninstall wheel sdist lint lint-python lint-go lint-c test test-go test-c test-c-asan test-python check-pyversion example-c fuzz fuzz-short demo bench clean soak test-loaded

all: lib

lib: $(LIB)

version: include/brsver.h python/gobrs/_version.py

include/brsver.h: VERSION
	@set -e; set -- $$(echo "$(VERSION_STR)" | tr . ' '); \
	case "$(VERSION_STR)" in [0-9]*.[0-9]*.[0-9]*) ;; *) echo "VERSION must be MAJOR.MINOR.PATCH"; exit 1;; esac; \
	{ echo '/*'; \
	  echo ' * brsver.h — the version of gobrs (libbrs.so) for the preprocessor.'; \
	  echo ' *'; \
	  echo ' * Generated from the file VERSION by `make version`: do not edit. brs.h'; \
	  echo ' * includes it. These macros tell the version of the header a program was'; \
	  echo ' * compiled against; brs_version() tells the version of the library loaded'; \
	  echo ' * at run time (the library returns the BRS_VERSION it was built with).'; \
	  echo ' *'; \
	  echo ' *   #if BRS_AT_LEAST_VERSION(0, 2, 0)'; \
	  echo ' *   ... code that needs gobrs 0.2.0 or later ...'; \
	  echo ' *   #endif'; \
	  echo ' */'; \
	  echo '#ifndef BRSVER_H'; \
	  echo '#define BRSVER_H'; \
	  echo ''; \
	  echo '/* The version as a string, "MAJOR.MINOR.PATCH". */'; \
	  echo "#define BRS_VERSION \"$(VERSION_STR)\""; \
	  echo ''; \
	  echo '/* The version as numbers. */'; \
	  echo "#define BRS_VERSION_MAJOR $$1"; \
	  echo "#define BRS_VERSION_MINOR $$2"; \
	  echo "#define BRS_VERSION_PATCH $$3"; \
	  echo ''; \
	  echo '/* The version as one number, 0xXXYYZZ: 8 bits each for major, minor and'; \
	  echo ' * patch (0.1.0 is 0x000100). A later release always has a larger number. */'; \
	  printf '#define BRS_VERSION_NUM 0x%02x%02x%02x\n' $$1 $$2 $$3; \
	  echo ''; \
	  echo '/* True when this header is version x.y.z or later. */'; \
	  echo '#define BRS_AT_LEAST_VERSION(x, y, z) \'; \
	  echo '    (BRS_VERSION_NUM >= (((x) << 16) | ((y) << 8) | (z)))'; \
	  echo ''; \
	  echo '#endif /* BRSVER_H */'; \
	} > $@.tmp && mv $@.tmp $@

python/gobrs/_version.py: VERSION
	@printf '"""The version of gobrs (generated from VERSION by `make version`: do not edit)."""\n\n__version__ = "%s"\n' "$(VERSION_STR)" > $@.tmp && mv $@.tmp $@

# build/libbrs.so is the library every test, the Python package and
# `make install` use; programs linked with -lbrs record its soname, which
# the link build/libbrs.so.0 answers.
$(LIB): $(GOSRC) include/brs.h include/brsver.h
	@mkdir -p $(BUILD)
	$(GO) build -trimpath -buildmode=c-shared -ldflags '$(GO_LDFLAGS)' -o $(LIB) ./capi
	rm -f $(BUILD)/libbrs.h
	ln -sf libbrs.so $(BUILD)/$(SONAME)
	cp include/brs.h include/brsver.h $(BUILD)/

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

venv-install: $(VENV)/.installed

# `make install PREFIX=/usr/local` (DESTDIR too): the C library, its
# headers and brs.pc, so that `pkg-config --cflags --libs brs` finds them.
# libbrs.so -> libbrs.so.MAJOR -> libbrs.so.MAJOR.MINOR.PATCH.
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

install: $(LIB)
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(LIB) $(DESTDIR)$(LIBDIR)/libbrs.so.$(VERSION_STR)
	ln -sfn libbrs.so.$(VERSION_STR) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(LIBDIR)/libbrs.so
	install -m 644 include/brs.h include/brsver.h $(DESTDIR)$(INCLUDEDIR)/
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  'Name: brs' \
	  'Description: gobrs: refreshable temporary AWS credentials (C interface of libbrs)' \
	  'Version: $(VERSION_STR)' \
	  'Libs: -L$${libdir} -lbrs' \
	  'Libs.private: -lpthread' \
	  'Cflags: -I$${includedir}' > $(DESTDIR)$(LIBDIR)/pkgconfig/brs.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libbrs.so $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libbrs.so.$(VERSION_STR) \
	  $(DESTDIR)$(INCLUDEDIR)/brs.h $(DESTDIR)$(INCLUDEDIR)/brsver.h $(DESTDIR)$(LIBDIR)/pkgconfig/brs.pc

# `make prereqs`: what `make test` needs from the system, checked before
# anything runs; one line names what is missing (.ci/run installs it).
prereqs:
	@missing=""; \
	v=$$($(GO) env GOVERSION 2>/dev/null | sed 's/^go//'); \
	case "$$v" in 1.2[6-9]*|1.[3-9][0-9]*|[2-9].*) ;; *) missing="$$missing Go>=1.26($${v:-none})";; esac; \
	$(PYTHON) -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || missing="$$missing python3>=3.10+venv(python3-venv)"; \
	command -v $(CC) >/dev/null || missing="$$missing gcc"; \
	command -v valgrind >/dev/null || missing="$$missing valgrind"; \
	command -v softhsm2-util >/dev/null || missing="$$missing softhsm2"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v readelf >/dev/null || missing="$$missing binutils"; \
	{ command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; } || missing="$$missing mosquitto"; \
	if [ -n "$$missing" ]; then \
	  echo "make: missing prerequisites:$$missing — install them (Debian/Ubuntu: apt-get install -y <name>; Go from its release archive) or run .ci/run, which does"; \
	  exit 1; \
	fi

test: check-pyversion test-go test-c test-python

# The oldest Python the code needs, as vermin reports it, must be the
# `requires-python` of pyproject.toml (3.10, boto3-refresh-session's floor).
PYMIN := $(shell sed -n 's/^requires-python = ">=\([0-9.]*\)"/\1/p' pyproject.toml)
check-pyversion: $(VENV)/.deps
	$(VENV)/bin/vermin --no-tips --violations --eval-annotations -t=$(PYMIN)- python/gobrs examples/python tests/python bench

# MOTO_PYTHON: a python with moto[server], for the Go and C tests that run
# STS against a local moto server (core/sts/moto_test.go, tests/c/test_sts.c).
test-go: prereqs $(VENV)/.deps
	$(GO) vet ./...
	MOTO_PYTHON=$(abspath $(PY)) $(GO) test -race -count=1 ./...
	$(MAKE) fuzz-short

# Short fuzz runs inside `make test`; `make fuzz` (or FUZZTIME=5m) runs longer.
# FUZZ_TARGETS: every Fuzz function of the Go tests, as package-dir:name
# (internal/command:FuzzSplit).
FUZZ_TARGETS := $(shell grep -Ho '^func Fuzz[A-Za-z0-9_]*' $$(find core capi internal -name '*_test.go') 2>/dev/null | sed 's|/[^/:]*:func |:|')
fuzz-short:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t#*:}; \
	  echo "fuzz ./$$pkg $$fn ($(FUZZTIME))"; \
	  $(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

fuzz:
	$(MAKE) fuzz-short FUZZTIME=$(if $(filter 3000x,$(FUZZTIME)),2m,$(FUZZTIME))

# `make wheel`: binary wheels in dist/ for each GOARCH of WHEEL_GOARCHS,
# tagged manylinux_2_17 (manylinux2014: glibc 2.17, Linux 3.10). That is
# the oldest policy Go allows: Go >= 1.24 needs Linux >= 3.2, which rules
# out manylinux1 and manylinux2010 (CentOS 5 and 6, Linux 2.6), although
# the library's glibc symbols alone would pass for manylinux_2_5 on x86_64.
# A library linked on this machine needs its glibc (2.34 on Debian 12), so
# the C parts are compiled and linked by zig (PyPI's ziglang) against glibc
# $(WHEEL_GLIBC), for either GOARCH from one machine. WHEEL_CC=gcc uses the
# host gcc instead (aarch64-linux-gnu-gcc for arm64, skipped when it is not
# installed), and the wheel gets the policy `auditwheel show` finds, that of
# the host glibc. `auditwheel show` checks every wheel: a wheel that needs
# a shared library outside the policy fails the build (there is nothing to
# graft, so `auditwheel repair` would leave it unchanged).
WHEEL_GOARCHS ?= amd64 arm64
WHEEL_GLIBC   ?= 2.17
DIST          ?= dist
WHEEL_CC      ?= zig
WHEEL_TOOLS   := $(VENV)/.wheel-tools

$(WHEEL_TOOLS): $(VENV)/.deps
	$(PY) -m pip install -q 'auditwheel>=6.1' 'build>=1.2' $(if $(filter zig,$(WHEEL_CC)),'ziglang>=0.13')
	touch $@

wheel: $(WHEEL_TOOLS)
	@mkdir -p $(DIST) && rm -f $(DIST)/gobrs-$(VERSION_STR)-*.whl
	@for a in $(WHEEL_GOARCHS); do $(MAKE) --no-print-directory wheel-$$a || exit 1; done

wheel-%: $(WHEEL_TOOLS) $(GOSRC) include/brs.h include/brsver.h
	@set -e; goarch=$*; \
	case $$goarch in amd64) arch=x86_64;; arm64) arch=aarch64;; *) echo "wheel: GOARCH $$goarch is not supported"; exit 1;; esac; \
	if [ "$(WHEEL_CC)" = zig ]; then \
	  cc="$(abspath $(PY)) -m ziglang cc -target $$arch-linux-gnu.$(WHEEL_GLIBC)"; plat=manylinux_$(subst .,_,$(WHEEL_GLIBC))_$$arch; \
	else \
	  if [ $$goarch = "$$($(GO) env GOHOSTARCH)" ]; then cc=$${CC:-gcc}; else cc=$$arch-linux-gnu-gcc; fi; plat=linux_$$arch; \
	  if ! command -v $$cc >/dev/null; then \
	    echo "wheel: SKIPPED linux/$$goarch: $$cc is not installed (Debian: apt-get install gcc-$$arch-linux-gnu)"; exit 0; fi; \
	fi; \
	out=$(BUILD)/wheel/$$goarch; rm -rf $$out; mkdir -p $$out; \
	echo "wheel: linux/$$goarch, CC=$$cc"; \
	CGO_ENABLED=1 GOOS=linux GOARCH=$$goarch CC="$$cc" $(GO) build -trimpath -buildmode=c-shared -ldflags '-s -w' -o $$out/libbrs.so ./capi; \
	rm -f $$out/libbrs.h; \
	GOBRS_PREBUILT_LIBRARY=$(CURDIR)/$$out/libbrs.so GOBRS_PLAT_NAME=$$plat \
	  $(PY) -m pip wheel -q --no-deps --no-build-isolation -w $$out .; \
	whl=$$(ls $$out/gobrs-$(VERSION_STR)-*.whl); \
	show=$$($(PY) -m auditwheel show $$whl 2>&1 | tr '\n' ' ' | sed 's/  */ /g'); echo "auditwheel show: $$show"; \
	policy=$$(echo "$$show" | sed -n 's/.*consistent with the following platform tag: "\([a-z0-9_]*\)".*/\1/p'); \
	case "$$show" in *"external shared libraries are required"*) echo "wheel: needs shared libraries outside the policy"; exit 1;; esac; \
	[ -n "$$policy" ] || { echo "wheel: auditwheel found no manylinux policy"; exit 1; }; \
	if [ $$plat = linux_$$arch ]; then $(PY) -m wheel tags --remove --platform-tag $$policy $$whl >/dev/null; whl=$$(ls $$out/gobrs-$(VERSION_STR)-*$$policy.whl); fi; \
	mkdir -p $(DIST); mv $$whl $(DIST)/; whl=$(DIST)/$$(basename $$whl); \
	echo "wheel: $$whl: $$(du -k $$whl | cut -f1) KiB; libbrs.so $$(du -k $$out/libbrs.so | cut -f1) KiB (stripped)"

# `make sdist`: dist/gobrs-VERSION.tar.gz; `pip install` of it builds
# libbrs.so with Go (setup.py).
sdist: $(WHEEL_TOOLS)
	$(PY) -m build --sdist --no-isolation -o $(DIST) .

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
	  $(GO) build -tags valgrind -buildmode=c-shared -ldflags '-extldflags=-Wl,-soname,$(SONAME)' -o $@ ./capi
	rm -f $(BUILD)/valgrind/libbrs.h
	ln -sf libbrs.so $(dir $@)$(SONAME)

$(BUILD)/tests/%: tests/c/%.c tests/c/harness.h include/brs.h include/brsver.h $(LIB)
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS) -Iinclude -o $@ $< $(C_LINK)

# The C and C++ examples: built (and run) by test-c so they cannot rot.
example-c: $(BUILD)/examples/example-c $(BUILD)/examples/example-cpp

$(BUILD)/examples/example-c: examples/c/example.c include/brs.h include/brsver.h $(LIB)
	@mkdir -p $(BUILD)/examples
	$(CC) $(CFLAGS) -Iinclude -o $@ $< $(C_LINK)

$(BUILD)/examples/example-cpp: examples/cpp/example.cpp include/brs.h include/brsver.h $(LIB)
	@mkdir -p $(BUILD)/examples
	$(CXX) -std=c++17 $(CXXFLAGS) -Iinclude -o $@ $< $(C_LINK)

# brs.h compiles as C++ (C++11 and C++17, BRS_API overridden in one).
$(BUILD)/tests/header_check: tests/cxx/header_check.cpp include/brs.h include/brsver.h $(LIB)
	@mkdir -p $(BUILD)/tests
	$(CXX) -std=c++17 $(CXXFLAGS) -DBRS_API= -Iinclude -fsyntax-only $<
	$(CXX) -std=c++11 $(CXXFLAGS) -Iinclude -o $@ $< $(C_LINK)

C_RUN := $(C_TESTS) $(BUILD)/tests/header_check $(BUILD)/examples/example-c $(BUILD)/examples/example-cpp

test-c: prereqs $(C_RUN) $(VGLIB) $(VENV)/.deps
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

$(ASAN_LIB): $(GOSRC) include/brs.h include/brsver.h
	@mkdir -p $(dir $@)
	$(GO) build -asan -buildmode=c-shared -o $@ ./capi
	rm -f $(ASAN_DIR)/lib/libbrs.h
	ln -sf libbrs.so $(ASAN_DIR)/lib/$(SONAME)

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
test-python: prereqs venv-install
	$(PY) -m pytest -q tests/python

# `make test-loaded RUNS=5`: `make test` RUNS times in a row under a CPU
# burner per core, stopping at the first failure (.ci/test-loaded says how).
RUNS ?= 5
test-loaded:
	RUNS=$(RUNS) MAKE="$(MAKE)" .ci/test-loaded

# `make soak`: the long run of the reliability tests (docs/reliability.md),
# SOAK_SECONDS (default 600) in all: the churn of sessions left to the
# garbage collector during background refreshes runs the whole time, while
# the fault tests (Go and Python) and the fork tests (C and Python) run
# again and again beside it. Not part of `make test`.
SOAK_SECONDS ?= 600
soak: venv-install $(BUILD)/tests/test_fork
	@GOBRS_CHURN_SECONDS=$(SOAK_SECONDS) $(PY) -m pytest -q -p no:cacheprovider \
	    tests/python/test_hardening.py -k collector & churn=$$!; \
	end=$$(( $$(date +%s) + $(SOAK_SECONDS) )); rc=0; round=0; \
	while [ $$(date +%s) -lt $$end ]; do \
	  round=$$((round + 1)); echo "== soak round $$round"; \
	  $(GO) test -race -count=1 -run 'TestFaults|TestSTSDefaultTimeouts' ./core/... || { rc=1; break; }; \
	  $(BUILD)/tests/test_fork || { rc=1; break; }; \
	  $(PY) -m pytest -q -p no:cacheprovider tests/python/test_reliability_faults.py \
	      tests/python/test_fork.py tests/python/test_processes.py || { rc=1; break; }; \
	done; \
	wait $$churn || rc=1; \
	[ $$rc -eq 0 ] && echo "soak: $$round rounds, churn held for $(SOAK_SECONDS) s"; exit $$rc

demo: venv-install
	$(PY) examples/python/demo.py

# `make lint`: style and types (run by .ci/run). ruff and mypy come from
# requirements-dev.txt (pinned); staticcheck from the Go module proxy at a
# pinned version; cppcheck from Debian. The C of capi/ is also compiled
# with -Wall -Wextra -Werror against the header cgo generates (the tests,
# example and bench are, by their own rules).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# a leading "_" keeps the generated Go files out of `go ... ./...`
CGO_LINT    := $(BUILD)/_cgo_lint
C_SOURCES   := capi/shim.c $(wildcard tests/c/*.c examples/c/*.c bench/c/*.c)

lint: lint-python lint-go lint-c

# each tool runs even when one before it failed, so one run shows all
lint-python: $(VENV)/.deps
	@rc=0; set -x; $(PY) -m ruff check . || rc=1; $(PY) -m ruff format --check . || rc=1; $(PY) -m mypy || rc=1; exit $$rc

lint-go:
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(GO) run $(STATICCHECK) ./...

lint-c: include/brsver.h
	@command -v cppcheck >/dev/null || { echo "make lint: cppcheck is missing — apt-get install -y cppcheck (.ci/run does)"; exit 1; }
	@rm -rf $(CGO_LINT) && mkdir -p $(CGO_LINT)
	cd capi && $(GO) tool cgo -objdir $(abspath $(CGO_LINT)) -- -I../include $$(grep -l '^import "C"' $$(ls *.go | grep -v _test.go))
	@for f in $(C_SOURCES); do \
	  $(CC) -fsyntax-only $(CFLAGS) -Iinclude -Icapi -I$(CGO_LINT) -Itests/c $$f || exit 1; \
	done
	cppcheck --enable=warning,style,performance,portability --std=c11 --error-exitcode=1 --inline-suppr -q \
	  --suppress=missingIncludeSystem -Iinclude -Icapi -I$(CGO_LINT) -Itests/c $(C_SOURCES)

# `make bench`: gobrs against pure-Python boto3-refresh-session (bench/README.md).
# Its own virtualenv, bench/.venv: the latest boto3-refresh-session from PyPI,
# moto[server], matplotlib, and gobrs from this checkout. BENCH_ARGS is passed
# to bench/run.py (e.g. BENCH_ARGS=--quick).
BENCH_VENV := bench/.venv
BENCH_PY   := $(BENCH_VENV)/bin/python
BENCH_C    := $(BUILD)/bench/brs_bench
BENCH_LOAD := $(BUILD)/bench/serveload
BENCH_ARGS ?=

$(BENCH_VENV)/.deps: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --upgrade pip
	$(BENCH_PY) -m pip install -q --upgrade -r bench/requirements.txt
	touch $@

$(BENCH_C): bench/c/brs_bench.c include/brs.h $(LIB)
	@mkdir -p $(BUILD)/bench
	$(CC) -O2 -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE -Iinclude -o $@ $< -L$(BUILD) -lbrs -lpthread -Wl,-rpath,'$$ORIGIN/..'

# the load client of the serve scenario (bench/serveload, Go)
$(BENCH_LOAD): bench/serveload/main.go go.mod go.sum
	@mkdir -p $(BUILD)/bench
	$(GO) build -o $@ ./bench/serveload

bench: $(BENCH_C) $(BENCH_LOAD) $(BENCH_VENV)/.deps
	$(BENCH_PY) -m pip install -q --upgrade boto3-refresh-session || echo "bench: PyPI not reachable; using the installed boto3-refresh-session"
	$(BENCH_PY) -m pip install -q --no-deps --force-reinstall .
	$(BENCH_PY) -m pip install -q .
	$(BENCH_PY) bench/run.py --c-bench $(BENCH_C) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(VENV) dist *.egg-info python/gobrs/libbrs.so
