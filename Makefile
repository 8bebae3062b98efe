# One-command set-up: every target creates .venv and installs what it needs.
# Override the torch build with e.g. `make test TORCH_SPEC="torch==2.9.1"`.
PYTHON     ?= python3
VENV       ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN        := $(VENV)/bin
STAMP      := $(VENV)/.edgeae-installed

.PHONY: install test test-fast test-arm fuzz lint demo bench speech-model bench-speech clean

install: $(STAMP)

$(STAMP): pyproject.toml export/pyproject.toml runtime/pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: a bare `torch` requirement pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ./runtime -e ./export -e ".[dev]"
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -q

# The developer loop: everything but the tests marked slow (> ~3 s each), on every core
# (pytest-xdist; `make test` stays one process, the way CI runs it).
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow" -n auto

# Fuzz every parser (npy, npz, wav, raw PCM, png, csv, manifest text/fields, streams:
# fixed-width, rANS-coded signals v2/v3, item batches) with
# 10,000 mutations each under a 1 GiB address-space limit; `make test` runs 250 each.
FUZZ_CASES ?= 10000
fuzz: install
	$(BIN)/python -m tests.adversarial.fuzz --parser all --cases $(FUZZ_CASES) --seed 1 --limit-mb 1024

demo: install
	$(BIN)/edgeae demo

bench: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run_all.py

# Rebuild the pretrained speech denoiser shipped in the runtime package (~40 min, 1 thread;
# needs ../shared/data/speech) and measure it (docs/speech.md).
speech-model: install
	$(BIN)/python benchmarks/train_speech_denoiser.py

bench-speech: install
	$(BIN)/python -m pip install --quiet -e ".[metrics]"
	$(BIN)/python benchmarks/bench_speech.py

# The runtime's tests + the golden check in a Debian arm64 rootfs under qemu-user (root;
# the rootfs is built once into build/arm64-rootfs; a cached run takes minutes, not seconds).
test-arm:
	bash tools/arm/test-arm.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	rm -rf --one-file-system build/arm64-rootfs build/arm64-rootfs.partial build/arm64-wheel
