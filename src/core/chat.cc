#include "core/chat.h"

namespace switchyard::core {

std::string_view ChatRequest::LastUserText() const {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == "user") return it->content;
  }
  return {};
}

}  // namespace switchyard::core
