# pexim — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Debian packages the test suite talks to (real exim is the oracle).
DEB_TEST_PKGS := exim4-daemon-heavy exim4-doc-html swaks tinycdb redis-server sqlite3 \
                 dovecot-core dovecot-lmtpd haproxy fail2ban

.PHONY: run test lint bench venv debs clean

$(PY): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	  $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(PY)

venv: $(PY)

# Installs the Debian packages the tests need, once, when missing.
debs:
	@missing=""; for p in $(DEB_TEST_PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make test needs root to install:$$missing" >&2; exit 1; fi; \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

# The embedded default configuration, with its files under ./var.
RUN_ARGS = -C "$$($(PY) -c 'from pexim.build import embedded_config_path as p; print(p())')" \
           -DPEXIM_VAR_DIR=$(CURDIR)/var

run: $(PY)
	@mkdir -p var/spool var/log var/mail var/run
	$(VENV)/bin/pexim $(RUN_ARGS) -bV
	$(VENV)/bin/pexim $(RUN_ARGS) -bP config
	$(VENV)/bin/pexim $(RUN_ARGS) -bdf -q30m

test: $(PY) debs
	$(VENV)/bin/pytest -n 2 -p no:cacheprovider tests

lint: $(PY)
	$(VENV)/bin/ruff check src tests bench

bench: $(PY) debs
	$(PY) bench/run.py && $(PY) bench/expand_bench.py

clean:
	rm -rf $(VENV) var build src/*.egg-info
