// Checksums and structural rules behind the PII detectors. Pure functions,
// thread-safe, no allocation unless stated. Exposed for tests and the bench.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace switchyard::guard::internal {

// Luhn check over the ASCII digits of `s`; other characters are skipped.
// False when `s` holds no digit.
bool LuhnValid(std::string_view s);

// Expected IBAN length (characters, no spaces) for an ISO country code such as
// "DE", or 0 when the country does not use IBANs.
size_t IbanLength(std::string_view country);

// Mod-97 check (ISO 13616) over a compact IBAN ("DE89370400440532013000"):
// upper-case letters and digits only, country length already checked.
bool IbanChecksumValid(std::string_view compact);

// US SSN rules for "AAA-GG-SSSS" given as three digit strings: area not 000,
// 666 or 900-999, group not 00, serial not 0000.
bool SsnValid(std::string_view area, std::string_view group, std::string_view serial);

// Shannon entropy of the byte distribution of `s`, in bits per byte.
double ShannonEntropy(std::string_view s);

// inet_pton(AF_INET6) on `s` (which must be < 64 bytes).
bool Ipv6Valid(std::string_view s);

}  // namespace switchyard::guard::internal
