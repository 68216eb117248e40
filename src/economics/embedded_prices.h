// The bytes of data/prices.json as it was at build time, compiled into
// sy_economics (an assembler .incbin in a generated source file), so the binary
// prices requests without a data directory.
//
// Ownership: static storage for the life of the program. Thread-safety: immutable.
#pragma once

#include <string_view>

namespace switchyard::economics {

// The embedded price data (JSON text in the schema of price_book.h).
std::string_view EmbeddedPriceData();

}  // namespace switchyard::economics
