# interloop — the two commands:
#   make demo   installs what is missing, builds, runs the demo
#   make test   installs what is missing, builds, runs every test in a normal
#               build and an AddressSanitizer + UndefinedBehaviorSanitizer build
# and, for developers: make bench, make bench-quick, make format, make clean.

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
BUILD_ASAN ?= build-asan
CTEST_FLAGS ?= --output-on-failure -V

.PHONY: all deps build build-asan demo test test-normal test-asan bench bench-quick format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DIL_SANITIZE=ON -DIL_BUILD_BENCH=OFF
	cmake --build $(BUILD_ASAN) -j $(JOBS)

demo: build
	$(BUILD)/bin/interloop-demo

test: test-normal test-asan

test-normal: build
	cd $(BUILD) && ctest $(CTEST_FLAGS) -j $(JOBS)

test-asan: build-asan
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS) -j $(JOBS)

bench: build
	$(BUILD)/bin/loop_bench

bench-quick: build
	$(BUILD)/bin/loop_bench --quick

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
