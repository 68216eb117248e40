#include "observe/log.h"

#include <chrono>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace switchyard::observe {
namespace {

// 2024-05-01T12:00:00.123Z
spdlog::log_clock::time_point FixedTime() {
  return spdlog::log_clock::time_point(std::chrono::milliseconds(1714564800123));
}

std::string Format(LogFormat format, std::string_view logger, spdlog::level::level_enum level,
                   std::string_view msg) {
  spdlog::details::log_msg record(FixedTime(), spdlog::source_loc{},
                                  spdlog::string_view_t(logger.data(), logger.size()), level,
                                  spdlog::string_view_t(msg.data(), msg.size()));
  spdlog::memory_buf_t buf;
  MakeFormatter(format)->format(record, buf);
  return std::string(buf.data(), buf.size());
}

TEST(LogOptionsTest, ParsesEveryLevelAndFormat) {
  const std::pair<std::string_view, spdlog::level::level_enum> cases[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},
  };
  for (const auto& [name, level] : cases) {
    core::Result<LogOptions> options = ParseLogOptions(name, "text");
    ASSERT_TRUE(options.ok()) << name;
    EXPECT_EQ(options->level, level) << name;
    EXPECT_EQ(options->format, LogFormat::kText);
  }
  core::Result<LogOptions> json = ParseLogOptions("info", "json");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->format, LogFormat::kJson);
}

TEST(LogOptionsTest, RejectsUnknownLevel) {
  core::Status status = ConfigureLogging("loud", "text");
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "unknown log level \"loud\" (expected trace, debug, info, warn or error)");
  // Case matters, and "warning" is not an alias.
  EXPECT_EQ(ParseLogOptions("INFO", "text").status().message(),
            "unknown log level \"INFO\" (expected trace, debug, info, warn or error)");
  EXPECT_EQ(ParseLogOptions("warning", "text").status().code(), core::StatusCode::kInvalidArgument);
}

TEST(LogOptionsTest, RejectsUnknownFormat) {
  core::Status status = ConfigureLogging("info", "xml");
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "unknown log format \"xml\" (expected text or json)");
}

TEST(LogFormatTest, JsonIsOneObjectPerLine) {
  EXPECT_EQ(Format(LogFormat::kJson, "gateway", spdlog::level::warn, "upstream \"slow\"\nretrying"),
            "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"warn\",\"logger\":\"gateway\","
            "\"msg\":\"upstream \\\"slow\\\"\\nretrying\"}\n");
  EXPECT_EQ(Format(LogFormat::kJson, "", spdlog::level::err, "x"),
            "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"error\",\"msg\":\"x\"}\n");
}

TEST(LogFormatTest, TextIsOneLine) {
  EXPECT_EQ(Format(LogFormat::kText, "ledger", spdlog::level::info, "flushed 3 events"),
            "2024-05-01T12:00:00.123Z info [ledger] flushed 3 events\n");
  EXPECT_EQ(Format(LogFormat::kText, "", spdlog::level::trace, "t"),
            "2024-05-01T12:00:00.123Z trace t\n");
}

TEST(LoggerTest, DropsRecordsBelowTheLevel) {
  std::ostringstream stream;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream);
  auto options = ParseLogOptions("warn", "json");
  ASSERT_TRUE(options.ok());
  auto logger = MakeLogger("router", sink, *options);
  logger->info("hidden");
  logger->warn("shown {}", 42);
  logger->error("also shown");
  std::string out = stream.str();
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  auto first_end = out.find('\n');
  ASSERT_NE(first_end, std::string::npos);
  std::string first = out.substr(0, first_end);
  EXPECT_TRUE(first.starts_with("{\"ts\":\"")) << first;
  EXPECT_TRUE(first.ends_with("\",\"level\":\"warn\",\"logger\":\"router\",\"msg\":\"shown 42\"}"))
      << first;
  EXPECT_NE(
      out.find("\"level\":\"error\",\"logger\":\"router\",\"msg\":\"also shown\"}\n", first_end),
      std::string::npos)
      << out;
}

TEST(LoggerTest, NamedLoggersFollowTheConfiguredDefault) {
  auto previous = spdlog::default_logger();
  ASSERT_TRUE(ConfigureLogging("error", "json").ok());
  auto logger = MakeLogger("providers");
  EXPECT_EQ(logger->name(), "providers");
  EXPECT_EQ(logger->level(), spdlog::level::err);
  EXPECT_FALSE(logger->should_log(spdlog::level::warn));
  EXPECT_EQ(logger->sinks(), spdlog::default_logger()->sinks());
  spdlog::set_default_logger(previous);
}

TEST(LoggerTest, NullLoggerLogsNothing) {
  auto logger = MakeNullLogger();
  EXPECT_FALSE(logger->should_log(spdlog::level::critical));
  logger->critical("discarded");
}

TEST(MaskSecretTest, KeepsFourAndTwoOfLongKeys) {
  EXPECT_EQ(MaskSecret("sk-proj-abcdef123456"), "sk-p**************56");
  EXPECT_EQ(MaskSecret("abcdefghijkl"), "abcd******kl");  // 12: shortest shown in part
}

TEST(MaskSecretTest, MasksShortStringsEntirely) {
  EXPECT_EQ(MaskSecret(""), "");
  EXPECT_EQ(MaskSecret("abc"), "***");
  EXPECT_EQ(MaskSecret("abcdefghijk"), "***********");  // 11
}

}  // namespace
}  // namespace switchyard::observe
