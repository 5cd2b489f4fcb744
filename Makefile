# The commands a new user types. CMake does the building; this file only strings steps together.
# Each target installs only the Debian packages it needs (scripts/deps.sh LIST...).
#   make          install missing build packages, build into build/ (programs in build/bin/)
#   make test     the same plus the test peers (nginx, redis-server, stunnel4, gnutls-cli,
#                 clang...), then every test (ctest)
#   make demo     the build packages plus curl and jq, then the demo
#   make bench    the build packages plus the benchmark peers; every benchmark in bench/, 3 runs
#                 each, and one report: bench/results/<date>-<host>/report.md (docs/performance.md)
#   make bench-quick  the same in under 3 minutes (one short run each: a smoke run)
#   make bench-check  bench-quick, then CPU per operation against bench/results/baseline.json:
#                 prints what moved by more than 20 % (informative, never fails)
#   make fuzz     libFuzzer targets in fuzz/ for FUZZ_SECONDS each (clang)
#   make install  into PREFIX (default /usr/local), with kedge.pc for pkg-config, units, man
#                 pages; build packages only (no test peer lands on a production box)
#   make deb      Debian packages kedge and libkedge-dev into build/deb/ (lintian-checked)
#   make test-deb the packages installed with apt-get into a debootstrap root (docs/packaging.md)
#   make interop  kedge against a real Open5GS NRF, SCP and AUSF built from OPEN5GS_SRC (the
#                 interop package list; without OPEN5GS_SRC it says so and does nothing):
#                 tests/interop/open5gs.sh, docs/interop.md. Not part of `make test`.
#   make format   clang-format -i over every tracked *.c and *.h (.clang-format)
#   make format-check  the same with --dry-run -Werror: fails, naming the lines, if one differs
#   make clean

BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=
MAKEFLAGS += --no-print-directory

.PHONY: all deps configure build test demo bench bench-quick bench-check fuzz clean install deb \
  test-deb format format-check format-tool interop

all: build

# The package lists the goals on the command line need (always the build list).
DEPS_LISTS = $(strip build $(filter test bench demo fuzz deb,$(MAKECMDGOALS)) \
  $(if $(filter test-deb,$(MAKECMDGOALS)),test) $(if $(filter interop,$(MAKECMDGOALS)),interop test) \
  $(if $(filter bench-quick bench-check,$(MAKECMDGOALS)),bench))

deps:
	@scripts/deps.sh $(DEPS_LISTS)

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	@scripts/bench.sh $(BUILD)

bench-quick: build
	@scripts/bench.sh --quick $(BUILD)

BENCH_CHECK_DIR ?= bench/results/check-$(shell date -u +%Y%m%dT%H%MZ)
bench-check: build
	@scripts/bench.sh --quick --out $(BENCH_CHECK_DIR) $(BUILD) || true
	@/usr/bin/python3 bench/report/kbench.py check $(BENCH_CHECK_DIR) bench/results/baseline.json

fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DKEDGE_FUZZ=ON -DKEDGE_TESTS=OFF -DKEDGE_BENCH=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz-targets
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

deb: deps
	@scripts/deb.sh $(BUILD)/deb

test-deb: build
	KEDGE_TEST_DEB=1 sh tests/integration/test-deb.sh $(BUILD)

interop: build
	@sh tests/interop/open5gs.sh $(BUILD)

# clang-format comes with scripts/deps.sh test. The tracked files only: never build output.
CLANG_FORMAT ?= clang-format
FORMAT_FILES = git ls-files -z '*.c' '*.h'
format-tool:
	@command -v $(CLANG_FORMAT) >/dev/null || \
	  { echo "$(CLANG_FORMAT) not found: scripts/deps.sh test installs it" >&2; exit 1; }

format: format-tool
	@$(FORMAT_FILES) | xargs -0 $(CLANG_FORMAT) -i

format-check: format-tool
	@$(FORMAT_FILES) | xargs -0 $(CLANG_FORMAT) --dry-run -Werror

clean:
	rm -rf $(BUILD) build-asan build-fuzz
