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
  libspdlog-dev libfmt-dev libsqlite3-dev liblinear-dev libhyperscan-dev libfasttext-dev libgoogle-perftools-dev libgtest-dev libgmock-dev libbenchmark-dev \
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

# clang-tidy runs on a copy of the compile database without CMake's precompiled-header
# -include (clang cannot read GCC's cmake_pch.hxx.gch; every source includes what it uses).
# -Wno-unknown-warning-option: the database holds GCC-only flags (-Wno-maybe-uninitialized).
# BOOST_ASIO_HAS_CO_AWAIT: Boost 1.74 enables co_await for GCC but not for clang's C++20.
# report-in-main-source-file: an analyzer finding whose path ends in a library header is
# reported on our line that led there, where a NOLINT can mark a false positive.
TIDY_DB := $(BUILD_DIR)/tidy
tidy: build
	mkdir -p $(TIDY_DB)
	sed -E 's# -Winvalid-pch##; s# -include [^ ]*/cmake_pch\.hxx##' $(BUILD_DIR)/compile_commands.json \
	  > $(TIDY_DB)/compile_commands.json
	git ls-files 'src/*.cc' | xargs clang-tidy -p $(TIDY_DB) --quiet \
	  --extra-arg=-Wno-unknown-warning-option --extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT=1 \
	  --extra-arg=-Xclang --extra-arg=-analyzer-config \
	  --extra-arg=-Xclang --extra-arg=report-in-main-source-file=true

clean:
	rm -rf $(BUILD_DIR) build-*
