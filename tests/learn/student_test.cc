#include "learn/student.h"

#include <fasttext/fasttext.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "learn/text.h"
#include "learn_test_util.h"

namespace switchyard::learn {
namespace {

using testing::SeparableExamples;
using testing::TempDir;

TEST(TextTest, NormalizesCaseWhitespaceAndReservedTokens) {
  EXPECT_EQ(NormalizeText("  Gold\tSOARS\r\n\n on  News \0x"), "gold soars on news");
  EXPECT_EQ(NormalizeText(std::string_view("a\0b", 3)), "a b");
  EXPECT_EQ(NormalizeText("__label__up is </s> here"), "_label_up is < /s> here");
  EXPECT_EQ(NormalizeText("Ünïcode STAYS"), "Ünïcode stays");
  EXPECT_EQ(NormalizeText(""), "");
  EXPECT_EQ(NormalizeText(" \n\t "), "");
}

TEST(TextTest, CutsLongInputsAtACharacterBoundary) {
  std::string long_text(kMaxNormalizedBytes - 1, 'a');
  long_text += "\xC3\xA9\xC3\xA9";  // two 2-byte characters straddle the limit
  const std::string norm = NormalizeText(long_text);
  EXPECT_EQ(norm.size(), kMaxNormalizedBytes - 1);
}

TEST(StudentTest, LearnsASeparableTask) {
  auto student = Student::Train(SeparableExamples(300), ModelOptions{});
  ASSERT_TRUE(student.ok()) << student.status().message();
  EXPECT_EQ(student->labels().size(), 3u);
  const Prediction p = student->Predict("Prices SOARS in the session");
  EXPECT_EQ(p.label, "up");
  EXPECT_GT(p.raw_confidence, 0.9);
  EXPECT_EQ(student->Predict("the market slumps").label, "down");
  EXPECT_EQ(student->Predict("steady trade").label, "flat");
}

TEST(StudentTest, TrainingIsDeterministic) {
  const auto examples = SeparableExamples(200);
  auto a = Student::Train(examples, ModelOptions{});
  auto b = Student::Train(examples, ModelOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<double> sa;
  std::vector<double> sb;
  ASSERT_TRUE(a->Scores("market soars early", &sa));
  ASSERT_TRUE(b->Scores("market soars early", &sb));
  EXPECT_EQ(sa, sb);
}

TEST(StudentTest, ScoresMatchFastTextsOwnPrediction) {
  TempDir dir;
  ModelOptions options;
  options.minn = 2;
  options.maxn = 5;
  auto student = Student::Train(SeparableExamples(200), options);
  ASSERT_TRUE(student.ok());
  ASSERT_TRUE(student->Save(dir.File("m.bin")).ok());

  fasttext::FastText ft;
  ft.loadModel(dir.File("m.bin"));
  for (const char* text : {"market soars early", "unknownword slumps", "zzz qqq", "steady"}) {
    std::istringstream in(NormalizeText(text) + "\n");
    std::vector<std::pair<fasttext::real, std::string>> preds;
    ASSERT_TRUE(ft.predictLine(in, preds, -1, 0.0));
    std::vector<double> scores;
    ASSERT_TRUE(student->Scores(text, &scores));
    for (const auto& [prob, label] : preds) {
      const int idx = student->LabelIndex(label.substr(9));
      ASSERT_GE(idx, 0) << label;
      const double p = Calibration::RawConfidence(scores, idx, ScoreKind::kSoftmax);
      // predictLine returns exp(log(p + 1e-5)).
      EXPECT_NEAR(prob - 1e-5, p, 1e-5) << text << " " << label;
    }
  }
}

TEST(StudentTest, EmptyInputHasNoLabelAndIsNeverAccepted) {
  auto student = Student::Train(SeparableExamples(100), ModelOptions{});
  ASSERT_TRUE(student.ok());
  student->set_threshold(0.0);
  student->set_serving(true);
  EXPECT_TRUE(student->Decide("   ").label.empty());
  EXPECT_FALSE(student->Decide("   ").accept);
  EXPECT_FALSE(student->Decide("").accept);
  EXPECT_TRUE(student->Decide("unseen words only").accept);  // features: bigrams, EOS
}

TEST(StudentTest, DecideAcceptsOnlyWhenServingWithAThresholdMet) {
  auto trained = Student::Train(SeparableExamples(300), ModelOptions{});
  ASSERT_TRUE(trained.ok());
  Student s = *trained;
  EXPECT_FALSE(s.Decide("market soars").accept);  // no threshold, not serving
  s.set_threshold(0.5);
  EXPECT_FALSE(s.Decide("market soars").accept);  // not serving
  s.set_serving(true);
  const Decision d = s.Decide("market soars");
  EXPECT_TRUE(d.accept);
  EXPECT_EQ(d.label, "up");
  s.set_threshold(1.01);
  EXPECT_FALSE(s.Decide("market soars").accept);
  s.set_identity("headlines", 3);
  EXPECT_EQ(s.ModelName(), "student/headlines@v3");
}

TEST(StudentTest, SaveAndLoadRoundTrip) {
  TempDir dir;
  auto student = Student::Train(SeparableExamples(200), ModelOptions{});
  ASSERT_TRUE(student.ok());
  ASSERT_TRUE(student->Save(dir.File("v1.bin")).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.File("v1.bin.tmp")));
  auto loaded = Student::Load(dir.File("v1.bin"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->labels(), student->labels());
  std::vector<double> a;
  std::vector<double> b;
  ASSERT_TRUE(student->Scores("early trade slumps", &a));
  ASSERT_TRUE(loaded->Scores("early trade slumps", &b));
  EXPECT_EQ(a, b);
}

TEST(StudentTest, LoadErrorsAreStatuses) {
  TempDir dir;
  auto missing = Student::Load(dir.File("nope.bin"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(missing.status().message(), "student model " + dir.File("nope.bin") + ": no such file");

  {
    std::ofstream f(dir.File("junk.bin"));
    f << "this is not a model";
  }
  auto junk = Student::Load(dir.File("junk.bin"));
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().message(), "student model " + dir.File("junk.bin") + ": " +
                                         dir.File("junk.bin") + " has wrong file format!");
}

TEST(StudentTest, SaveToAMissingDirectoryFails) {
  auto student = Student::Train(SeparableExamples(50), ModelOptions{});
  ASSERT_TRUE(student.ok());
  auto s = student->Save("/nonexistent-dir/x/v1.bin");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), core::StatusCode::kInternal);
  EXPECT_EQ(s.message().rfind("cannot save student model /nonexistent-dir/x/v1.bin: ", 0), 0u)
      << s.message();
}

TEST(StudentTest, RejectsBadExamplesAndOptions) {
  auto none = Student::Train({}, ModelOptions{});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "no training examples");

  auto bad_label = Student::Train({{"text", "two words"}}, ModelOptions{});
  ASSERT_FALSE(bad_label.ok());
  EXPECT_EQ(bad_label.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_label.status().message(), "label 'two words' is empty or contains whitespace");

  ModelOptions o;
  o.dim = 0;
  EXPECT_EQ(ValidateModelOptions(o).message(), "student options: dim must be in [1, 1000]");
  o = {};
  o.minn = 3;
  o.maxn = 2;
  EXPECT_EQ(ValidateModelOptions(o).message(),
            "student options: character n-grams need 1 <= minn <= maxn <= 10 (or minn = maxn = 0 "
            "for none)");
  o = {};
  o.lr = 0;
  auto r = Student::Train(SeparableExamples(10), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "student options: lr must be in (0, 10]");
}

TEST(StudentTest, CancelledTrainingReturnsCancelled) {
  std::atomic<bool> cancel{true};
  ModelOptions o;
  o.epoch = 200;
  auto r = Student::Train(SeparableExamples(2000), o, &cancel);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), core::StatusCode::kCancelled);
  EXPECT_EQ(r.status().message(), "training cancelled");
}

TEST(StudentTest, OneVsAllModelsUseSigmoidScores) {
  ModelOptions o;
  o.loss = LossKind::kOneVsAll;
  auto s = Student::Train(SeparableExamples(300), o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->score_kind(), ScoreKind::kSigmoid);
  EXPECT_EQ(s->Predict("market soars").label, "up");
}

}  // namespace
}  // namespace switchyard::learn
