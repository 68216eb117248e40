# cmake -DNPM=<npm> -DNPM_PREFIX=<dir> -DVERSION=<x.y.z> -P fetch_playwright.cmake
# Installs playwright-core@VERSION into NPM_PREFIX unless that version is there.
# Never fails the build: without the package the e2e test skips.
set(package_json "${NPM_PREFIX}/node_modules/playwright-core/package.json")
set(installed "")
if(EXISTS "${package_json}")
  file(READ "${package_json}" text)
  string(JSON installed ERROR_VARIABLE json_error GET "${text}" version)
endif()
if(installed STREQUAL VERSION)
  return()
endif()
message(STATUS "e2e: npm install playwright-core@${VERSION} into ${NPM_PREFIX}")
file(MAKE_DIRECTORY "${NPM_PREFIX}")
execute_process(
  COMMAND "${NPM}" install --prefix "${NPM_PREFIX}" "playwright-core@${VERSION}"
          --no-audit --no-fund --no-save --loglevel=error
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(WARNING "e2e: `npm install playwright-core@${VERSION}` failed (${result}); the "
                  "dashboard end-to-end test will be skipped.")
endif()
