# tern: thin wrapper around CMake. `make` builds, `make demo` shows the
# simulator, `make test` runs everything (normal build, then ASan+UBSan,
# then each fuzzer for a minute).
BUILD      ?= build
ASAN_BUILD ?= build-asan
CMAKE      ?= cmake
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build deps demo test test-normal test-asan format format-check clean pictures

all: build

deps:
	@scripts/deps.sh build

$(BUILD)/CMakeCache.txt:
	@scripts/deps.sh build
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_C_COMPILER=$${CC:-gcc}

build: $(BUILD)/CMakeCache.txt
	$(CMAKE) --build $(BUILD) -j $(JOBS)

# The demo builds only the CLI, quietly (the log is shown if it fails).
demo: $(BUILD)/CMakeCache.txt
	@$(CMAKE) --build $(BUILD) --target tern -j $(JOBS) > $(BUILD)/demo-build.log 2>&1 \
	  || { cat $(BUILD)/demo-build.log; exit 1; }
	@scripts/demo.sh $(BUILD)/tern

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory test-normal
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=60

test-normal: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_C_COMPILER=clang -DTERN_SANITIZE=ON
	$(CMAKE) --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# tern against the Linux kernel on this machine (root: namespaces, TUN),
# in a build of its own: optimised, assertions off. BENCH_RUNS and
# BENCH_TIME set the runs per case and their seconds; see BENCHMARKS.md.
BENCH_BUILD ?= build-bench

.PHONY: bench
bench:
	@scripts/deps.sh bench
	$(CMAKE) -S . -B $(BENCH_BUILD) -DCMAKE_C_COMPILER=$${CC:-gcc} \
	  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -g -DNDEBUG" \
	  -DTERN_TESTS=OFF
	$(CMAKE) --build $(BENCH_BUILD) --target bench_programs -j $(JOBS)
	bench/run.sh $(BENCH_BUILD)

# libFuzzer targets (tests/fuzz) in a clang build of their own, each run
# for FUZZ_TIME seconds, one after the other; a finding fails.
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME  ?= 300

.PHONY: fuzz
fuzz:
	@scripts/deps.sh fuzz
	$(CMAKE) -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DTERN_FUZZ=ON \
	  -DTERN_TESTS=OFF
	$(CMAKE) --build $(FUZZ_BUILD) --target fuzzers -j $(JOBS)
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME)

format:
	@scripts/format.sh fix

# The README's pictures (docs/img), drawn again by tern from the scenarios.
pictures: build
	scripts/pictures.sh $(BUILD)/tern

format-check:
	@scripts/format.sh check

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
