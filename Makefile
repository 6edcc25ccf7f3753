# Two commands: `make demo` and `make test`. Both create .venv when absent and install the project (editable),
# with torch pinned to its CPU build (constraints-cpu.txt) so no CUDA wheels are pulled onto a CPU machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow test-all bench install clean

$(STAMP): pyproject.toml constraints-cpu.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[ml,dev,export,tracking]" -c constraints-cpu.txt
	touch $(STAMP)

install: $(STAMP)

DEMO := examples/fashion_mnist_demo.yaml

demo: $(STAMP)
	@echo "== the advisor on every example scenario (one line each; 'advisor recommend FILE' for the full answer)"
	@for f in examples/*.yaml; do $(BIN)/advisor recommend $$f | head -1 || exit 1; done
	@echo
	@echo "== the embedded demo: recommend, then train the pick on 3,000 Fashion-MNIST photos (shipped, offline)"
	$(BIN)/advisor recommend $(DEMO)
	$(BIN)/advisor train $(DEMO) --out runs/demo --report
	$(BIN)/advisor predict runs/demo examples/data/demo_images | head -5
	@echo
	@echo "== measured, not argued: classical vs hybrid on the same photos, learning curves at 10% and 25% of the data"
	$(BIN)/advisor compare $(DEMO) --families classical,hybrid --sizes 0.1,0.25 --seeds 1 --out runs/demo-compare --quiet
	@echo
	@echo "== open the reports: runs/demo/report.html (the trained model) and runs/demo-compare/report.html (the bake-off)"

# `make test`: every test but those marked `slow` (deep fine-tunes, interrupt-and-resume, multi-process runs, the
# 1,000-example fuzz), one pytest-xdist worker per core, each test file on one worker, one BLAS/OpenMP thread per
# worker (two workers' thread pools on two cores stall each other). `make test-slow` runs the rest; CI runs both.
TEST_WORKERS ?= auto
test: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not slow" -n $(TEST_WORKERS) --dist loadfile

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

test-all: test test-slow

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
