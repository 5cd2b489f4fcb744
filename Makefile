# The commands a new user types. CMake does the building; this file only strings steps together.
#   make          install missing Debian packages, build into build/ (programs in build/bin/)
#   make test     the same, then every test (ctest)
#   make demo     the same, then the demo
#   make bench    benchmarks in bench/, printing figures and ratios
#   make fuzz     libFuzzer targets in fuzz/ for FUZZ_SECONDS each (clang)
#   make install  into PREFIX (default /usr/local), with kedge.pc for pkg-config, units, man pages
#   make deb      Debian packages kedge and libkedge-dev into build/deb/ (lintian-checked)
#   make test-deb the packages installed with apt-get into a debootstrap root (docs/packaging.md)
#   make clean

BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=
MAKEFLAGS += --no-print-directory

.PHONY: all deps configure build test demo bench fuzz clean install deb test-deb

all: build

deps:
	@scripts/deps.sh

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

fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DKEDGE_FUZZ=ON -DKEDGE_TESTS=OFF -DKEDGE_BENCH=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

deb: deps
	@scripts/deb.sh $(BUILD)/deb

test-deb: build
	KEDGE_TEST_DEB=1 sh tests/integration/test-deb.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
