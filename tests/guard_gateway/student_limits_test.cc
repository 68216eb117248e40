// Limits count every request, whoever answers it: a tenant over its rpm gets
// 429 on a task request the student would have answered locally.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "../gateway/gateway_fixture.h"
#include "gateway/tasks.h"
#include "guard/keys.h"
#include "guard/limits.h"
#include "guard/pii.h"
#include "guard/policy.h"
#include "support/fake_upstream.h"
#include "support/http_client.h"
#include "support/process.h"

namespace switchyard::gateway {
namespace {

using testing::FakeUpstream;
using testing::HttpRequest;
using testing::HttpResult;

struct Ticket {
  std::string text;
  std::string label;
};

// Two queues with their own words, varied wording; deterministic, distinct.
std::vector<Ticket> Tickets() {
  const std::vector<std::string> billing = {"refund my order", "I was charged twice",
                                            "my invoice is wrong", "cancel the payment"};
  const std::vector<std::string> shipping = {"where is my package", "the parcel is late",
                                             "track my shipment", "the courier lost the box"};
  const std::vector<std::string> prefixes = {
      "hello", "hi team", "please help", "urgent", "good morning", "quick question", "hey", "dear"};
  const std::vector<std::string> suffixes = {"thanks", "asap", "today please", "thank you",
                                             "regards"};
  std::vector<Ticket> out;
  for (const auto& p : prefixes) {
    for (const auto& s : suffixes) {
      for (size_t i = 0; i < billing.size(); ++i) {
        out.push_back({p + " " + billing[i] + " " + s, "billing"});
        out.push_back({p + " " + shipping[i] + " " + s, "shipping"});
      }
    }
  }
  return out;
}

std::string Ask(const std::string& text) {
  return R"({"model":"task:tickets","messages":[{"role":"user","content":")" + text + R"("}]})";
}

class StudentLimitsTest : public GatewayFixture {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("guard_student"); }
  void TearDown() override {
    Stop();
    tasks_.reset();
  }

  std::string NewKey(const std::string& tenant, int64_t rpm = 0) {
    guard::CreateKeyRequest req;
    req.tenant = tenant;
    if (rpm > 0) req.rpm = rpm;
    auto created = keys_->Create(req);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->key : "";
  }

  std::string dir_;
  std::unique_ptr<TaskRuntime> tasks_;
  std::unique_ptr<guard::KeyStore> keys_;
  std::unique_ptr<guard::LimitStore> limits_;
};

TEST_F(StudentLimitsTest, StudentAnsweredRequestsCountAgainstTheRpm) {
  FakeUpstream teacher;
  teacher.SetHandler([](const testing::RecordedRequest& r) {
    const bool billing =
        r.body.find("refund") != std::string::npos || r.body.find("charged") != std::string::npos ||
        r.body.find("invoice") != std::string::npos || r.body.find("payment") != std::string::npos;
    return testing::JsonResponse(
        std::string(R"({"id":"x","object":"chat.completion","created":1,"model":"t",)"
                    R"("choices":[{"index":0,"message":{"role":"assistant","content":")") +
        (billing ? "billing" : "shipping") +
        R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1}})");
  });
  Start("[storage]\ndata_dir = \"" + dir_ +
        "\"\n[[providers]]\nname = \"teacher\"\nkind = \"openai\"\nbase_url = \"" +
        teacher.base_url() +
        "/v1\"\nmodels = [\"t\"]\nmax_retries = 0\n"
        "[[tasks]]\nname = \"tickets\"\nlabels = [\"billing\", \"shipping\"]\n"
        "teacher = \"teacher/t\"\ntarget_agreement = 0.9\nretrain_every = 1000\n"
        "min_train_labels = 120\nshadow_sample = 0.0\n");
  auto rt = TaskRuntime::Create(*config_, clock_, metrics_, observe::MakeNullLogger());
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  tasks_ = std::move(*rt);
  gateway_->set_tasks(tasks_.get());
  auto ks = guard::KeyStore::Open(dir_ + "/keys.db", {}, clock_);
  ASSERT_TRUE(ks.ok()) << ks.status().ToString();
  keys_ = std::move(*ks);
  limits_ = std::make_unique<guard::InProcessLimitStore>(clock_);
  GuardHooks hooks;
  hooks.keys = keys_.get();
  hooks.limits = limits_.get();
  gateway_->set_guard(std::move(hooks));

  // Teach the student with an unlimited tenant.
  const std::string trainer = NewKey("trainer");
  const std::vector<Ticket> tickets = Tickets();
  ASSERT_GE(tickets.size(), 150u);
  for (size_t i = 0; i < 120; ++i) {
    HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Ask(tickets[i].text),
                               {{"authorization", "Bearer " + trainer}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  WaitForOutcomes(120);
  ASSERT_TRUE(tasks_->learner().WaitIdle(std::chrono::seconds(30)));
  ASSERT_NE(tasks_->students().Get("tickets"), nullptr);

  // A ticket the student answers locally (for the unlimited tenant).
  std::string local;
  for (size_t i = 0; i < 120 && local.empty(); ++i) {
    HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Ask(tickets[i].text),
                               {{"authorization", "Bearer " + trainer}});
    ASSERT_EQ(r.status, 200) << r.body;
    if (r.headers["x-switchyard-escalated"] == "false") local = tickets[i].text;
  }
  ASSERT_FALSE(local.empty()) << "the student answered nothing locally";

  // rpm = 1: the student answers the first request; the second is refused
  // although no upstream would be called.
  const std::string small = NewKey("small", /*rpm=*/1);
  const size_t calls = teacher.request_count();
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Ask(local),
                             {{"authorization", "Bearer " + small}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.headers["x-switchyard-route"].starts_with("student/tickets@v"))
      << r.headers["x-switchyard-route"];
  r = HttpRequest(port(), "POST", "/v1/chat/completions", Ask(local),
                  {{"authorization", "Bearer " + small}});
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.headers["retry-after"], "60");
  EXPECT_EQ(teacher.request_count(), calls);
}

}  // namespace
}  // namespace switchyard::gateway
