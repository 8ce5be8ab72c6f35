# interloop — the two commands:
#   make demo   installs what is missing, builds, runs the tour (every
#               backend side by side, scripts/tour.sh)
#   make test   installs what is missing, builds, runs every test in a normal
#               build and an AddressSanitizer + UndefinedBehaviorSanitizer
#               build, and the conformance suite under ThreadSanitizer
# and, for developers: make bench, make bench-quick, make format, make clean.

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_BENCH ?= build-bench
CTEST_FLAGS ?= --output-on-failure -V

.PHONY: all deps build build-asan build-tsan build-bench demo test test-normal test-asan test-tsan bench bench-quick format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DIL_SANITIZE=ON -DIL_BUILD_BENCH=OFF
	cmake --build $(BUILD_ASAN) -j $(JOBS)

build-tsan: deps
	cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=Debug -DIL_TSAN=ON -DIL_BUILD_BENCH=OFF -DIL_BUILD_EXAMPLES=OFF
	cmake --build $(BUILD_TSAN) -j $(JOBS)

demo: build
	scripts/tour.sh $(BUILD)

test: test-normal test-asan test-tsan

test-normal: build
	cd $(BUILD) && ctest $(CTEST_FLAGS) -j $(JOBS)

test-asan: build-asan
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS) -j $(JOBS)

test-tsan: build-tsan
	cd $(BUILD_TSAN) && TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/conformance/tsan.supp" ctest $(CTEST_FLAGS) -j $(JOBS) -R '^conformance-'

# The benchmarks run on a release build of the library and the bench
# programs only (no tests, examples or conformance suite: a 15 s build).
build-bench:
	@scripts/deps.sh bench
	cmake -S . -B $(BUILD_BENCH) -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
	  -DIL_BUILD_CONFORMANCE=OFF -DIL_BUILD_EXAMPLES=OFF
	cmake --build $(BUILD_BENCH) -j $(JOBS)

bench: build-bench
	bench/run.py $(BUILD_BENCH)

bench-quick: build-bench
	bench/run.py $(BUILD_BENCH) --quick

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_BENCH)
