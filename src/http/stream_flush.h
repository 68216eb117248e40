#pragma once

namespace switchyard::http {

// Whether a streamed chunk must reach the client now, or may wait for the
// next write of the same response (the caller writes again, or ends the
// stream, without waiting on the network in between).
enum class StreamFlush { kNow, kWithNext };

}  // namespace switchyard::http
