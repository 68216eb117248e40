// Provider helpers: UpstreamHttpError mapping (incl. Retry-After forms),
// IsRetryable, upstream error-message extraction, MakeProvider errors and the
// SendHook callable reference.
#include "providers/provider.h"

#include <gtest/gtest.h>

#include "providers/internal.h"

namespace switchyard::providers {
namespace {

using core::StatusCode;
using std::chrono::milliseconds;

TEST(UpstreamHttpErrorTest, ServerErrorIsUnavailableAndNamesTheProvider) {
  core::Status s = UpstreamHttpError("openai", 500, "boom", "", "");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "provider 'openai' answered HTTP 500: boom");
  EXPECT_EQ(s.upstream_status(), 500);
  EXPECT_FALSE(s.retry_after().has_value());

  core::Status bare = UpstreamHttpError("local", 503, "", "", "");
  EXPECT_EQ(bare.message(), "provider 'local' answered HTTP 503");
}

TEST(UpstreamHttpErrorTest, MapsStatusesToCodes) {
  EXPECT_EQ(UpstreamHttpError("p", 429, "", "", "").code(), StatusCode::kResourceExhausted);
  for (int s : {400, 404, 413, 422}) {
    EXPECT_EQ(UpstreamHttpError("p", s, "", "", "").code(), StatusCode::kInvalidArgument) << s;
  }
  for (int s : {408, 504}) {
    EXPECT_EQ(UpstreamHttpError("p", s, "", "", "").code(), StatusCode::kDeadlineExceeded) << s;
  }
  for (int s : {401, 403, 500, 502, 503, 529}) {
    EXPECT_EQ(UpstreamHttpError("p", s, "", "", "").code(), StatusCode::kUnavailable) << s;
  }
}

TEST(UpstreamHttpErrorTest, RetryAfterSeconds) {
  core::Status s = UpstreamHttpError("p", 429, "slow down", "2", "");
  ASSERT_TRUE(s.retry_after().has_value());
  EXPECT_EQ(*s.retry_after(), milliseconds(2000));
  EXPECT_EQ(*UpstreamHttpError("p", 503, "", " 0 ", "").retry_after(), milliseconds(0));
}

TEST(UpstreamHttpErrorTest, RetryAfterMsWinsOverSeconds) {
  core::Status s = UpstreamHttpError("p", 429, "", "2", "50");
  ASSERT_TRUE(s.retry_after().has_value());
  EXPECT_EQ(*s.retry_after(), milliseconds(50));
  EXPECT_EQ(*UpstreamHttpError("p", 429, "", "", "1500").retry_after(), milliseconds(1500));
}

TEST(UpstreamHttpErrorTest, UnusableRetryAfterIsIgnored) {
  // An HTTP-date, a negative number and junk give no delay (the gateway then
  // uses its own backoff).
  EXPECT_FALSE(UpstreamHttpError("p", 429, "", "Wed, 21 Oct 2015 07:28:00 GMT", "").retry_after());
  EXPECT_FALSE(UpstreamHttpError("p", 429, "", "-1", "").retry_after());
  EXPECT_FALSE(UpstreamHttpError("p", 429, "", "1.5", "x").retry_after());
  // A bad retry-after-ms falls back to a good Retry-After.
  EXPECT_EQ(*UpstreamHttpError("p", 429, "", "3", "soon").retry_after(), milliseconds(3000));
}

TEST(IsRetryableTest, ConnectErrors5xxAnd429AreRetryable) {
  EXPECT_TRUE(IsRetryable(core::Unavailable("connect failed")));
  EXPECT_TRUE(IsRetryable(UpstreamHttpError("p", 500, "", "", "")));
  EXPECT_TRUE(IsRetryable(UpstreamHttpError("p", 502, "", "", "")));
  EXPECT_TRUE(IsRetryable(UpstreamHttpError("p", 503, "", "", "")));
  EXPECT_TRUE(IsRetryable(UpstreamHttpError("p", 529, "", "", "")));
  EXPECT_TRUE(IsRetryable(UpstreamHttpError("p", 429, "", "", "")));
}

TEST(IsRetryableTest, OtherFailuresAreNot) {
  EXPECT_FALSE(IsRetryable(UpstreamHttpError("p", 501, "", "", "")));
  EXPECT_FALSE(IsRetryable(UpstreamHttpError("p", 401, "", "", "")));
  EXPECT_FALSE(IsRetryable(UpstreamHttpError("p", 403, "", "", "")));
  EXPECT_FALSE(IsRetryable(UpstreamHttpError("p", 400, "", "", "")));
  EXPECT_FALSE(IsRetryable(UpstreamHttpError("p", 504, "", "", "")));
  EXPECT_FALSE(IsRetryable(core::DeadlineExceeded("first byte")));
  EXPECT_FALSE(IsRetryable(core::Cancelled("client went away")));
  EXPECT_FALSE(IsRetryable(core::InvalidArgument("bad")));
  EXPECT_FALSE(IsRetryable(core::Status::Ok()));
}

TEST(ExtractErrorMessageTest, ReadsTheCommonShapes) {
  EXPECT_EQ(ExtractErrorMessage(R"({"error":{"message":"quota","type":"x"}})"), "quota");
  EXPECT_EQ(ExtractErrorMessage(R"({"error":"model not loaded"})"), "model not loaded");
  EXPECT_EQ(ExtractErrorMessage(R"({"message":"oops"})"), "oops");
  EXPECT_EQ(ExtractErrorMessage(R"({"detail":"x"})"), R"({"detail":"x"})");
  EXPECT_EQ(ExtractErrorMessage("Bad Gateway"), "Bad Gateway");
  EXPECT_EQ(ExtractErrorMessage(std::string(300, 'z')), std::string(200, 'z'));
  EXPECT_EQ(ExtractErrorMessage(""), "");
}

TEST(MakeProviderTest, BuildsBothKinds) {
  config::ProviderConfig cfg;
  cfg.name = "a";
  cfg.base_url = "http://127.0.0.1:1/v1";
  cfg.kind = "openai";
  auto openai = MakeProvider(cfg);
  ASSERT_TRUE(openai.ok());
  EXPECT_EQ((*openai)->config().name, "a");
  cfg.kind = "anthropic";
  EXPECT_TRUE(MakeProvider(cfg).ok());
}

TEST(MakeProviderTest, RejectsABadUrlOrKind) {
  config::ProviderConfig cfg;
  cfg.name = "x";
  cfg.base_url = "nope";
  auto bad_url = MakeProvider(cfg);
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_url.status().message(),
            "provider 'x': base_url: expected an http:// or https:// URL, got \"nope\"");

  cfg.base_url = "http://h";
  cfg.kind = "gemini";
  auto bad_kind = MakeProvider(cfg);
  ASSERT_FALSE(bad_kind.ok());
  EXPECT_EQ(bad_kind.status().message(), "provider 'x': unknown kind \"gemini\"");
}

TEST(SendHookTest, EmptyByDefault) {
  SendHook hook;
  EXPECT_FALSE(hook);
  EXPECT_FALSE(CallContext{}.on_send);
}

TEST(SendHookTest, CallsTheReferencedCallableWithTheBody) {
  std::string seen;
  int calls = 0;
  const std::string tag = "audit:";
  auto record = [&seen, &calls, &tag](std::string_view body) {
    seen = tag + std::string(body);
    ++calls;
  };
  CallContext ctx;
  ctx.on_send = SendHook(record);
  ASSERT_TRUE(ctx.on_send);
  const CallContext& view = ctx;  // called through a const context, as the adapters do
  view.on_send("{\"model\":\"m\"}");
  EXPECT_EQ(seen, "audit:{\"model\":\"m\"}");
  view.on_send("");
  EXPECT_EQ(seen, "audit:");
  EXPECT_EQ(calls, 2);
}

TEST(SendHookTest, ReferencesNotCopiesTheCallable) {
  // A callable with state: the hook calls the object itself, not a copy.
  struct Counter {
    size_t bytes = 0;
    void operator()(std::string_view body) { bytes += body.size(); }
  } counter;
  SendHook hook(counter);
  hook("abc");
  hook("de");
  EXPECT_EQ(counter.bytes, 5u);
  const auto fixed = [](std::string_view body) { EXPECT_EQ(body, "x"); };
  const SendHook const_hook(fixed);  // a const callable works too
  const_hook("x");
}

}  // namespace
}  // namespace switchyard::providers
