# Two commands: `make run` (demo on the embedded default) and `make test` (the whole suite on
# real PostgreSQL, Redis, an S3 server and Chromium). Debian 12, as root.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# Debian packages the app needs at run time (pango/harfbuzz for WeasyPrint, gettext for messages).
APT_PACKAGES := gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
# Only the tests need these: Chromium for the browser tests, ClamAV for the malware-scan tests,
# poppler (pdftoppm/pdftotext) to read the rendered reports, docker-compose (v1, no engine needed)
# to validate docker-compose.yml, caddy to run deploy/Caddyfile in front of gunicorn.
TEST_APT_PACKAGES := chromium clamav clamav-daemon poppler-utils docker-compose caddy
PYTEST_ARGS ?=

.PHONY: run test install apt apt-test messages requirements lint audit clean bench load fuzz backup restore

run: install messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seal_fields >/dev/null
	$(PY) manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000 (Ctrl+C to stop)"
	$(PY) manage.py runserver 127.0.0.1:8000

test: install messages apt-test
	bash scripts/test-services.sh start
	@set -a; . var/test-services.env; set +a; status=0; \
	$(VENV)/bin/ruff check . || status=$$?; \
	[ $$status -ne 0 ] || $(VENV)/bin/ruff format --check . || status=$$?; \
	[ $$status -ne 0 ] || $(VENV)/bin/lint-imports --no-cache || status=$$?; \
	[ $$status -ne 0 ] || $(VENV)/bin/mypy . || status=$$?; \
	if [ $$status -eq 0 ]; then bash scripts/test-shards.sh $(PYTEST_ARGS) || status=$$?; fi; \
	bash scripts/test-services.sh stop; exit $$status

install: apt $(STAMP)

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	python3 -c "import ensurepip, venv" 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

apt-test:
	@missing=""; for p in $(TEST_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages for the tests:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > $(VENV)/requirements-all.txt
	$(PY) -m pip install -q -r $(VENV)/requirements-all.txt
	rm -f $(VENV)/.installed-*
	touch $@

messages: install
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null

requirements:
	$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > requirements.txt

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# Needs a reachable vulnerability database (PyPI's JSON API or OSV).
audit: install
	$(VENV)/bin/pip-audit -r requirements.txt --strict

clean:
	rm -rf $(VENV) var

# Benchmarks on the services of `make test`: uploads and validation (issue 4), the queue and
# review pages and PDF rendering (issue 5). Writes bench/RESULTS.md (the page and PDF figures are
# also in bench/results/). Loopback only; fails when a target is missed. Takes about 15 minutes.
# Services someone else started (a `make test` running meanwhile) are left running.
# Coverage-guided fuzzing (atheris) of the upload validators and the decryptor, FUZZ_SECONDS
# per target, seeded from the test corpus; a crash leaves its input in fuzz/work/findings/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := image pdf dicom zip decrypt
fuzz: install
	@mkdir -p fuzz/work/findings && $(PY) -m fuzz.seeds fuzz/work && status=0; \
	for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		LOG_LEVEL=CRITICAL $(PY) -m fuzz.run $$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=30 \
			-artifact_prefix=fuzz/work/findings/$$t- -print_final_stats=1 fuzz/work/$$t 2>fuzz/work/$$t.log \
			|| { status=1; tail -40 fuzz/work/$$t.log; }; \
		grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)" fuzz/work/$$t.log | sed "s/^/  /"; \
	done; exit $$status

# Backup: a database dump and a copy of every stored object (ciphertext) with a manifest, into
# BACKUP (default var/backups/<UTC time>). Restore needs an empty database and the same key ring.
backup: install
	$(PY) manage.py backup $(BACKUP)

restore: install
	@[ -n "$(BACKUP)" ] || { echo "usage: make restore BACKUP=<backup directory>"; exit 2; }
	$(PY) manage.py restore $(BACKUP)

bench: install messages
	@shared=0; [ ! -f var/test-services.state ] || shared=1; \
	bash scripts/test-services.sh start || exit $$?; \
	set -a; . var/test-services.env; set +a; status=0; \
	timeout -k 15 570 $(PY) bench/run.py || status=$$?; \
	timeout -k 15 570 $(PY) bench/pages.py bench/results/pages.md || status=$$?; \
	timeout -k 15 300 $(PY) bench/pdf.py bench/results/pdf.md || status=$$?; \
	timeout -k 15 300 $(PY) bench/timing.py bench/results/timing.md || status=$$?; \
	cat bench/results/pages.md bench/results/pdf.md bench/results/timing.md >> bench/RESULTS.md; \
	if [ -f bench/results/load.md ]; then \
		{ echo; echo "<!-- load:start -->"; cat bench/results/load.md; echo "<!-- load:end -->"; } >> bench/RESULTS.md; fi; \
	if [ $$shared = 0 ]; then bash scripts/test-services.sh stop; \
	else echo "bench: test services were already started; leaving them running"; fi; exit $$status

# Load test with chaos (issue 7): gunicorn, Celery beat and 1 then 2 Celery workers under locust's 50 patients
# and 10 specialists for LOAD_SECONDS per run, then a run that kills a worker and restarts Redis. Its own
# database, bucket and redis-server; loopback only; about 15 minutes. Writes bench/results/load.md and its
# section of bench/RESULTS.md; fails on errors, lost work or no gain from the second worker.
LOAD_SECONDS ?= 180
load: install messages
	@shared=0; [ ! -f var/test-services.state ] || shared=1; \
	bash scripts/test-services.sh start || exit $$?; \
	set -a; . var/test-services.env; set +a; status=0; \
	LOAD_SECONDS=$(LOAD_SECONDS) timeout -k 30 1140 $(PY) -m bench.load.run || status=$$?; \
	if [ $$shared = 0 ]; then bash scripts/test-services.sh stop; \
	else echo "load: test services were already started; leaving them running"; fi; exit $$status
