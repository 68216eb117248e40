#include "ledger/template_hash.h"

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchyard::ledger {
namespace {

core::ChatRequest Request(std::string model, std::string system, std::string user) {
  core::ChatRequest req;
  req.model = std::move(model);
  if (!system.empty()) req.messages.push_back({.role = "system", .content = std::move(system)});
  req.messages.push_back({.role = "user", .content = std::move(user)});
  return req;
}

TEST(Fnv1a64Test, KnownVectors) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(MaskVariablePartsTest, MasksEachKindOfVariablePart) {
  EXPECT_EQ(MaskVariableParts("Order 12345 shipped on 2024-05-01"), "Order 0 shipped on 0-0-0");
  EXPECT_EQ(MaskVariableParts("Write to jane.doe+x@example.co.uk today."),
            "Write to <email> today.");
  EXPECT_EQ(MaskVariableParts("See https://example.com/a?b=1, then http://x.io."),
            "See <url>, then <url>.");
  EXPECT_EQ(MaskVariableParts("commit 9fceb02d0ae598e95dc970b74767f19372d61af8 by 550e8400-e29b-"
                              "41d4-a716-446655440000"),
            "commit <hex> by <hex>");
  EXPECT_EQ(MaskVariableParts("say \"hello there\" and \"bye\""), "say <str> and <str>");
  EXPECT_EQ(MaskVariableParts("  many \n\t spaces  "), "many spaces");
}

TEST(MaskVariablePartsTest, LeavesOrdinaryWordsAlone) {
  // 7 hex digits, or hex letters mixed with non-hex letters, are words.
  EXPECT_EQ(MaskVariableParts("defaced cafe ticket-42 abc1234"), "defaced cafe ticket-0 abc0");
  // An unterminated quote stays.
  EXPECT_EQ(MaskVariableParts("it's 5\" long"), "it's 0\" long");
  // Not an e-mail: no dot-tld.
  EXPECT_EQ(MaskVariableParts("user@localhost"), "user@localhost");
}

TEST(MessageFrameTest, TakesTextBeforeFirstColonOrNewlineWithin80Chars) {
  EXPECT_EQ(MessageFrame("Classify this ticket: printer broken"), "Classify this ticket");
  EXPECT_EQ(MessageFrame("Summarize\nlong text: here"), "Summarize");
  EXPECT_EQ(MessageFrame("just chatting with no frame"), "");
  EXPECT_EQ(MessageFrame(std::string(80, 'x') + ": late colon"), "");
  EXPECT_EQ(MessageFrame(std::string(79, 'x') + ": in time"), std::string(79, 'x'));
}

TEST(PromptTemplateHashTest, SameSystemPromptDifferentUserTextShareAHash) {
  const std::string system = "You triage support tickets into 8 queues. Reply with the queue.";
  const std::string a = PromptTemplateHash(
      Request("gpt-4o-mini", system, "Ticket: my printer is on fire since 09:00"));
  const std::string b = PromptTemplateHash(
      Request("claude-3-5-haiku", system, "Ticket: VPN down for user bob@example.com"));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  // Free text without a frame does not split the group either.
  EXPECT_EQ(PromptTemplateHash(Request("m", system, "hello")),
            PromptTemplateHash(Request("m", system, "how are you doing today")));
}

// The hash is part of the stored data (it groups existing records): these
// values were produced by the first implementation (which built the masked
// shape as a string) and must never change.
TEST(PromptTemplateHashTest, ValuesAreStableAcrossReleases) {
  core::ChatRequest r;
  r.messages.push_back(
      {.role = "system",
       .content = "  You triage  tickets\n\tfor ACME (id 550e8400-e29b-41d4-a716-446655440000), "
                  "see https://x.io/a, mail ops@acme.com, \"quoted\" 42x."});
  r.messages.push_back({.role = "user", .content = "Ticket 12:   printer broken"});
  r.messages.push_back({.role = "assistant", .content = "  Queue: hardware"});
  r.messages.push_back({.role = "tool", .content = "no frame here at all"});
  EXPECT_EQ(PromptTemplateHash(r), "1688217e2aedace2");
  EXPECT_EQ(PromptTemplateHash(core::ChatRequest{}), "cbf29ce484222325");  // FNV offset basis
}

TEST(PromptTemplateHashTest, EqualsFnvOfTheMaskedShape) {
  const std::string system = " Reply  in \"JSON\" for order 12345 \n";
  const std::string user = "Classify  item 77: red shoe";
  const std::string shape = "system:" + MaskVariableParts(system) +
                            "\nuser:" + MaskVariableParts(MessageFrame(user)) + "\n";
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fnv1a64(shape)));
  EXPECT_EQ(PromptTemplateHash(Request("m", system, user)), hex);
}

TEST(PromptTemplateHashTest, VariablePartsOfTheSystemPromptAreMasked) {
  EXPECT_EQ(PromptTemplateHash(Request("m", "Today is 2024-05-01. Customer id 8812.", "Q")),
            PromptTemplateHash(Request("m", "Today is 2024-06-12. Customer id 17.", "Q")));
}

TEST(PromptTemplateHashTest, DifferentSystemPromptsOrFramesDiffer) {
  const std::string user = "Ticket: printer broken";
  EXPECT_NE(PromptTemplateHash(Request("m", "You triage tickets.", user)),
            PromptTemplateHash(Request("m", "You translate to French.", user)));
  EXPECT_NE(PromptTemplateHash(Request("m", "S", "Ticket: printer broken")),
            PromptTemplateHash(Request("m", "S", "Invoice: printer broken")));
  // Role matters: the same text as a developer message is another template.
  core::ChatRequest dev = Request("m", "", "x");
  dev.messages.insert(dev.messages.begin(), {.role = "developer", .content = "You triage."});
  EXPECT_NE(PromptTemplateHash(dev), PromptTemplateHash(Request("m", "You triage.", "x")));
}

TEST(MessageFrameTest, NewlineOrColonWhicheverComesFirstAndEmptyText) {
  EXPECT_EQ(MessageFrame("a:b\nc"), "a");
  EXPECT_EQ(MessageFrame("a\nb:c"), "a");
  EXPECT_EQ(MessageFrame(":starts with a colon"), "");
  EXPECT_EQ(MessageFrame(""), "");
  EXPECT_EQ(MessageFrame(std::string(79, 'x') + "\n"), std::string(79, 'x'));
}

// Words that mix hex digits, letters, digits and '-' are classified as before
// (hex-like, digits replaced, or kept).
TEST(MaskVariablePartsTest, WordClassesAtTheirEdges) {
  EXPECT_EQ(MaskVariableParts("deadbeef"), "<hex>");            // 8 hex digits, letters
  EXPECT_EQ(MaskVariableParts("deadbee"), "deadbee");           // 7: too short
  EXPECT_EQ(MaskVariableParts("12345678"), "0");                // no letter: a number
  EXPECT_EQ(MaskVariableParts("dead-beef-01"), "<hex>");        // '-' allowed
  EXPECT_EQ(MaskVariableParts("deadbeefx1"), "deadbeefx0");     // 'x' is no hex digit
  EXPECT_EQ(MaskVariableParts("dead_beef1234"), "dead_beef0");  // '_' is no hex digit
  EXPECT_EQ(MaskVariableParts("v2-alpha3 x"), "v0-alpha0 x");
}

// The cache gives exactly PromptTemplateHash(), for repeated requests (hits),
// for more distinct templates than it has slots (evictions), for texts too
// long to be remembered, and for requests whose texts differ only in where
// one message ends and the next begins.
TEST(TemplateHashCacheTest, AlwaysEqualsPromptTemplateHash) {
  TemplateHashCache cache;
  std::vector<core::ChatRequest> requests;
  for (int i = 0; i < 3 * static_cast<int>(TemplateHashCache::kSlots); ++i) {
    requests.push_back(Request("m",
                               "System prompt number " + std::string(1, char('a' + i % 26)) +
                                   std::to_string(i / 26) + " for \"x\"",
                               "Frame " + std::to_string(i % 7) + ": body"));
  }
  requests.push_back(Request("m", std::string(TemplateHashCache::kMaxKeyBytes, 's'), "hi"));
  core::ChatRequest split_a, split_b;
  split_a.messages = {{.role = "system", .content = "ab"}, {.role = "system", .content = "c"}};
  split_b.messages = {{.role = "system", .content = "a"}, {.role = "system", .content = "bc"}};
  requests.push_back(split_a);
  requests.push_back(split_b);
  requests.push_back(core::ChatRequest{});  // no messages
  for (int round = 0; round < 3; ++round) {
    for (const auto& req : requests) {
      ASSERT_EQ(cache.Hash(req), PromptTemplateHash(req)) << round;
    }
  }
  EXPECT_NE(cache.Hash(split_a), cache.Hash(split_b));
  // The user text beyond the frame does not matter; the frame does.
  EXPECT_EQ(cache.Hash(Request("m", "S", "Classify: one")),
            cache.Hash(Request("m", "S", "Classify: two")));
  EXPECT_NE(cache.Hash(Request("m", "S", "Classify: one")),
            cache.Hash(Request("m", "S", "Summarise: one")));
}

// A hit compares the texts in place with the remembered ones: a request that
// differs from a remembered one in any hashed byte, a role, or the number of
// messages gets its own hash, also right after the remembered one was hit.
TEST(TemplateHashCacheTest, HitAfterAChangedTextGivesTheNewHash) {
  TemplateHashCache cache;
  const core::ChatRequest base = Request("m", "You triage tickets.", "Ticket: printer");
  const std::string base_hash = PromptTemplateHash(base);
  ASSERT_EQ(cache.Hash(base), base_hash);  // miss
  ASSERT_EQ(cache.Hash(base), base_hash);  // hit

  std::vector<core::ChatRequest> changed;
  changed.push_back(Request("m", "You triage tickeTs.", "Ticket: printer"));  // same length
  changed.push_back(Request("m", "You triage tickets!", "Ticket: printer"));  // last byte
  changed.push_back(Request("m", "You triage tickets", "Ticket: printer"));   // shorter
  changed.push_back(Request("m", "You triage tickets.", "Tickex: printer"));  // the frame
  core::ChatRequest developer = base;
  developer.messages[0].role = "developer";  // a role
  changed.push_back(developer);
  core::ChatRequest more = base;
  more.messages.push_back({.role = "assistant", .content = "Queue: hardware"});
  changed.push_back(more);
  core::ChatRequest fewer = base;
  fewer.messages.pop_back();
  changed.push_back(fewer);
  core::ChatRequest empty_frame = base;
  empty_frame.messages[1].content = "no frame";
  changed.push_back(empty_frame);

  for (const core::ChatRequest& req : changed) {
    const std::string expected = PromptTemplateHash(req);
    ASSERT_NE(expected, base_hash);
    EXPECT_EQ(cache.Hash(req), expected);  // miss, or a slot holding another key
    EXPECT_EQ(cache.Hash(req), expected);  // hit
    EXPECT_EQ(cache.Hash(base), base_hash);
  }
  // Text beyond the frame is not compared: still the remembered hash.
  EXPECT_EQ(cache.Hash(Request("m", "You triage tickets.", "Ticket: scanner")), base_hash);
}

// Conversations longer than the texts Hash() keeps on the stack (8) are
// compared in full: a change in a late message's frame or role is a new hash.
TEST(TemplateHashCacheTest, LongConversationsAreComparedToTheirLastMessage) {
  TemplateHashCache cache;
  core::ChatRequest base;
  base.messages.push_back({.role = "system", .content = "You are terse."});
  for (int i = 0; i < 11; ++i) {
    base.messages.push_back({.role = i % 2 == 0 ? "user" : "assistant",
                             .content = "Turn " + std::string(1, char('a' + i)) + ": text"});
  }
  const std::string base_hash = PromptTemplateHash(base);
  ASSERT_EQ(cache.Hash(base), base_hash);
  ASSERT_EQ(cache.Hash(base), base_hash);
  core::ChatRequest late_frame = base;
  late_frame.messages.back().content = "Turn X: text";
  core::ChatRequest late_role = base;
  late_role.messages.back().role = "tool";
  for (const core::ChatRequest& req : {late_frame, late_role}) {
    const std::string expected = PromptTemplateHash(req);
    ASSERT_NE(expected, base_hash);
    EXPECT_EQ(cache.Hash(req), expected);
    EXPECT_EQ(cache.Hash(req), expected);
    EXPECT_EQ(cache.Hash(base), base_hash);
  }
  // Beyond the frame, a late message's text does not matter.
  core::ChatRequest late_body = base;
  late_body.messages.back().content = "Turn k: other text";
  EXPECT_EQ(cache.Hash(late_body), base_hash);
}

TEST(TemplateHashCacheTest, ConcurrentCallersGetTheRightHashes) {
  TemplateHashCache cache;
  std::vector<core::ChatRequest> requests;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    requests.push_back(Request("m", "Prompt " + std::to_string(i % 90) + " v", "Q: x"));
    expected.push_back(PromptTemplateHash(requests.back()));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < requests.size(); ++i) {
          const size_t k = (i * 7 + static_cast<size_t>(t)) % requests.size();
          if (cache.Hash(requests[k]) != expected[k]) wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace switchyard::ledger
