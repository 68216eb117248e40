#include "tokenize/bpe.h"

#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchyard::tokenize {
namespace {

std::shared_ptr<const Tokenizer> Get(Encoding e) {
  auto tokenizer = Tokenizer::Load(e);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  return *tokenizer;
}

std::vector<uint32_t> Concat(std::initializer_list<std::vector<uint32_t>> parts) {
  std::vector<uint32_t> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

constexpr Encoding kBoth[] = {Encoding::kO200kBase, Encoding::kCl100kBase};

TEST(TokenizerTest, LoadReturnsOneSharedInstancePerEncoding) {
  const auto o200k = Get(Encoding::kO200kBase);
  const auto cl100k = Get(Encoding::kCl100kBase);
  EXPECT_EQ(o200k, Get(Encoding::kO200kBase));
  EXPECT_NE(o200k, cl100k);
  EXPECT_EQ(o200k->encoding(), Encoding::kO200kBase);
  EXPECT_EQ(cl100k->encoding(), Encoding::kCl100kBase);
  EXPECT_EQ(o200k->vocabulary_size(), 199998u);
  EXPECT_EQ(cl100k->vocabulary_size(), 100256u);
  EXPECT_EQ(EncodingName(Encoding::kO200kBase), "o200k_base");
  EXPECT_EQ(EncodingName(Encoding::kCl100kBase), "cl100k_base");
}

TEST(TokenizerTest, KnownIds) {
  // node -e 'console.log(require("gpt-tokenizer/cjs/encoding/o200k_base.js").encode("hello
  // world"))'
  EXPECT_EQ(Get(Encoding::kO200kBase)->Encode("hello world"), std::vector<uint32_t>({24912, 2375}));
  EXPECT_EQ(Get(Encoding::kCl100kBase)->Encode("hello world"),
            std::vector<uint32_t>({15339, 1917}));
}

TEST(TokenizerTest, EmptyText) {
  for (Encoding e : kBoth) {
    EXPECT_TRUE(Get(e)->Encode("").empty());
    EXPECT_EQ(Get(e)->Count(""), 0u);
  }
}

TEST(TokenizerTest, InvalidUtf8BytesAreOneTokenEach) {
  for (Encoding e : kBoth) {
    SCOPED_TRACE(EncodingName(e));
    const auto t = Get(e);
    // Lone continuation, bad lead, truncated sequence, overlong, surrogate, 5-byte lead.
    for (const std::string bad : {"\x80", "\xff", "\xe4\xbd", "\xc0\xaf", "\xed\xa0\x80", "\xf8"}) {
      const std::vector<uint32_t> tokens = t->Encode(bad);
      EXPECT_EQ(tokens.size(), bad.size());
      auto decoded = t->Decode(tokens);
      ASSERT_TRUE(decoded.ok());
      EXPECT_EQ(*decoded, bad);
      // Text around the bad bytes is split as if they were not there.
      const std::string text = "hello" + bad + " world";
      EXPECT_EQ(t->Encode(text), Concat({t->Encode("hello"), tokens, t->Encode(" world")}));
      EXPECT_EQ(t->Count(text), t->Encode(text).size());
    }
  }
}

TEST(TokenizerTest, RandomBytesRoundTrip) {
  std::mt19937 random(7);
  std::string bytes;
  for (int i = 0; i < 20000; ++i) bytes.push_back(static_cast<char>(random() & 0xff));
  for (Encoding e : kBoth) {
    const auto t = Get(e);
    const auto tokens = t->Encode(bytes);
    EXPECT_GT(tokens.size(), 0u);
    auto decoded = t->Decode(tokens);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(TokenizerTest, HundredKilobyteTexts) {
  std::string mixed;
  while (mixed.size() < 100 * 1024) {
    mixed +=
        "int main() { return 42; }\n\t// \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\xa6\x80 don't   "
        "stop\r\n";
  }
  constexpr size_t kN = 100 * 1024;
  // Expected counts from gpt-tokenizer 4.0.0 (o200k_base, cl100k_base), e.g.
  //   node -e 'const o =
  //   require("<build>/npm/node_modules/gpt-tokenizer/cjs/encoding/o200k_base.js");
  //            console.log(o.encode("a".repeat(102400), {disallowedSpecial: new Set()}).length)'
  // with the same texts built in JavaScript (it takes gpt-tokenizer about a minute).
  struct Case {
    const char* name;
    std::string text;
    size_t o200k;
    size_t cl100k;
  };
  const Case cases[] = {{"mixed", mixed, 36580, 40238},
                        {"letters", std::string(kN, 'a'), 12800, 12800},
                        {"spaces", std::string(kN, ' '), 800, 800},
                        {"digits", std::string(kN, '7'), 34134, 34134},
                        {"newlines", std::string(kN, '\n'), 6400, 3200},
                        {"punctuation", std::string(kN, '!'), 6400, 12800}};
  for (Encoding e : kBoth) {
    const auto t = Get(e);
    EXPECT_EQ(t->Count(mixed), t->Encode(mixed).size());
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(c.name) + " / " + std::string(EncodingName(e)));
      const auto tokens = t->Encode(c.text);
      EXPECT_EQ(tokens.size(), e == Encoding::kO200kBase ? c.o200k : c.cl100k);
      auto decoded = t->Decode(tokens);
      ASSERT_TRUE(decoded.ok());
      EXPECT_EQ(*decoded, c.text);
    }
  }
}

TEST(TokenizerTest, DecodeRejectsUnknownIds) {
  auto o200k = Get(Encoding::kO200kBase)->Decode(std::vector<uint32_t>{1, 199998});
  ASSERT_FALSE(o200k.ok());
  EXPECT_EQ(o200k.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(o200k.status().message(), "token id 199998 is not an ordinary token of o200k_base");
  auto cl100k = Get(Encoding::kCl100kBase)->Decode(std::vector<uint32_t>{100257});
  ASSERT_FALSE(cl100k.ok());
  EXPECT_EQ(cl100k.status().message(), "token id 100257 is not an ordinary token of cl100k_base");
}

TEST(TokenizerTest, ConcurrentUseGivesTheSameIds) {
  std::vector<std::string> texts;
  for (int i = 0; i < 50; ++i) {
    texts.push_back("Request " + std::to_string(i) + ": summarise \xe6\x97\xa5\xe6\x9c\xac " +
                    std::string(static_cast<size_t>(i), ' ') + "it's fine\n");
  }
  for (Encoding e : kBoth) {
    const auto t = Get(e);
    std::vector<std::vector<uint32_t>> expected;
    for (const auto& text : texts) expected.push_back(t->Encode(text));
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k) {
      threads.emplace_back([&, k] {
        for (int round = 0; round < 20; ++round) {
          for (size_t i = 0; i < texts.size(); ++i) {
            if (t->Encode(texts[i]) != expected[i]) ++mismatches[k];
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(mismatches, std::vector<int>(4, 0));
  }
}

TEST(EncodingForModelTest, MapsModelFamilies) {
  for (const char* model :
       {"gpt-4o", "gpt-4o-mini", "GPT-4o-2024-08-06", "gpt-4.1-nano", "gpt-4.5-preview", "o1",
        "o1-mini", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "chatgpt-4o-latest",
        "openai/gpt-4o", "ft:gpt-4o-mini:acme::abc", "llama-3.1-8b", "claude-sonnet-4", ""}) {
    EXPECT_EQ(EncodingForModel(model), Encoding::kO200kBase) << model;
  }
  for (const char* model : {"gpt-4", "gpt-4-0613", "gpt-4-turbo", "gpt-4-32k", "gpt-3.5-turbo",
                            "gpt-35-turbo", "azure/gpt-4", "ft:gpt-3.5-turbo:acme::x",
                            "text-embedding-ada-002", "text-embedding-3-small"}) {
    EXPECT_EQ(EncodingForModel(model), Encoding::kCl100kBase) << model;
  }
}

core::Message Msg(std::string role, std::string content, std::string name = "") {
  core::Message m;
  m.role = std::move(role);
  m.content = std::move(content);
  m.name = std::move(name);
  return m;
}

TEST(CountChatPromptTokensTest, FollowsOpenAIRecipe) {
  // Reference counts (gpt-tokenizer 4.0.0, both encodings agree): "system" 1, "user" 1,
  // "You are a helpful assistant." 6, "Hello!" 2, "example_user" 2. gpt-tokenizer's
  // encodeChat(chat, "gpt-4o") gives the same 19 for the first request.
  core::ChatRequest request;
  request.messages = {Msg("system", "You are a helpful assistant."), Msg("user", "Hello!")};
  for (Encoding e : kBoth) {
    // 3 priming + (3 + 1 + 6) + (3 + 1 + 2)
    EXPECT_EQ(CountChatPromptTokens(*Get(e), request), 19);
  }
  request.messages.push_back(Msg("user", "Hello!", "example_user"));
  // + 3 + 1 ("user") + 2 ("Hello!") + 1 (name) + 2 ("example_user")
  EXPECT_EQ(CountChatPromptTokens(*Get(Encoding::kO200kBase), request), 28);
  core::ChatRequest empty;
  EXPECT_EQ(CountChatPromptTokens(*Get(Encoding::kO200kBase), empty), 3);
}

TEST(CountChatPromptTokensTest, CountsToolCallsAndTools) {
  // "assistant" 1, "get_weather" 2, {"city":"Paris"} 5, "tool" 1, "call_abc123" 4,
  // "It is sunny." 4, the tools JSON below 20 (gpt-tokenizer 4.0.0, o200k_base).
  core::ChatRequest request;
  core::Message call = Msg("assistant", "");
  call.content_is_null = true;
  call.tool_calls.push_back({"call_abc123", "get_weather", R"({"city":"Paris"})"});
  core::Message result = Msg("tool", "It is sunny.");
  result.tool_call_id = "call_abc123";
  request.messages = {call, result};
  request.tools_json =
      R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}])";
  // 3 + (3 + 1 + 0 + 2 + 5) + (3 + 1 + 4 + 4) + 20
  EXPECT_EQ(CountChatPromptTokens(*Get(Encoding::kO200kBase), request), 46);
}

TEST(CountCompletionTokensTest, ContentAndToolCalls) {
  core::ChatResponse response;
  response.content = "It is sunny.";
  EXPECT_EQ(CountCompletionTokens(*Get(Encoding::kO200kBase), response), 4);
  response.tool_calls.push_back({"call_1", "get_weather", R"({"city":"Paris"})"});
  EXPECT_EQ(CountCompletionTokens(*Get(Encoding::kO200kBase), response), 4 + 2 + 5);
}

}  // namespace
}  // namespace switchyard::tokenize
