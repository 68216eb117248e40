#include "observe/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/json_writer.h"

namespace switchyard::observe {
namespace {

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// Appends "2024-05-01T12:00:00.123Z".
void AppendTimestamp(std::string& out, spdlog::log_clock::time_point time) {
  auto since_epoch = time.time_since_epoch();
  auto secs = std::chrono::floor<std::chrono::seconds>(since_epoch);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - secs).count();
  std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf, n);
  char ms[8];
  std::snprintf(ms, sizeof(ms), ".%03dZ", static_cast<int>(millis));
  out += ms;
}

std::string_view View(spdlog::string_view_t s) {
  return {s.data(), s.size()};
}

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    line.reserve(96 + msg.payload.size());
    if (format_ == LogFormat::kJson) {
      std::string ts;
      AppendTimestamp(ts, msg.time);
      core::JsonWriter w(line);
      w.BeginObject().Field("ts", ts).Field("level", LevelName(msg.level));
      if (msg.logger_name.size() > 0) w.Field("logger", View(msg.logger_name));
      w.Field("msg", View(msg.payload)).EndObject();
    } else {
      AppendTimestamp(line, msg.time);
      line += ' ';
      line += LevelName(msg.level);
      if (msg.logger_name.size() > 0) {
        line += " [";
        line += View(msg.logger_name);
        line += ']';
      }
      line += ' ';
      line += View(msg.payload);
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_);
  }

 private:
  LogFormat format_;
};

}  // namespace

core::Result<LogOptions> ParseLogOptions(std::string_view level, std::string_view format) {
  LogOptions options;
  if (level == "trace") {
    options.level = spdlog::level::trace;
  } else if (level == "debug") {
    options.level = spdlog::level::debug;
  } else if (level == "info") {
    options.level = spdlog::level::info;
  } else if (level == "warn") {
    options.level = spdlog::level::warn;
  } else if (level == "error") {
    options.level = spdlog::level::err;
  } else {
    return core::InvalidArgument("unknown log level \"" + std::string(level) +
                                 "\" (expected trace, debug, info, warn or error)");
  }
  if (format == "text") {
    options.format = LogFormat::kText;
  } else if (format == "json") {
    options.format = LogFormat::kJson;
  } else {
    return core::InvalidArgument("unknown log format \"" + std::string(format) +
                                 "\" (expected text or json)");
  }
  return options;
}

std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format) {
  return std::make_unique<LineFormatter>(format);
}

std::shared_ptr<spdlog::logger> MakeLogger(std::string name, spdlog::sink_ptr sink,
                                           const LogOptions& options) {
  sink->set_formatter(MakeFormatter(options.format));
  auto logger = std::make_shared<spdlog::logger>(std::move(name), std::move(sink));
  logger->set_level(options.level);
  logger->flush_on(spdlog::level::warn);
  return logger;
}

core::Status ConfigureLogging(std::string_view level, std::string_view format) {
  core::Result<LogOptions> options = ParseLogOptions(level, format);
  if (!options.ok()) return options.take_status();
  spdlog::set_default_logger(
      MakeLogger("", std::make_shared<spdlog::sinks::stderr_sink_mt>(), *options));
  return core::Status::Ok();
}

std::shared_ptr<spdlog::logger> MakeLogger(std::string name) {
  return spdlog::default_logger()->clone(std::move(name));
}

std::shared_ptr<spdlog::logger> MakeNullLogger() {
  auto logger =
      std::make_shared<spdlog::logger>("null", std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::off);
  return logger;
}

std::string MaskSecret(std::string_view secret) {
  constexpr size_t kKeepFront = 4;
  constexpr size_t kKeepBack = 2;
  constexpr size_t kMinLengthToReveal = 12;
  std::string masked(secret.size(), '*');
  if (secret.size() >= kMinLengthToReveal) {
    masked.replace(0, kKeepFront, secret.substr(0, kKeepFront));
    masked.replace(secret.size() - kKeepBack, kKeepBack, secret.substr(secret.size() - kKeepBack));
  }
  return masked;
}

}  // namespace switchyard::observe
