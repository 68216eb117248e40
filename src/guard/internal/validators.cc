#include "guard/internal/validators.h"

#include <arpa/inet.h>

#include <array>
#include <cmath>
#include <cstring>

namespace switchyard::guard::internal {
namespace {

struct IbanCountry {
  char code[3];
  unsigned char length;
};

// ISO 13616 registry (SWIFT), sorted by code.
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27},
    {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
    {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28},
    {"PS", 29}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31}, {"SD", 18},
    {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23},
    {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

}  // namespace

bool LuhnValid(std::string_view s) {
  int sum = 0;
  bool double_it = false;
  bool any = false;
  for (size_t i = s.size(); i-- > 0;) {
    const char c = s[i];
    if (c < '0' || c > '9') continue;
    any = true;
    int d = c - '0';
    if (double_it) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double_it = !double_it;
  }
  return any && sum % 10 == 0;
}

size_t IbanLength(std::string_view country) {
  if (country.size() != 2) return 0;
  size_t lo = 0;
  size_t hi = std::size(kIbanCountries);
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    const int cmp = std::strncmp(kIbanCountries[mid].code, country.data(), 2);
    if (cmp == 0) return kIbanCountries[mid].length;
    if (cmp < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return 0;
}

bool IbanChecksumValid(std::string_view compact) {
  if (compact.size() < 5) return false;
  unsigned remainder = 0;
  auto feed = [&remainder](char c) {
    if (c >= '0' && c <= '9') {
      remainder = (remainder * 10 + static_cast<unsigned>(c - '0')) % 97;
      return true;
    }
    if (c >= 'A' && c <= 'Z') {
      remainder = (remainder * 100 + static_cast<unsigned>(c - 'A' + 10)) % 97;
      return true;
    }
    return false;
  };
  for (size_t i = 4; i < compact.size(); ++i) {
    if (!feed(compact[i])) return false;
  }
  for (size_t i = 0; i < 4; ++i) {
    if (!feed(compact[i])) return false;
  }
  return remainder == 1;
}

bool SsnValid(std::string_view area, std::string_view group, std::string_view serial) {
  if (area.size() != 3 || group.size() != 2 || serial.size() != 4) return false;
  if (area == "000" || area == "666" || area[0] == '9') return false;
  if (group == "00") return false;
  if (serial == "0000") return false;
  return true;
}

double ShannonEntropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<uint32_t, 256> counts{};
  for (const char c : s) ++counts[static_cast<unsigned char>(c)];
  const double n = static_cast<double>(s.size());
  double h = 0;
  for (const uint32_t c : counts) {
    if (c == 0) continue;
    const double p = c / n;
    h -= p * std::log2(p);
  }
  return h;
}

bool Ipv6Valid(std::string_view s) {
  char buf[64];
  if (s.size() >= sizeof(buf)) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char addr[16];
  return inet_pton(AF_INET6, buf, addr) == 1;
}

}  // namespace switchyard::guard::internal
