# Price book: `make prices` regenerates data/prices.json from the pinned npm
# package @pydantic/genai-prices (MIT), and the conformance probes that
# tests/economics checks the C++ price book against (the package's own answers
# for ~3,000 model names). The package goes into a throw-away temp dir; nothing
# else is added to the repository.
#   make prices                               prices in force today (UTC)
#   make prices PRICES_AS_OF=2026-01-01       prices in force on another day
#   make prices GENAI_PRICES_VERSION=x.y.z    another package version (update the pin here too)
# Needs Node.js and npm (the machine's; Debian's `nodejs npm` also works).
PRICES_MK_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
GENAI_PRICES_VERSION ?= 0.1.8
PRICES_AS_OF ?=

.PHONY: prices
prices:
	@command -v node >/dev/null && command -v npm >/dev/null || \
	  { echo "make prices: needs node and npm (apt-get install nodejs npm)"; exit 1; }
	@tmp=$$(mktemp -d /tmp/genai-prices.XXXXXX) && trap 'rm -rf "$$tmp"' EXIT && \
	echo "make prices: npm install @pydantic/genai-prices@$(GENAI_PRICES_VERSION) into $$tmp" && \
	npm install --prefix "$$tmp" --no-audit --no-fund --loglevel=error \
	  "@pydantic/genai-prices@$(GENAI_PRICES_VERSION)" >/dev/null && \
	PRICES_AS_OF="$(PRICES_AS_OF)" node "$(PRICES_MK_ROOT)/scripts/gen_prices.mjs" \
	  "$$tmp/node_modules/@pydantic/genai-prices" "$(PRICES_MK_ROOT)/data/prices.json" \
	  "$(PRICES_MK_ROOT)/tests/economics/testdata/price_probes.json"
