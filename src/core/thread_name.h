// Names the calling thread as the kernel shows it (top -H, ps -L, perf's
// comm, /proc/<pid>/task/<tid>/comm): "sy-loop-0", "sy-ledger", "sy-audit".
// Linux keeps at most 15 bytes; a longer name is cut there. Elsewhere, and
// when the kernel refuses, nothing happens (a name is a diagnostic, never an
// error).
#pragma once

#include <string_view>

namespace switchyard::core {

void NameThisThread(std::string_view name);

}  // namespace switchyard::core
