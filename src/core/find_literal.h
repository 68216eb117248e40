// FindLiteral: the first occurrence of a short literal in a text, for the
// request path's key searches in JSON text it does not parse (the SSE relay's
// "usage" / "finish_reason" keys); FindEitherLiteral: of either of two, in one
// pass.
//
// With SSE2 (every x86-64 CPU) it tests 16 start positions at once: a start
// is a candidate when two of the needle's bytes are at their places (its
// second and second-to-last byte for needles of 4 bytes or more, so that the
// quotes around a JSON key do not act as filter bytes: quotes are everywhere
// in JSON), and only candidates are compared in full. On the bench stream's
// chunks that is a third of the time of Horspool (std::boyer_moore_horspool_
// searcher, whose data-dependent skips mispredict; about as many
// instructions), 0.7x glibc 2.36's memmem (not vectorised) and a fifth of
// string_view::find (a memchr per occurrence of the first byte), per
// bench/relay_bench.cc. Elsewhere it is string_view::find.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace switchyard::core {

// The position of the first occurrence of `needle` in `hay` at or after
// `from`, or std::string_view::npos. An empty needle is found at `from` when
// from <= hay.size() (as string_view::find).
inline size_t FindLiteral(std::string_view hay, std::string_view needle, size_t from = 0) {
  constexpr size_t kNpos = std::string_view::npos;
  const size_t n = needle.size();
  if (n > hay.size() || from > hay.size() - n) return kNpos;
#if defined(__SSE2__)
  if (n >= 2) {
    const size_t p = n >= 4 ? 1 : 0;          // first filter byte
    const size_t q = n >= 4 ? n - 2 : n - 1;  // second filter byte
    const __m128i want_p = _mm_set1_epi8(needle[p]);
    const __m128i want_q = _mm_set1_epi8(needle[q]);
    const char* const h = hay.data();
    const size_t last = hay.size() - n;  // the last possible start
    // Candidates among the 16 starts at `at` (its loads end at at + q + 15 <=
    // last + q < hay.size()), from the lowest.
    auto block = [&](size_t at) {
      const __m128i at_p = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + at + p));
      const __m128i at_q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + at + q));
      return static_cast<unsigned>(_mm_movemask_epi8(
          _mm_and_si128(_mm_cmpeq_epi8(at_p, want_p), _mm_cmpeq_epi8(at_q, want_q))));
    };
    auto first_match = [&](size_t at, unsigned mask) {
      for (; mask != 0; mask &= mask - 1) {
        const size_t start = at + static_cast<size_t>(__builtin_ctz(mask));
        if (std::memcmp(h + start, needle.data(), n) == 0) return start;
      }
      return kNpos;
    };
    if (last >= 15) {
      size_t i = from;
      for (; i + 15 <= last; i += 16) {
        if (const size_t found = first_match(i, block(i)); found != kNpos) return found;
      }
      if (i > last) return kNpos;
      // The last starts, in one block that ends at `last` and overlaps the
      // previous one: the starts before `i` were tested already.
      const size_t at = last - 15;
      return first_match(at, block(at) & (~0U << (i - at)));
    }
    for (size_t i = from; i <= last; ++i) {  // a text shorter than a block
      if (h[i + p] == needle[p] && h[i + q] == needle[q] &&
          std::memcmp(h + i, needle.data(), n) == 0) {
        return i;
      }
    }
    return kNpos;
  }
#endif
  return hay.find(needle, from);
}

// Where FindEitherLiteral found something: the position (npos: neither
// occurs) and whether it is the second needle's.
struct EitherMatch {
  size_t pos = std::string_view::npos;
  bool second = false;
};

// The first occurrence of `a` or `b` in `hay` at or after `from` (`a` when
// both start at the same place): one pass over the text where two FindLiteral
// calls would make two (the SSE relay looks for two keys in every event).
// With SSE2, needles of 4 bytes or more and a text of a block or more, each
// block of 16 starts is filtered for both needles (two filter bytes each, as
// FindLiteral), the last block overlapping the one before; the starts after
// it, where only the shorter needle fits, go to FindLiteral. Otherwise: one
// FindLiteral per needle.
inline EitherMatch FindEitherLiteral(std::string_view hay, std::string_view a, std::string_view b,
                                     size_t from = 0) {
  constexpr size_t kNpos = std::string_view::npos;
#if defined(__SSE2__)
  const size_t na = a.size();
  const size_t nb = b.size();
  const size_t longest = na > nb ? na : nb;
  if (na >= 4 && nb >= 4 && hay.size() >= longest + 15) {
    const char* const h = hay.data();
    const size_t last = hay.size() - longest;  // the last start both needles fit after
    const __m128i a1 = _mm_set1_epi8(a[1]);
    const __m128i a2 = _mm_set1_epi8(a[na - 2]);
    const __m128i b1 = _mm_set1_epi8(b[1]);
    const __m128i b2 = _mm_set1_epi8(b[nb - 2]);
    // Candidate bits of the 16 starts at `at` for a needle whose second byte
    // is `want_p` (the bytes at at + 1, loaded once for both needles) and whose
    // byte at q is `want_q`. Loads end at at + q + 15 <= last + longest - 2 <
    // hay.size().
    auto mask = [&](size_t at, __m128i at_p, size_t q, __m128i want_p, __m128i want_q) {
      const __m128i at_q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + at + q));
      return static_cast<unsigned>(_mm_movemask_epi8(
          _mm_and_si128(_mm_cmpeq_epi8(at_p, want_p), _mm_cmpeq_epi8(at_q, want_q))));
    };
    // Blocks of 16 starts from `from`; the last one ends at `last`, overlapping
    // the one before (`keep` drops the starts tested already).
    for (size_t i = from; i <= last;) {
      const size_t at = i + 15 <= last ? i : last - 15;
      const unsigned keep = ~0U << (i - at);
      const __m128i at_p = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + at + 1));
      const unsigned ma = mask(at, at_p, na - 2, a1, a2) & keep;
      const unsigned mb = mask(at, at_p, nb - 2, b1, b2) & keep;
      for (unsigned m = ma | mb; m != 0; m &= m - 1) {
        const unsigned bit = m & (0U - m);
        const size_t start = at + static_cast<size_t>(__builtin_ctz(m));
        if ((ma & bit) != 0 && std::memcmp(h + start, a.data(), na) == 0) return {start, false};
        if ((mb & bit) != 0 && std::memcmp(h + start, b.data(), nb) == 0) return {start, true};
      }
      i = at + 16;
    }
    // Starts after `last`: only the shorter needle fits there.
    if (na == nb) return {};
    const bool b_shorter = nb < na;
    const size_t at = FindLiteral(hay, b_shorter ? b : a, from > last ? from : last + 1);
    return at == kNpos ? EitherMatch{} : EitherMatch{at, b_shorter};
  }
#endif
  const size_t at_a = FindLiteral(hay, a, from);
  const size_t at_b = FindLiteral(hay, b, from);
  if (at_b < at_a) return {at_b, true};
  if (at_a != kNpos) return {at_a, false};
  return {};
}

}  // namespace switchyard::core
