# Two commands: `make demo` and `make test`. Both create .venv when absent and install the project (editable),
# with torch pinned to its CPU build (constraints-cpu.txt) so no CUDA wheels are pulled onto a CPU machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench install clean

$(STAMP): pyproject.toml constraints-cpu.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[ml,dev]" -c constraints-cpu.txt
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@for f in examples/*.yaml; do echo "== $$f"; $(BIN)/advisor recommend $$f || exit 1; echo; done

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
