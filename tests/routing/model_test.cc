#include "routing/model.h"

#include <gtest/gtest.h>

#include "test_data.h"

namespace switchyard::routing {
namespace {

using testing::Generated;

double Mean(const std::vector<double>& v, const std::vector<RoutingExample>& rows, bool hard) {
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if ((rows[i].prompt.find("proof") != std::string::npos) == hard) {
      sum += v[i];
      ++n;
    }
  }
  return sum / n;
}

TEST(RouterModelTest, LearnsWhereTheStrongModelHelps) {
  const auto rows = Generated(90);
  for (Target target : {Target::kBenefit, Target::kDifference, Target::kWeakWrong,
                        Target::kDiscordant, Target::kRank}) {
    TrainOptions o = DefaultTrainOptions(RouterKind::kPrompt);
    o.target = target;
    o.features.hash_bits = 14;
    auto model = RouterModel::Train(rows, o);
    ASSERT_TRUE(model.ok()) << model.status().message();
    auto scores = model->ScoreAll(Generated(120));
    ASSERT_TRUE(scores.ok());
    EXPECT_GT(Mean(*scores, Generated(120), true), Mean(*scores, Generated(120), false) + 0.2)
        << TargetName(target);
  }
}

TEST(RouterModelTest, LogCountRatioScalingLearnsTooAndChangesTheWeights) {
  // nb_alpha > 0: the logistic heads train on ratio-scaled features and fold the
  // ratios into their weights; the model still ranks the hard rows first, its
  // file format is unchanged, and the weights differ from the unscaled model's.
  const auto rows = Generated(90);
  TrainOptions o = DefaultTrainOptions(RouterKind::kPrompt);
  o.target = Target::kDifference;
  o.features.hash_bits = 14;
  auto plain = RouterModel::Train(rows, o);
  o.nb_alpha = 0.1;
  auto scaled = RouterModel::Train(rows, o);
  ASSERT_TRUE(plain.ok() && scaled.ok());
  auto scores = scaled->ScoreAll(Generated(120));
  ASSERT_TRUE(scores.ok());
  EXPECT_GT(Mean(*scores, Generated(120), true), Mean(*scores, Generated(120), false) + 0.2);
  const std::string text = scaled->Serialize();
  EXPECT_EQ(text.substr(0, text.find('\n')), "switchyard-router 1");
  EXPECT_NE(text, plain->Serialize());
  auto parsed = RouterModel::Parse(text, "m.model");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto again = parsed->ScoreAll(Generated(120));
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < again->size(); ++i) EXPECT_NEAR((*again)[i], (*scores)[i], 1e-5) << i;
}

TEST(RouterModelTest, SerializeParseRoundTripKeepsScores) {
  const auto rows = Generated(60);
  TrainOptions o = DefaultTrainOptions(RouterKind::kCascade);
  o.target = Target::kDifference;
  o.features.hash_bits = 12;
  o.features.char_ngram_min = 2;
  o.features.char_ngram_max = 3;
  o.features.subject_structure_weight = 0.5;
  auto model = RouterModel::Train(rows, o);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const std::string text = model->Serialize();
  EXPECT_EQ(text.substr(0, text.find('\n')), "switchyard-router 1");
  auto parsed = RouterModel::Parse(text, "m.model");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->kind(), RouterKind::kCascade);
  EXPECT_EQ(parsed->target(), Target::kDifference);
  EXPECT_EQ(parsed->options().features.char_ngram_max, 3);
  EXPECT_DOUBLE_EQ(parsed->options().features.subject_structure_weight, 0.5);
  EXPECT_EQ(parsed->Serialize(), text);
  auto a = model->ScoreAll(rows);
  auto b = parsed->ScoreAll(rows);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_NEAR((*a)[i], (*b)[i], 1e-5) << i;

  testing::TempDir dir("model");
  ASSERT_TRUE(model->Save(dir.File("r.model")).ok());
  auto loaded = RouterModel::Load(dir.File("r.model"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->Serialize(), text);
  EXPECT_EQ(model->Save(dir.File("missing/dir/r.model")).message(),
            dir.File("missing/dir/r.model") + ": cannot write file");
}

TEST(RouterModelTest, ExtraWeightsWriteVersionTwoAndRoundTrip) {
  const auto rows = Generated(60);
  TrainOptions o = DefaultTrainOptions(RouterKind::kCascade);
  o.features.hash_bits = 12;
  o.features.option_weight = 0.25;
  o.features.answer_extra_weight = 0.5;
  o.features.option_words_weight = 0.75;
  o.features.answer_tail_words_weight = 2;
  auto model = RouterModel::Train(rows, o);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const std::string text = model->Serialize();
  EXPECT_EQ(text.substr(0, text.find('\n')), "switchyard-router 2");
  EXPECT_NE(text.find("\nextra_weights 0.25 0.75 0.5 2\nheads "), std::string::npos);
  auto parsed = RouterModel::Parse(text, "m.model");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_DOUBLE_EQ(parsed->options().features.option_weight, 0.25);
  EXPECT_DOUBLE_EQ(parsed->options().features.answer_extra_weight, 0.5);
  EXPECT_DOUBLE_EQ(parsed->options().features.option_words_weight, 0.75);
  EXPECT_DOUBLE_EQ(parsed->options().features.answer_tail_words_weight, 2);
  EXPECT_EQ(parsed->Serialize(), text);
  auto a = model->ScoreAll(rows);
  auto b = parsed->ScoreAll(rows);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_NEAR((*a)[i], (*b)[i], 1e-5) << i;
}

TEST(RouterModelTest, VersionOneFileLoadsWithoutExtraWeights) {
  // A file as written before version 2 existed.
  const std::string v1 =
      "switchyard-router 1\nkind prompt\ntarget benefit\nhash_bits 10\nword_ngrams 1 1\n"
      "char_ngrams 0 0\nweights 1 1 1 1 0 1 0.5 1\nheads 1\nhead identity +1 0.5 1\n7 0.25\nend\n";
  auto parsed = RouterModel::Parse(v1, "old.model");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->options().features.option_weight, 0);
  EXPECT_EQ(parsed->options().features.answer_extra_weight, 0);
  EXPECT_EQ(parsed->options().features.option_words_weight, 0);
  EXPECT_EQ(parsed->options().features.answer_tail_words_weight, 0);
  EXPECT_EQ(parsed->Serialize(), v1);
}

TEST(RouterModelTest, CascadeReadsTheWeakAnswer) {
  // Same prompt and no subject: only the weak answer tells the rows apart.
  auto rows = Generated(90);
  for (auto& r : rows) {
    r.prompt = "Solve the word problem.";
    r.subject.reset();
  }
  TrainOptions o = DefaultTrainOptions(RouterKind::kCascade);
  o.features.hash_bits = 14;
  o.c = 1;
  auto model = RouterModel::Train(rows, o);
  ASSERT_TRUE(model.ok());
  RouterInput good;
  good.prompt = "Solve the word problem.";
  good.weak_response = std::string_view("So 2 + 2 = 4.\n#### 4");
  RouterInput bad = good;
  bad.weak_response = std::string_view("So 2 + 2 = 5 and then we can set up the following");
  auto g = model->Score(good);
  auto b = model->Score(bad);
  ASSERT_TRUE(g.ok() && b.ok());
  EXPECT_GT(*b, *g + 0.3);
  RouterInput none;
  none.prompt = "Solve the word problem.";
  EXPECT_EQ(model->Score(none).status().message(),
            "a cascade model needs the weak model's response");
}

TEST(RouterModelTest, TrainErrors) {
  EXPECT_EQ(RouterModel::Train({}, {}).status().message(), "no training rows");
  TrainOptions o;
  o.features.hash_bits = 30;
  EXPECT_EQ(RouterModel::Train(Generated(5), o).status().message(),
            "hash_bits must be between 10 and 24");
  auto rows = Generated(5);
  rows[2].weak_response.reset();
  EXPECT_EQ(RouterModel::Train(rows, DefaultTrainOptions(RouterKind::kCascade)).status().message(),
            "row 'q2' has no weak_response (a cascade model needs it)");
  // A single outcome class still trains (a constant model).
  auto same = Generated(6);
  for (auto& r : same) {
    r.weak_correct = 1;
    r.strong_correct = 1;
  }
  TrainOptions d;
  d.target = Target::kDifference;
  d.features.hash_bits = 10;
  EXPECT_TRUE(RouterModel::Train(same, d).ok());
}

TEST(RouterModelTest, RankNeedsRowsThatDiffer) {
  auto rows = Generated(12);
  for (auto& r : rows) {
    r.weak_correct = 1;
    r.strong_correct = 1;
  }
  TrainOptions o = DefaultTrainOptions(RouterKind::kPrompt);
  o.target = Target::kRank;
  o.features.hash_bits = 12;
  EXPECT_EQ(RouterModel::Train(rows, o).status().message(),
            "no pair of rows with different outcomes");
}

TEST(RouterModelTest, NamesParse) {
  EXPECT_EQ(*ParseRouterKind("cascade"), RouterKind::kCascade);
  EXPECT_EQ(ParseRouterKind("both").status().message(),
            "unknown router kind 'both' (expected prompt or cascade)");
  EXPECT_EQ(*ParseTarget("weak_wrong"), Target::kWeakWrong);
  EXPECT_EQ(*ParseTarget("discordant"), Target::kDiscordant);
  EXPECT_EQ(TargetName(Target::kDiscordant), "discordant");
  EXPECT_EQ(*ParseTarget("rank"), Target::kRank);
  EXPECT_EQ(TargetName(Target::kRank), "rank");
  EXPECT_EQ(ParseTarget("x").status().message(),
            "unknown target 'x' (expected benefit, difference, weak_wrong, discordant or rank)");
}

std::string Header() {
  return "switchyard-router 1\nkind prompt\ntarget benefit\nhash_bits 10\nword_ngrams 1 1\n"
         "char_ngrams 0 0\nweights 1 1 1 1 0 1 0.5 1\nheads 1\n";
}

TEST(RouterModelParseTest, Errors) {
  auto msg = [](const std::string& text) {
    return RouterModel::Parse(text, "m.model").status().message();
  };
  EXPECT_TRUE(RouterModel::Parse(Header() + "head identity +1 0.5 1\n7 0.25\nend\n", "m").ok());
  EXPECT_EQ(msg(""), "m.model: empty file");
  EXPECT_EQ(msg("id,score\n"), "m.model: not a switchyard router model (first line 'id,score')");
  EXPECT_EQ(msg("switchyard-router 3\n"),
            "m.model: unsupported model version 3 (this build reads versions 1 to 2)");
  EXPECT_EQ(msg("switchyard-router 0\n"),
            "m.model: unsupported model version 0 (this build reads versions 1 to 2)");
  // Version 2 needs the extra_weights line after weights.
  std::string v2 = Header();
  v2.replace(v2.find(" 1\n"), 3, " 2\n");
  EXPECT_EQ(msg(v2 + "head identity +1 0.5 0\nend\n"),
            "m.model:8: expected 'extra_weights ...', found 'heads 1'");
  std::string v2_extra = v2;
  v2_extra.insert(v2_extra.find("heads"), "extra_weights 0.3 1 x 0\n");
  EXPECT_EQ(msg(v2_extra + "head identity +1 0.5 0\nend\n"),
            "m.model:8: bad value 'x' for 'extra_weights'");
  EXPECT_EQ(msg("switchyard-router 1\nkind prompt\n"), "m.model: truncated (missing 'end')");
  EXPECT_EQ(msg("switchyard-router 1\ntarget benefit\n"),
            "m.model:2: expected 'kind ...', found 'target benefit'");
  EXPECT_EQ(msg("switchyard-router 1\nkind router\n"), "m.model:2: bad value 'router' for 'kind'");
  EXPECT_EQ(msg("switchyard-router 1\nkind prompt\ntarget benefit\nhash_bits 40\n"),
            "m.model:4: bad value '40' for 'hash_bits'");
  EXPECT_EQ(msg(Header() + "head identity +1 0.5 1\n5000 0.25\nend\n"),
            "m.model:10: weight index 5000 out of range (hash_bits 10)");
  EXPECT_EQ(msg(Header() + "head identity +1 0.5 2\n7 0.25\n"),
            "m.model: truncated (missing 'end')");
  EXPECT_EQ(msg(Header() + "head identity +1 0.5 1\n7 x\nend\n"),
            "m.model:10: bad weight line '7 x'");
  EXPECT_EQ(msg(Header() + "head cubic +1 0.5 0\nend\n"),
            "m.model:9: bad value 'cubic' for 'head'");
  EXPECT_EQ(msg(Header() + "head identity +1 0.5 0\nmore\n"),
            "m.model:10: expected 'end', found 'more'");
  EXPECT_EQ(RouterModel::Load("/nonexistent/r.model").status().message(),
            "/nonexistent/r.model: cannot read file (No such file or directory)");
}

}  // namespace
}  // namespace switchyard::routing
