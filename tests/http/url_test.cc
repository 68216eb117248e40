// Url::Parse and Origin: the accepted forms and every rejection message.
#include "http/url.h"

#include <gtest/gtest.h>

namespace switchyard::http {
namespace {

TEST(UrlTest, ParsesHttpWithPortAndPath) {
  auto url = Url::Parse("http://localhost:8000/v1/");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_FALSE(url->origin.tls);
  EXPECT_EQ(url->origin.host, "localhost");
  EXPECT_EQ(url->origin.port, 8000);
  EXPECT_EQ(url->path, "/v1");  // trailing slash dropped
  EXPECT_EQ(url->origin.Key(), "http://localhost:8000");
  EXPECT_EQ(url->origin.HostHeader(), "localhost:8000");
}

TEST(UrlTest, HttpsDefaultsToPort443AndOmitsItFromHost) {
  auto url = Url::Parse("https://api.openai.com/v1");
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->origin.tls);
  EXPECT_EQ(url->origin.host, "api.openai.com");
  EXPECT_EQ(url->origin.port, 443);
  EXPECT_EQ(url->path, "/v1");
  EXPECT_EQ(url->origin.Key(), "https://api.openai.com:443");
  EXPECT_EQ(url->origin.HostHeader(), "api.openai.com");
}

TEST(UrlTest, HttpDefaultsToPort80AndRootPathIsEmpty) {
  auto url = Url::Parse("http://example.com");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->origin.port, 80);
  EXPECT_EQ(url->path, "");
  EXPECT_EQ(url->origin.HostHeader(), "example.com");

  auto slash = Url::Parse("http://example.com///");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->path, "");
}

TEST(UrlTest, ParsesBracketedIpv6) {
  auto url = Url::Parse("http://[::1]:9000/api");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->origin.host, "::1");
  EXPECT_EQ(url->origin.port, 9000);
  EXPECT_EQ(url->path, "/api");
  EXPECT_EQ(url->origin.HostHeader(), "[::1]:9000");

  auto no_port = Url::Parse("https://[2001:db8::1]");
  ASSERT_TRUE(no_port.ok());
  EXPECT_EQ(no_port->origin.host, "2001:db8::1");
  EXPECT_EQ(no_port->origin.port, 443);
  EXPECT_EQ(no_port->origin.HostHeader(), "[2001:db8::1]");
}

TEST(UrlTest, OriginsCompareByAllParts) {
  auto a = Url::Parse("http://h:1/x");
  auto b = Url::Parse("http://h:1/y");
  auto c = Url::Parse("https://h:1/x");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->origin, b->origin);
  EXPECT_NE(a->origin, c->origin);
}

struct BadUrl {
  const char* text;
  const char* message;
};

class UrlRejectTest : public ::testing::TestWithParam<BadUrl> {};

TEST_P(UrlRejectTest, ExplainsWhy) {
  auto url = Url::Parse(GetParam().text);
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(url.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    All, UrlRejectTest,
    ::testing::Values(
        BadUrl{"ftp://x", R"(expected an http:// or https:// URL, got "ftp://x")"},
        BadUrl{"", R"(expected an http:// or https:// URL, got "")"},
        BadUrl{"localhost:8000", R"(expected an http:// or https:// URL, got "localhost:8000")"},
        BadUrl{"http://", R"(expected an http:// or https:// URL, got "http://" (no host))"},
        BadUrl{"http:///v1", R"(expected an http:// or https:// URL, got "http:///v1" (no host))"},
        BadUrl{"http://:80", R"(expected an http:// or https:// URL, got "http://:80" (no host))"},
        BadUrl{
            "http://user:pw@host",
            R"(expected an http:// or https:// URL, got "http://user:pw@host" (credentials in URLs are not supported))"},
        BadUrl{
            "http://[::1",
            R"(expected an http:// or https:// URL, got "http://[::1" (unterminated IPv6 address))"},
        BadUrl{
            "http://[::1]x",
            R"(expected an http:// or https:// URL, got "http://[::1]x" (junk after IPv6 address))"},
        BadUrl{"http://h:0", R"(expected an http:// or https:// URL, got "http://h:0" (bad port))"},
        BadUrl{"http://h:65536",
               R"(expected an http:// or https:// URL, got "http://h:65536" (bad port))"},
        BadUrl{"http://h:8a",
               R"(expected an http:// or https:// URL, got "http://h:8a" (bad port))"},
        BadUrl{"http://[::1]:x",
               R"(expected an http:// or https:// URL, got "http://[::1]:x" (bad port))"}));

}  // namespace
}  // namespace switchyard::http
