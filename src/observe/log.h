// Logging: spdlog set-up (level, text or JSON lines on stderr) and secret
// masking.
//
// Components never reach for a global logger: they take a
// std::shared_ptr<spdlog::logger> in their constructor. The composition root
// calls ConfigureLogging() once at start-up and hands out MakeLogger("name");
// tests hand out MakeNullLogger() or a logger on their own sink.
//
// Formats (one line per record, times in UTC with milliseconds):
//   text: 2024-05-01T12:00:00.123Z info [gateway] listening on 127.0.0.1:8080
//   json: {"ts":"2024-05-01T12:00:00.123Z","level":"info","logger":"gateway","msg":"..."}
// Level names are trace, debug, info, warn, error, critical. "logger" (and the
// bracketed name) is omitted for an unnamed logger.
//
// Thread-safety: loggers and formatters made here are safe to use from any
// thread. ConfigureLogging() replaces spdlog's process-wide default logger:
// call it once, before other threads log or call MakeLogger(name).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include "core/status.h"

namespace switchyard::observe {

enum class LogFormat { kText, kJson };

struct LogOptions {
  spdlog::level::level_enum level = spdlog::level::info;  // records below are dropped
  LogFormat format = LogFormat::kText;                    // line format
};

// Parses a level (trace|debug|info|warn|error) and a format (text|json).
// Errors: InvalidArgument naming the bad value and the accepted ones.
core::Result<LogOptions> ParseLogOptions(std::string_view level, std::string_view format);

// A formatter writing one line per record in `format` (see the file comment).
std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format);

// A logger named `name` writing to `sink` with `options`. The sink's formatter
// is replaced; the sink may be shared by several loggers.
std::shared_ptr<spdlog::logger> MakeLogger(std::string name, spdlog::sink_ptr sink,
                                           const LogOptions& options);

// Parses `level` and `format` and installs an unnamed logger writing to
// stderr as spdlog's default. Errors: those of ParseLogOptions (nothing is
// changed then).
core::Status ConfigureLogging(std::string_view level, std::string_view format);

// A logger named `name` sharing the default logger's sink, format and level
// (set by ConfigureLogging; before that, spdlog's own default).
std::shared_ptr<spdlog::logger> MakeLogger(std::string name);

// A logger that discards everything, for components under test.
std::shared_ptr<spdlog::logger> MakeNullLogger();

// Masks a key-like string for logs: keeps the first 4 and last 2 characters
// and replaces the rest with '*', preserving the length, e.g.
// "sk-proj-abcdef123456" -> "sk-p**************56". Strings shorter than 12
// characters are masked entirely.
std::string MaskSecret(std::string_view secret);

}  // namespace switchyard::observe
