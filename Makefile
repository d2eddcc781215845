# Two commands a new user needs (see README): `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/sequencer: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: setup demo test lint
setup: $(BIN)/sequencer

demo: setup
	$(BIN)/sequencer demo

lint: setup
	$(BIN)/ruff check sequencer workers tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# The IMAP poller's tests start a private Dovecot; install Debian's when it is missing
# (as root, on CI's fresh machines). The script never lets the package start a system one.
/usr/sbin/dovecot:
	bash tests/integration/install_dovecot.sh

# The web app's end-to-end tests drive Debian's Chromium with Playwright (never a
# downloaded browser); install it when it is missing.
/usr/bin/chromium:
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null

test: lint /usr/sbin/dovecot /usr/bin/chromium
	$(BIN)/pytest
