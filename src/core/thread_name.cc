#include "core/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <array>

namespace switchyard::core {

void NameThisThread(std::string_view name) {
#if defined(__linux__)
  std::array<char, 16> buf{};  // 15 bytes and the terminator: the kernel's limit
  const size_t n = std::min(name.size(), buf.size() - 1);
  std::copy_n(name.begin(), n, buf.begin());
  (void)pthread_setname_np(pthread_self(), buf.data());
#else
  (void)name;
#endif
}

}  // namespace switchyard::core
