# Switchyard — the two commands a newcomer needs:
#   make quickstart   install what is missing, build, run the gateway on embedded defaults
#   make test         install what is missing, build, run every test
SHELL := /bin/bash
.DEFAULT_GOAL := build

JOBS ?= $(shell nproc)
BUILD_DIR := build

# Debian 12 packages the build and the tests need.
DEB_PACKAGES := build-essential cmake ninja-build pkg-config ccache ca-certificates \
  libboost-dev libssl-dev libsimdjson-dev libtomlplusplus-dev libcli11-dev \
  libspdlog-dev libfmt-dev libsqlite3-dev liblinear-dev libhyperscan-dev libfasttext-dev libmimalloc-dev libgtest-dev libgmock-dev libbenchmark-dev \
  curl python3 chromium

.PHONY: deps build test quickstart asan tsan format tidy clean

include mk/prices.mk
include mk/tokenize.mk

# Installs only what is missing; a machine that has everything runs no apt at all.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "make deps: all Debian packages present"; fi

$(BUILD_DIR)/build.ninja:
	cmake --preset release >/dev/null

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 300

quickstart: build
	./scripts/quickstart.sh

# Sanitizer runs of the whole suite (run before resolving an issue).
asan: deps
	cmake --preset asan-ubsan >/dev/null && cmake --build build-asan-ubsan -j $(JOBS)
	cd build-asan-ubsan && ctest --output-on-failure -j $(JOBS) --timeout 600

tsan: deps
	cmake --preset tsan >/dev/null && cmake --build build-tsan -j $(JOBS)
	cd build-tsan && ctest --output-on-failure -j $(JOBS) --timeout 600

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

tidy: build
	git ls-files 'src/*.cc' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf $(BUILD_DIR) build-*
