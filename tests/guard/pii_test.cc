#include "guard/pii.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "guard/redact.h"

namespace switchyard::guard {
namespace {

using Hits = std::vector<std::pair<std::string, std::string>>;  // (detector, matched text)

const PiiScanner& Default() {
  static const PiiScanner* scanner = [] {
    auto s = PiiScanner::Create();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s).release();
  }();
  return *scanner;
}

Hits Scan(const PiiScanner& scanner, std::string_view text) {
  auto findings = scanner.ScanText(text);
  EXPECT_TRUE(findings.ok()) << findings.status().ToString();
  Hits out;
  for (const Finding& f : *findings) out.emplace_back(f.detector, std::string(f.Reveal(text)));
  return out;
}
Hits Scan(std::string_view text) {
  return Scan(Default(), text);
}

// Every positive example is found exactly, alone and embedded in prose.
void ExpectFound(std::string_view detector, std::string_view value) {
  SCOPED_TRACE(std::string(value));
  EXPECT_EQ(Scan(value), (Hits{{std::string(detector), std::string(value)}}));
  const std::string prose = "Before, " + std::string(value) + " and after.";
  EXPECT_EQ(Scan(prose), (Hits{{std::string(detector), std::string(value)}}));
}

void ExpectNothing(std::string_view text) {
  SCOPED_TRACE(std::string(text));
  EXPECT_EQ(Scan(text), Hits{});
}

TEST(PiiScannerTest, Emails) {
  for (const char* e : {"john.doe@example.com", "a+tag@sub.example.co.uk", "x_y%z@mail-host.io",
                        "first.last@uni.edu", "USER@EXAMPLE.ORG"}) {
    ExpectFound("email", e);
  }
  // Odd places: brackets, mailto:, quotes, end of sentence, glued to punctuation.
  EXPECT_EQ(Scan("<mailto:foo@bar.org>"), (Hits{{"email", "foo@bar.org"}}));
  EXPECT_EQ(Scan("(contact: ops@corp.example.com)."), (Hits{{"email", "ops@corp.example.com"}}));
  EXPECT_EQ(Scan("\"a@b.io\",\"c@d.io\""), (Hits{{"email", "a@b.io"}, {"email", "c@d.io"}}));
  EXPECT_EQ(Scan("Send to .lead@team.dev now"), (Hits{{"email", "lead@team.dev"}}));
  for (const char* n : {"foo@bar", "@example.com", "a..b@example.com", "user@-example.com",
                        "name@example.c", "not an email: x @ y.com"}) {
    ExpectNothing(n);
  }
}

TEST(PiiScannerTest, Phones) {
  for (const char* p : {"+1 (415) 555-2671", "+44 20 7946 0958", "+4915112345678",
                        "+33 6 12 34 56 78", "(415) 555-2671", "415-555-2671", "415.555.2671",
                        "030 1234 5678", "06 12 34 56 78", "020-7946-0958"}) {
    ExpectFound("phone", p);
  }
  // Plain numbers, years, dates, versions, decimals and short numbers are not phones.
  for (const char* n :
       {"2024", "in 1999-2024 we", "12345678901", "v1.2.3", "2024-05-01", "01.02.2024", "3.14159",
        "+1 2", "call 555-1234", "1,234,567", "ORDER-88231", "05/06/2023 14:30"}) {
    ExpectNothing(n);
  }
}

TEST(PiiScannerTest, CardsAreLuhnChecked) {
  for (const char* c :
       {"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5500 0000 0000 0004",
        "3782 822463 10005", "378282246310005", "6011111111111117", "2221000000000009",
        "4222222222222", "3530111333300000"}) {
    ExpectFound("card", c);
  }
  for (const char* n :
       {"4111111111111112", "4111 1111 1111 1112", "1234567812345678", "41111111111111111111",
        "9111111111111111", "2024 2025 2026 2027", "0.4111111111111111", "x4111111111111111"}) {
    ExpectNothing(n);
  }
  // A valid card followed by more digits keeps its own extent.
  EXPECT_EQ(Scan("4111 1111 1111 1111 123"), (Hits{{"card", "4111 1111 1111 1111"}}));
}

TEST(PiiScannerTest, UnvalidatedCandidatesOnRequest) {
  ScannerOptions o;
  o.keep_unvalidated = true;
  auto scanner = PiiScanner::Create(o);
  ASSERT_TRUE(scanner.ok());
  const std::string text =
      "card 4111 1111 1111 1112 iban DE89 3704 0044 0532 0130 01 ssn 000-12-3456";
  auto findings = (*scanner)->ScanText(text);
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 3u);
  for (const Finding& f : *findings) EXPECT_FALSE(f.validated) << DescribeFinding(f);
  EXPECT_EQ((*findings)[0].name, "card");
  EXPECT_EQ((*findings)[1].name, "iban");
  EXPECT_EQ((*findings)[2].name, "ssn");
  // By default they are dropped, and what is reported is validated.
  EXPECT_EQ(Scan(text), Hits{});
  auto valid = Default().ScanText("4111111111111111");
  ASSERT_TRUE(valid.ok());
  ASSERT_EQ(valid->size(), 1u);
  EXPECT_TRUE((*valid)[0].validated);
}

TEST(PiiScannerTest, IbansAreMod97Checked) {
  for (const char* i :
       {"DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606",
        "NL91ABNA0417164300", "CH9300762011623852957", "NO9386011117947",
        "MT84MALT011000012345MTLCAST001S"}) {
    ExpectFound("iban", i);
  }
  for (const char* n :
       {"DE89 3704 0044 0532 0130 01", "XX89370400440532013000", "DE8937040044053201300",
        "DE89370400440532013000X", "de89370400440532013000"}) {
    ExpectNothing(n);
  }
  // The extent follows the country length, not the next upper-case word.
  EXPECT_EQ(Scan("IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX"),
            (Hits{{"iban", "DE89 3704 0044 0532 0130 00"}}));
}

TEST(PiiScannerTest, SsnRules) {
  ExpectFound("ssn", "123-45-6789");
  ExpectFound("ssn", "078 05 1121");
  for (const char* n : {"000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000",
                        "1123-45-6789", "123-45-67890", "2023-45-6789"}) {
    ExpectNothing(n);
  }
}

TEST(PiiScannerTest, IpAddresses) {
  for (const char* ip : {"192.168.1.10", "10.0.0.1", "255.255.255.255", "8.8.8.8"}) {
    ExpectFound("ipv4", ip);
  }
  for (const char* ip : {"2001:db8::1", "fe80::1ff:fe23:4567:890a",
                         "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::ffff:192.0.2.1"}) {
    ExpectFound("ipv6", ip);
  }
  for (const char* n : {"256.1.1.1", "1.2.3.4.5", "v1.2.3", "999.999.999.999", "12:30:45",
                        "std::vector<int>", "00:1A:2B:3C:4D:5E", "a::b", "::1"}) {
    ExpectNothing(n);
  }
  EXPECT_EQ(Scan("reach 2001:db8::1: it answers"), (Hits{{"ipv6", "2001:db8::1"}}));
}

TEST(PiiScannerTest, NamedSecrets) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"openai_key", "sk-proj-Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3"},
      {"openai_key", "sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ABCDEFGHijkl"},
      {"anthropic_key", "sk-ant-api03-Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW-1yZ3AA"},
      {"aws_access_key", "AKIAIOSFODNN7EXAMPLE"},
      {"github_token", "ghp_aB3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA3cE5"},
      {"github_token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"},
      {"slack_token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp"},
      {"google_api_key", "AIzaSyA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1v"},
      {"stripe_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"},
      {"switchyard_key", "sy-Ab3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA3cE5gH7jK9m"},
      {"jwt",
       "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"},
  };
  for (const auto& [detector, value] : cases) ExpectFound(detector, value);
}

TEST(PiiScannerTest, PrivateKeyBlockIsOneFinding) {
  const std::string pem =
      "-----BEGIN RSA PRIVATE KEY-----\n"
      "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
      "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm\n"
      "-----END RSA PRIVATE KEY-----";
  EXPECT_EQ(Scan("key:\n" + pem + "\nthanks"), (Hits{{"private_key", pem}}));
  const std::string openssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA";
  EXPECT_EQ(Scan(openssh + "\n\nrest"), (Hits{{"private_key", openssh}}));
}

TEST(PiiScannerTest, ManyPemHeadersEachEndAtTheirOwnBlock) {
  std::string text;
  for (int i = 0; i < 300; ++i)
    text += "-----BEGIN PRIVATE KEY-----\nQUJD\n\nnote " + std::to_string(i) + "\n";
  text += "-----BEGIN EC PRIVATE KEY-----\nQUJD\n-----END EC PRIVATE KEY-----";
  auto findings = Default().ScanText(text);
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 301u);
  EXPECT_EQ((*findings)[0].Reveal(text), "-----BEGIN PRIVATE KEY-----\nQUJD");
  EXPECT_EQ(findings->back().Reveal(text),
            "-----BEGIN EC PRIVATE KEY-----\nQUJD\n-----END EC PRIVATE KEY-----");
}

TEST(PiiScannerTest, InvalidUtf8IsScannedSafely) {
  // Undefined matches next to invalid bytes (documented), but no failure and
  // ASCII findings away from them are still reported.
  const std::string text = "\xFF\xFE bad \xC3 bytes, then a@b.io and \xED\xA0\x80";
  auto findings = Default().ScanText(text);
  ASSERT_TRUE(findings.ok());
  bool email = false;
  for (const Finding& f : *findings) email |= f.Reveal(text) == "a@b.io";
  EXPECT_TRUE(email);
}

TEST(PiiScannerTest, HighEntropyTokens) {
  ExpectFound("high_entropy", "aB3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA3cE5");
  ExpectFound("high_entropy", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY1");
  for (const char* n : {
           "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",  // hex digest
           "550e8400-e29b-41d4-a716-446655440000",                              // UUID
           "this_is_a_very_long_identifier_name_without_digits",
           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaA1",  // low entropy
           "Short1Token2",
       }) {
    ExpectNothing(n);
  }
  ScannerOptions o;
  o.entropy_threshold = 5.5;  // above anything 36 characters can reach
  auto strict = PiiScanner::Create(o);
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(Scan(**strict, "aB3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA3cE5"), Hits{});
}

TEST(PiiScannerTest, BoundariesAndNonSecrets) {
  // A key format inside a longer word is not that key.
  ExpectNothing("task-abcdefghijklmnopqrstuvwxyz");
  ExpectNothing("sk-short");
  ExpectNothing("XAKIAIOSFODNN7EXAMPLE");
  ExpectNothing("The quick brown fox jumps over the lazy dog. 日本語のテキスト。");
}

TEST(PiiScannerTest, UnicodeAroundMatchesUsesByteOffsets) {
  const std::string text =
      "日本語の説明 john@example.com です — Zahlung über DE89 3704 0044 0532 0130 00…";
  auto findings = Default().ScanText(text);
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 2u);
  EXPECT_EQ((*findings)[0].Reveal(text), "john@example.com");
  EXPECT_EQ((*findings)[0].start, text.find("john@"));
  EXPECT_EQ((*findings)[1].Reveal(text), "DE89 3704 0044 0532 0130 00");
  EXPECT_EQ(Scan("électronique:bob@example.fr→ok"), (Hits{{"email", "bob@example.fr"}}));
  EXPECT_EQ(Scan("tél：+33 6 12 34 56 78。"), (Hits{{"phone", "+33 6 12 34 56 78"}}));
}

TEST(PiiScannerTest, OverlapsLongestThenMostSpecificWins) {
  // A card-shaped local part loses to the whole e-mail address.
  EXPECT_EQ(Scan("4111111111111111@example.com"),
            (Hits{{"email", "4111111111111111@example.com"}}));
  // sk-ant- is both an OpenAI-shaped and an Anthropic key; the specific one wins.
  EXPECT_EQ(Scan("sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345")[0].first, "anthropic_key");
  // A named key that is also a high-entropy token is reported as the named key.
  EXPECT_EQ(Scan("ghp_aB3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA3cE5")[0].first, "github_token");
  auto findings = Default().ScanText("a@b.io 4111111111111111 c@d.io");
  ASSERT_TRUE(findings.ok());
  for (size_t i = 1; i < findings->size(); ++i) {
    EXPECT_LE((*findings)[i - 1].end, (*findings)[i].start);
  }
}

TEST(PiiScannerTest, KeysInJsonStrings) {
  // Decoded content (what the gateway scans): the key is found.
  const std::string key = "sk-proj-Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3";
  auto decoded = DecodeJsonString("\"my key is " + key + "\"");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(Scan(*decoded), (Hits{{"openai_key", key}}));
  // Written with JSON escapes: invisible in the raw bytes as an OpenAI key,
  // found once the string is decoded (the documented contract: scan decoded text).
  const std::string escaped = "\"sk\\u002dproj\\u002dXa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3\"";
  for (const auto& [detector, text] : Scan(escaped)) EXPECT_NE(detector, "openai_key");
  auto unescaped = DecodeJsonString(escaped);
  ASSERT_TRUE(unescaped.ok());
  EXPECT_EQ(Scan(*unescaped), (Hits{{"openai_key", key}}));
  // An e-mail with an escaped '@' likewise.
  auto mail = DecodeJsonString(R"("write to jane\u0040example.com")");
  ASSERT_TRUE(mail.ok());
  EXPECT_EQ(Scan(*mail), (Hits{{"email", "jane@example.com"}}));
}

TEST(PiiScannerTest, SecretSplitAcrossMessagesIsNotJoined) {
  // Documented: segments are scanned separately. The OpenAI key split over two
  // message contents is not found as one key; no finding spans both.
  const std::vector<std::string> messages = {"my key is sk-proj-Xa8bC3dE5f",
                                             "G7hJ9kL1mN3pQ5rS7tU9vW1yZ3 thanks"};
  auto findings = Default().ScanTexts(messages);
  ASSERT_TRUE(findings.ok());
  for (const Finding& f : *findings) {
    EXPECT_NE(f.detector, "openai_key") << DescribeFinding(f);
    EXPECT_LE(f.end, messages[f.segment].size());
  }
  // Joined, it is one key.
  EXPECT_EQ(Scan(messages[0] + messages[1])[0].first, "openai_key");
}

TEST(PiiScannerTest, ScanTextsReportsSegmentsAndOffsets) {
  const std::vector<std::string> messages = {"no pii here", "mail a@b.io", "", "ip 10.1.2.3"};
  auto findings = Default().ScanTexts(messages);
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 2u);
  EXPECT_EQ((*findings)[0].segment, 1u);
  EXPECT_EQ((*findings)[0].Reveal(messages[1]), "a@b.io");
  EXPECT_EQ((*findings)[1].segment, 3u);
  EXPECT_EQ((*findings)[1].Reveal(messages[3]), "10.1.2.3");
}

// ScanTexts scans the texts of a request in one Hyperscan pass when it can;
// the findings must be exactly those of each text scanned on its own, also
// for texts whose ends would make a finding if they were joined. Random
// requests from pieces chosen to straddle (a mail split at "@" or ".", a
// phone split at a dash, a key split after its prefix, a PEM block split in
// two, IPv6 "::" at either end), with and without a custom pattern that can
// match across a separator (that scanner takes the one-by-one path).
TEST(PiiScannerTest, ScanTextsFindsWhatEachTextAloneHas) {
  const std::vector<std::string> pieces = {"mail a@b.io now",
                                           "a@b",
                                           ".io",
                                           "x@",
                                           "example.com",
                                           "415-555",
                                           "-2671",
                                           "(415) 555-2671",
                                           "sk-proj-",
                                           "Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3",
                                           "4111 1111",
                                           " 1111 1111",
                                           "",
                                           "call +1 415 555 2671",
                                           "-----BEGIN PRIVATE KEY-----\nMIIBVQ",
                                           "IBADANBg\n-----END PRIVATE "
                                           "KEY-----",
                                           "::",
                                           "fe80::1",
                                           "1:2:3:4:5:6:7",
                                           ":8",
                                           "DE89 3704 0044 0532 0130 00",
                                           "DE89",
                                           "123-45-6789",
                                           "AKIAIOSFODNN7EXAMPLE",
                                           "10.1.2.",
                                           "3",
                                           "naïve café ünïcode",
                                           "eyJhbGciOiJIUzI1"
                                           "NiJ9.eyJzdWIiOiIxMjM0In0.sig",
                                           "4111111111111111",
                                           "zzzz",
                                           "zay",
                                           "z"};
  ScannerOptions custom;
  custom.custom.push_back({"span", "z[^x]{0,12}y", false});
  auto with_custom = PiiScanner::Create(custom);
  ASSERT_TRUE(with_custom.ok()) << with_custom.status().ToString();
  std::mt19937 rng(20261130);
  for (const PiiScanner* scanner :
       {&Default(), static_cast<const PiiScanner*>(with_custom->get())}) {
    for (int round = 0; round < 400; ++round) {
      std::vector<std::string> texts(1 + rng() % 6);
      for (std::string& t : texts) {
        const size_t parts = rng() % 3;
        for (size_t k = 0; k < parts; ++k) t += pieces[rng() % pieces.size()];
        if (rng() % 4 == 0) t += "y";
      }
      std::vector<Finding> alone;
      for (size_t i = 0; i < texts.size(); ++i) {
        auto f = scanner->ScanText(texts[i]);
        ASSERT_TRUE(f.ok());
        for (Finding x : *f) {
          x.segment = i;
          alone.push_back(x);
        }
      }
      auto together = scanner->ScanTexts(texts);
      ASSERT_TRUE(together.ok()) << together.status().ToString();
      std::string shown;
      for (const std::string& t : texts) shown += "[" + t + "]";
      ASSERT_EQ(*together, alone) << shown;
    }
  }
}

TEST(PiiScannerTest, CustomPatterns) {
  ScannerOptions o;
  o.custom.push_back({"employee_id", "EMP-[0-9]{6}", false});
  o.custom.push_back({"project", "project[ -]?x[0-9]+", true});
  auto scanner = PiiScanner::Create(o);
  ASSERT_TRUE(scanner.ok()) << scanner.status().ToString();
  const std::string text = "EMP-123456 works on PROJECT X42 with a@b.io";
  auto findings = (*scanner)->ScanText(text);
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 3u);
  EXPECT_EQ((*findings)[0].name, "employee_id");
  EXPECT_EQ((*findings)[0].type, PiiType::kCustom);
  EXPECT_EQ((*findings)[0].Reveal(text), "EMP-123456");
  EXPECT_EQ((*findings)[1].name, "project");
  EXPECT_EQ((*findings)[1].Reveal(text), "PROJECT X42");
  EXPECT_EQ((*findings)[2].name, "email");
  EXPECT_EQ(FindingsSummaryJson(*findings), R"({"email":1,"employee_id":1,"project":1})");
}

TEST(PiiScannerTest, CustomPatternErrors) {
  auto make = [](std::string name, std::string regex) {
    ScannerOptions o;
    o.custom.push_back({std::move(name), std::move(regex), false});
    return PiiScanner::Create(o).status();
  };
  auto expect = [](const core::Status& s, const std::string& msg) {
    EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), msg);
  };
  expect(make("Bad Name", "x"), "pii: custom pattern 'Bad Name': name must match [a-z0-9_]{1,32}");
  expect(make("email", "x"), "pii: custom pattern 'email': name is a built-in type");
  expect(make("ok", ""), "pii: custom pattern 'ok': empty regex");
  expect(make("paren", "(abc"),
         "pii: custom pattern 'paren': Missing close parenthesis for group started at index 0.");
  expect(make("empty", "a*"),
         "pii: custom pattern 'empty': Pattern matches empty buffer; use HS_FLAG_ALLOWEMPTY to "
         "enable support.");
  ScannerOptions dup;
  dup.custom.push_back({"x", "a", false});
  dup.custom.push_back({"x", "b", false});
  expect(PiiScanner::Create(dup).status(), "pii: custom pattern 'x': duplicate name");
  ScannerOptions bad_len;
  bad_len.high_entropy_min_length = 8;
  expect(PiiScanner::Create(bad_len).status(),
         "pii: high_entropy_min_length must be between 16 and 256");
}

TEST(PiiScannerTest, DetectorsCanBeSwitchedOff) {
  ScannerOptions o;
  o.email = o.phone = o.card = o.iban = o.ssn = o.ip = o.secrets = o.high_entropy = false;
  auto none = PiiScanner::Create(o);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(Scan(**none, "a@b.io 4111111111111111 sk-proj-Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3"),
            Hits{});
  o.email = true;
  auto only_email = PiiScanner::Create(o);
  ASSERT_TRUE(only_email.ok());
  EXPECT_EQ(Scan(**only_email, "a@b.io 4111111111111111"), (Hits{{"email", "a@b.io"}}));
}

TEST(PiiScannerTest, DescribeFindingNeverContainsTheValue) {
  const std::string text = "card 4111111111111111";
  auto findings = Default().ScanText(text);
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ(DescribeFinding((*findings)[0]), "card[5,21)");
  auto secret = Default().ScanText("AKIAIOSFODNN7EXAMPLE");
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(DescribeFinding((*secret)[0]), "secret/aws_access_key[0,20)");
}

TEST(PiiScannerTest, ConcurrentScansAgree) {
  std::string text;
  for (int i = 0; i < 50; ++i) {
    text += "user" + std::to_string(i) + "@example.com paid with 4111 1111 1111 1111 from 10.0.0." +
            std::to_string(i) + ". ";
  }
  auto expected = Default().ScanText(text);
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(expected->size(), 150u);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto got = Default().ScanText(text);
        if (!got.ok() || *got != *expected) ++mismatches[static_cast<size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(PiiScannerTest, EmptyAndTinyInputs) {
  EXPECT_EQ(Scan(""), Hits{});
  EXPECT_EQ(Scan("@"), Hits{});
  EXPECT_EQ(Scan("::"), Hits{});
  EXPECT_EQ(FindingsSummaryJson({}), "{}");
}

}  // namespace
}  // namespace switchyard::guard
