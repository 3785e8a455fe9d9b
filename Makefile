# talentsim build. `make run` and `make test` install missing Debian packages
# first (scripts/install-deps.sh), so a fresh machine needs nothing else.

CC      ?= cc
PKGS    := gsl yaml-0.1
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wundef
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT     ?= -O3 -g -fno-math-errno -fno-trapping-math -ffp-contract=off
EXTRA   ?=
WERROR  ?=
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) $(WERROR) $(EXTRA) -fopenmp -Iinclude \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_ALL = -fopenmp $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

# BUILD is the object directory: build/ for the normal build, build/san for
# the AddressSanitizer/UBSan build (make test-san).
BUILD   ?= build
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT     := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
DEFS    := -DTS_VERSION=\"$(VERSION)\" -DTS_GIT_COMMIT=\"$(GIT)\"

LIB_SRC  := $(sort $(wildcard sim/*.c) $(filter-out sim/cli/% sim/model/kernel.c,$(wildcard sim/*/*.c)))
CLI_SRC  := $(sort $(wildcard sim/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
# The yearly kernel (sim/model/kernel.c) is compiled once per instruction
# set: a portable scalar variant and, on x86-64, AVX2 and AVX-512 variants
# chosen at run time (sim/model/dispatch.c). With -ffp-contract=off every variant
# rounds each operation as written, so all give the same bits.
ARCH    := $(shell uname -m)
ifeq ($(ARCH),x86_64)
KERNEL_ISAS := scalar avx2 avx512
DEFS    += -DTS_X86_KERNELS
else
KERNEL_ISAS := scalar
endif
ISA_FLAGS_scalar := -fno-tree-vectorize
ISA_FLAGS_avx2   := -mavx2
ISA_FLAGS_avx512 := -mavx512f -mavx512dq -mavx512vl -mavx512bw -mprefer-vector-width=512
KERNEL_OBJ := $(KERNEL_ISAS:%=$(BUILD)/sim/model/kernel_%.o)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(KERNEL_OBJ)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
HDRS     := $(wildcard include/talentsim/*.h sim/*.h sim/*/*.h tests/*.h)

BIN      := $(if $(filter build,$(BUILD)),talentsim,$(BUILD)/talentsim)
RUNBIN   := $(abspath $(BIN))
SCENARIO ?= scenarios/baseline.yaml
ARGS     ?=

.PHONY: all deps deps-mpi talentsim-mpi check-cluster bench-sweep run test test-unit test-san check-long check-report bench docs docs-check clean mutants check-patterns \
        fuzz fuzz-build

all: $(BIN)

deps:
	@bash scripts/install-deps.sh

$(BUILD)/%.o: %.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEFS) -c $< -o $@

$(BUILD)/sim/model/kernel_%.o: sim/model/kernel.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -ffp-contract=off $(ISA_FLAGS_$*) $(DEFS) -DTS_ISA=$* -c $< -o $@

$(BUILD)/libtalentsim.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(BUILD)/libtalentsim.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/run_tests: $(TEST_OBJ) $(BUILD)/libtalentsim.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ -lcriterion $(LDLIBS_ALL)

run: deps
	@$(MAKE) --no-print-directory all
	./talentsim $(SCENARIO) $(ARGS)

# Every test: unit + statistical + CLI (Criterion), and the docs check.
test: deps
	@$(MAKE) --no-print-directory test-unit

test-unit: $(BIN) $(BUILD)/tests/run_tests
	TALENTSIM_BIN=$(RUNBIN) $(BUILD)/tests/run_tests --jobs 2
	@$(MAKE) --no-print-directory docs-check BUILD=$(BUILD)

# The same tests under AddressSanitizer and UBSan.
test-san:
	@$(MAKE) --no-print-directory test-unit BUILD=build/san OPT="-O1 -g -fno-math-errno" \
	  EXTRA="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"

# Long statistical and scale checks, the memory estimate against measured
# peak RSS, and 200 trials of two concurrent runs on one -o; not run by CI.
check-long: $(BIN) $(BUILD)/tests/run_tests
	TALENTSIM_LONG=1 TALENTSIM_BIN=$(RUNBIN) $(BUILD)/tests/run_tests --jobs 1
	TALENTSIM_BIN=$(RUNBIN) bash scripts/concurrent_runs.sh 200
	@$(MAKE) --no-print-directory check-report

# The reports of `talentsim plot` rendered by headless Chromium (installed
# by install-deps.sh --browser): a small run and the calibration fixture,
# every figure decoded and drawn (scripts/check_report_browser.sh, docs/plots.md).
REPORT_DIR := build/check-report
check-report: $(BIN)
	@bash scripts/install-deps.sh --browser
	@rm -rf $(REPORT_DIR) && mkdir -p $(REPORT_DIR)
	$(RUNBIN) scenarios/baseline.yaml -q -r 5 --set sample_fraction=0.02 -o $(REPORT_DIR)/run
	cp -r tests/data/plot/calibration $(REPORT_DIR)/calibration
	$(RUNBIN) plot $(REPORT_DIR)/run
	$(RUNBIN) plot $(REPORT_DIR)/calibration
	bash scripts/check_report_browser.sh $(REPORT_DIR)/run $(REPORT_DIR)/calibration

# The patterns of MODEL.md section 10 on the baseline and its paired P5
# variants (six full runs; ARGS="-r 20" for a quicker look).
check-patterns: deps
	@$(MAKE) --no-print-directory all
	./talentsim check-patterns $(SCENARIO) $(ARGS)

# The engine's figures, then the limit kernel, the NumPy peer and the
# shared-prefix run (scripts/bench_peers.sh; docs/performance.md).
bench: deps
	@bash scripts/install-deps.sh --bench
	@$(MAKE) --no-print-directory all build/bench/limit
	./talentsim bench --baseline scenarios/baseline.yaml
	bash scripts/bench_peers.sh

# The MPI build (docs/cluster.md): the same program compiled with mpicc and
# -DTS_MPI in build/mpi/, copied to ./talentsim-mpi; `make MPI=1` builds it
# as well as ./talentsim. `mpirun -np P ./talentsim-mpi sweep FILE` spreads
# a sweep's points over the ranks.
MPICC ?= mpicc
talentsim-mpi: deps-mpi
	@$(MAKE) --no-print-directory BUILD=build/mpi CC=$(MPICC) EXTRA="$(EXTRA) -DTS_MPI" build/mpi/talentsim
	cp build/mpi/talentsim $@

deps-mpi:
	@command -v $(MPICC) >/dev/null 2>&1 || bash scripts/install-deps.sh --cluster

ifeq ($(MPI),1)
all: talentsim-mpi
endif

# Sweep throughput and the overhead of shards and MPI (docs/cluster.md).
bench-sweep: deps talentsim-mpi
	@$(MAKE) --no-print-directory all
	bash scripts/bench_sweep.sh

# A single-node Slurm cluster and Open MPI on this machine: a sweep run as a
# job array and under mpirun must merge to the same bytes as a local run.
check-cluster: $(BIN)
	bash scripts/check_cluster.sh

build/bench/limit: bench/limit.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) -O3 -g -fno-math-errno $(WARN) $(WERROR) -o $@ $< -lm

docs: $(BIN)
	$(RUNBIN) --params-markdown > docs/parameters.md

# Fails when docs/parameters.md is not what the parameter table generates.
docs-check: $(BIN)
	@$(RUNBIN) --params-markdown | cmp -s - docs/parameters.md || \
	  { echo "docs/parameters.md is stale: run 'make docs'" >&2; exit 1; }
	@echo "docs/parameters.md is up to date"

clean:
	rm -rf build talentsim talentsim-mpi

# Mutation testing (docs/testing.md): every mutation of tests/mutants.txt in a
# scratch copy of the tree; MUTANTS="name ..." runs those whose name matches.
mutants:
	@bash scripts/mutants.sh $(MUTANTS)

# Fuzzing (docs/testing.md): the libFuzzer harnesses tests/fuzz/fuzz_*.c and
# the library, built with clang and ASan/UBSan into build/fuzz, each run for
# FUZZ_SECONDS on its corpus (tests/fuzz/corpus/NAME, new inputs go to
# build/fuzz/corpus/NAME). Fails on a finding, left in build/fuzz/artifacts/.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz:
	@bash scripts/install-deps.sh --fuzz
	@$(MAKE) --no-print-directory fuzz-build BUILD=build/fuzz CC=$(FUZZ_CC) \
	  OPT="-O1 -g" EXTRA="-fsanitize=fuzzer-no-link $(FUZZ_SAN)"
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-build: $(FUZZ_NAMES:%=$(BUILD)/fuzz_%)

# The loader's harness keeps `extends:` inside its sandbox by wrapping fopen and open.
$(BUILD)/fuzz_scenario: FUZZ_FLAGS = -Wl,--wrap=fopen,--wrap=open \
  -DTS_FUZZ_SCENARIOS=\"$(abspath scenarios)\"
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libtalentsim.a $(HDRS) Makefile
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(BUILD)/libtalentsim.a \
	  $(FUZZ_FLAGS) $(LDLIBS_ALL)
