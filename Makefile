# A newcomer needs two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
# The host may carry a global pip configuration (extra indexes, constraints):
# our own installs ignore it and name the system CA bundle explicitly.
ISOLATED_PIP = env $$(env | grep -o '^PIP_[A-Za-z0-9_]*' | sed 's/^/-u /') \
	PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 \
	$$( [ -r /etc/ssl/certs/ca-certificates.crt ] && echo PIP_CERT=/etc/ssl/certs/ca-certificates.crt )

.PHONY: demo test lint unit integration bench clean stress image-test-tools package cnb-package

# The Debian packages the tests run for real (bin/image's: a registry, a base image
# builder, a container engine; the private-dependency tests': an SSH server for
# git over SSH): installed when missing (apt-get update once).
IMAGE_TEST_PACKAGES := docker-registry mmdebstrap podman runc skopeo uidmap fuse-overlayfs apache2-utils openssl \
	openssh-server
image-test-tools:
	@missing=$$(for p in $(IMAGE_TEST_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing for the tests: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else echo "Not root: the image tests that need $$missing will be skipped"; fi; \
	fi

$(VENV)/.installed: requirements/buildpack.txt requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(ISOLATED_PIP) $(VENV)/bin/python -m pip install --quiet -r requirements/buildpack.txt -r requirements/dev.txt
	touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check lib tests scripts
	$(VENV)/bin/mypy lib

unit: $(VENV)/.installed
	$(VENV)/bin/pytest -m "not integration"

integration: $(VENV)/.installed image-test-tools
	$(VENV)/bin/pytest -m integration

test: lint $(VENV)/.installed image-test-tools
	$(VENV)/bin/pytest

demo: $(VENV)/.installed
	$(VENV)/bin/python scripts/demo.py

clean:
	rm -rf $(VENV) .tools .tools.* .cache .pytest_cache .mypy_cache .ruff_cache dist

# The buildpack as platforms install it: dist/leanengine-python-buildpack-<version>.tgz with its
# dependencies inside, for the python3 that runs this (PYTHON=python3.12 for another one).
DIST ?= dist
package:
	$(PYTHON) scripts/package_buildpack.py $(DIST)

# The same, plus the Cloud Native Buildpack directory (buildpack.toml at its root) and its
# package.toml, in $(DIST)/cnb/: what `pack build --buildpack` and `pack buildpack package` take.
cnb-package:
	$(PYTHON) scripts/package_buildpack.py $(DIST) --cnb

bench: $(VENV)/.installed image-test-tools
	$(VENV)/bin/python scripts/bench.py

# The fault and abuse suite at full counts (tests/stress; `make test` runs it with a few trials).
stress: $(VENV)/.installed
	$(VENV)/bin/python scripts/stress.py
