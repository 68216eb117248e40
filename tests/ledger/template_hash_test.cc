#include "ledger/template_hash.h"

#include <cstdio>

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

}  // namespace
}  // namespace switchyard::ledger
