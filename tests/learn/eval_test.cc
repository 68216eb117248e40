#include "learn/eval.h"

#include <gtest/gtest.h>

#include <fstream>

#include "learn_test_util.h"

namespace switchyard::learn {
namespace {

using testing::SeparableExamples;
using testing::TempDir;

TEST(LoadExamplesCsvTest, ReadsNamedColumnsAndReportsBadRows) {
  TempDir dir;
  {
    std::ofstream f(dir.File("ok.csv"));
    f << "id,text,label\n1,\"Gold soars, again\",up\n2,gold slumps,down\n";
  }
  auto ok = LoadExamplesCsv(dir.File("ok.csv"));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].text, "Gold soars, again");
  EXPECT_EQ((*ok)[1].label, "down");
  {
    std::ofstream f(dir.File("alt.csv"));
    f << "prompt,answer\nhello,greeting\n";
  }
  auto alt = LoadExamplesCsv(dir.File("alt.csv"), "prompt", "answer");
  ASSERT_TRUE(alt.ok());
  EXPECT_EQ((*alt)[0].label, "greeting");

  const auto error = [&](const std::string& name, const std::string& content) {
    {
      std::ofstream f(dir.File(name));
      f << content;
    }
    auto r = LoadExamplesCsv(dir.File(name));
    EXPECT_FALSE(r.ok());
    return r.status().message();
  };
  EXPECT_EQ(error("nolabel.csv", "id,text\n1,x\n"),
            dir.File("nolabel.csv") + ": missing column 'label'");
  EXPECT_EQ(error("empty.csv", "id,text,label\n1,x,up\n2,y,\n"),
            dir.File("empty.csv") + ":3: empty label");
  EXPECT_EQ(error("norows.csv", "id,text,label\n"), dir.File("norows.csv") + ": no data rows");
  EXPECT_EQ(error("ragged.csv", "id,text,label\n1,x\n"),
            dir.File("ragged.csv") + ":2: row has 2 fields, the header has 3");
}

TEST(EvaluateTest, AgreementCoverageAndSystemAgreement) {
  auto trained = Student::Train(SeparableExamples(300), ModelOptions{});
  ASSERT_TRUE(trained.ok());
  Student s = *trained;
  s.set_identity("toy", 4);
  // 30 examples the student gets right, 10 where the teacher says otherwise.
  std::vector<Example> data = SeparableExamples(30, 99);
  for (int i = 0; i < 10; ++i) {
    std::string text = "the market soars ";
    text += std::to_string(i);
    data.push_back({text, "flat"});
  }

  EvalReport shadow = Evaluate(s, data, {"up", "down", "flat"});
  EXPECT_EQ(shadow.model, "student/toy@v4");
  EXPECT_EQ(shadow.examples, 40u);
  EXPECT_DOUBLE_EQ(shadow.agreement, 0.75);
  EXPECT_FALSE(shadow.threshold.has_value());
  EXPECT_EQ(shadow.accepted, 0u);
  EXPECT_DOUBLE_EQ(shadow.coverage, 0.0);
  EXPECT_DOUBLE_EQ(shadow.system_agreement, 1.0);  // the teacher answers everything
  EXPECT_EQ(shadow.confusion.At(2, 0), 10u);       // teacher flat, student up
  EXPECT_EQ(shadow.confusion.Agreed(), 30u);

  s.set_threshold(0.0);
  EvalReport all = Evaluate(s, data, {"up", "down", "flat"});
  EXPECT_EQ(all.accepted, 40u);
  EXPECT_EQ(all.accepted_agreed, 30u);
  EXPECT_DOUBLE_EQ(all.coverage, 1.0);
  EXPECT_DOUBLE_EQ(all.escalated, 0.0);
  EXPECT_DOUBLE_EQ(all.accepted_agreement, 0.75);
  EXPECT_DOUBLE_EQ(all.system_agreement, 0.75);
  EXPECT_GT(all.ece, 0.1);  // confident and wrong a quarter of the time

  const std::string text = RenderEvalText(all);
  EXPECT_NE(text.find("agreement           0.7500  (top label, all examples)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("coverage            1.0000  (40 answered by the student)\n"),
            std::string::npos);
  EXPECT_NE(text.find("teacher \\ student  up  down  flat\n"), std::string::npos) << text;
  const std::string json = RenderEvalJson(all);
  EXPECT_EQ(json.rfind("{\"model\":\"student/toy@v4\",\"examples\":40,\"agreement\":0.75,"
                       "\"threshold\":0,\"accepted\":40,",
                       0),
            0u)
      << json;
  EXPECT_NE(json.find("\"confusion\":{\"labels\":[\"up\",\"down\",\"flat\"],\"rows\":[[10,0,0],"
                      "[0,10,0],[10,0,10]]}"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace switchyard::learn
