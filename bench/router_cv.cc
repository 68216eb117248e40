// router_cv: 5-fold cross-validation of Switchyard's routers on the RouteLLM
// outcome data (../shared/data/routing): a prompt router on mmlu_dev.csv and a
// cascade on gsm8k_dev.csv. Scores come only from models that did not see the
// row; RouteLLM metrics on the pooled out-of-fold scores and the per-fold mean,
// next to the random router and the oracle on the same rows.
//
//   router_cv [--data-dir ../shared/data] [--only mmlu|gsm8k] [--seed N]
//             [--curve] [--scores-dir DIR]
//             [--fixed] [--c X] [--target benefit|difference|weak_wrong|discordant|rank]
//             [--labels graded|shadow] [...feature flags]
// By default every outer fold chooses its target and C by an inner 3-fold
// cross-validation on its own training rows (nested; grids fixed below, the
// features are the shipped DefaultTrainOptions plus any feature flags).
// --fixed trains the shipped DefaultTrainOptions (with the flags) instead.
// --labels shadow (GSM8K: the file has strong_response) trains on what shadow
// outcomes give a deployment: weak_correct = the weak answer agrees with the
// strong one (routing::Judge, rule auto), strong_correct = 1; every figure is
// still computed on the graded outcomes of the held-out rows.
//
// Exits 0 after printing a Markdown table, 2 on bad usage, 1 when a data file
// is missing (with a message naming it).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "core/csv.h"
#include "routing/cross_validation.h"
#include "routing/dataset.h"
#include "routing/model.h"
#include "routing/outcome_export.h"

namespace {

using switchyard::routing::CvOptions;
using switchyard::routing::RouterKind;
using switchyard::routing::RouterMetrics;

std::string Pct(const std::optional<double>& v) {
  if (!v) return "not reached";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", *v * 100);
  return buf;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

void Row(const char* name, const RouterMetrics& m) {
  std::printf("| %s | %s | %s | %s | %s |\n", name, Num(m.apgr).c_str(), Pct(m.cpt20).c_str(),
              Pct(m.cpt50).c_str(), Pct(m.cpt80).c_str());
}

// --labels shadow: options.train_outcomes from the weak answer's agreement
// with the strong one (rule auto, as `router export`), with how they compare
// to the graded outcomes. Returns an exit code (0 = go on).
int UseShadowLabels(const std::string& path,
                    const std::vector<switchyard::routing::RoutingExample>& data,
                    CvOptions& options) {
  // The strong answers (never a feature: the loader skips them).
  auto table = switchyard::core::ReadCsvFile(path);
  const auto col = table.ok() ? table->ColumnIndex("strong_response") : std::nullopt;
  if (!col || table->rows.size() != data.size()) {
    std::fprintf(stderr, "router_cv: %s: --labels shadow needs a strong_response column\n",
                 path.c_str());
    return 1;
  }
  size_t no_reference = 0;
  size_t by_rule[4] = {0, 0, 0, 0};        // MatchRule order: auto, number, choice, exact
  size_t counts[2][2] = {{0, 0}, {0, 0}};  // [label agrees][graded weak_correct]
  size_t missed_strong_wrong = 0;          // labelled "disagrees", weak right, strong wrong
  for (size_t i = 0; i < data.size(); ++i) {
    const auto& ex = data[i];
    const auto a = switchyard::routing::Judge(ex.weak_response.value_or(""), table->rows[i][*col],
                                              switchyard::routing::MatchRule::kAuto, ex.prompt);
    // No reference would skip the row in `router export`; here it stays,
    // labelled "weak wrong", so the folds match the graded run's.
    no_reference += a.agree ? 0 : 1;
    ++by_rule[static_cast<int>(a.rule)];
    const bool agrees = a.agree.value_or(false);
    options.train_outcomes.push_back({agrees, true});
    ++counts[agrees ? 1 : 0][ex.weak_correct != 0 ? 1 : 0];
    if (!agrees && ex.weak_correct != 0 && ex.strong_correct == 0) ++missed_strong_wrong;
  }
  const size_t same = counts[1][1] + counts[0][0];
  std::printf(
      "\nTraining labels from the strong answer (shadow outcomes): rule auto judged %zu rows "
      "by number, %zu by choice, %zu by exact text; %zu strong answers gave no reference "
      "(labelled disagreeing). The weak answer agrees on %zu of %zu rows; the label equals "
      "the graded weak_correct on %zu (%.1f%%).\n\n| label | graded weak right | graded weak "
      "wrong |\n|---|---|---|\n| agrees | %zu | %zu |\n| disagrees | %zu | %zu |\n\nOf the "
      "%zu rows labelled disagreeing where the weak answer was right, the strong answer was "
      "graded wrong on %zu.\n",
      by_rule[1], by_rule[2], by_rule[3], no_reference, counts[1][0] + counts[1][1], data.size(),
      same, 100.0 * static_cast<double>(same) / static_cast<double>(data.size()), counts[1][1],
      counts[1][0], counts[0][1], counts[0][0], counts[0][1], missed_strong_wrong);
  return 0;
}

int Run(const std::string& title, const std::string& path, CvOptions options, bool curve,
        const std::string& scores_out, bool shadow_labels) {
  switchyard::routing::LoadOptions lo;
  lo.need_weak_response = options.train.kind == RouterKind::kCascade;
  auto data = switchyard::routing::LoadRoutingCsv(path, lo);
  if (!data.ok()) {
    std::fprintf(stderr, "router_cv: %s\n", data.status().message().c_str());
    return 1;
  }
  if (shadow_labels) {
    if (int r = UseShadowLabels(path, *data, options); r != 0) return r;
  }
  auto cv = switchyard::routing::CrossValidate(*data, options);
  if (!cv.ok()) {
    std::fprintf(stderr, "router_cv: %s\n", cv.status().message().c_str());
    return 1;
  }
  if (!scores_out.empty()) {
    std::vector<switchyard::routing::ScoredId> rows;
    for (size_t i = 0; i < data->size(); ++i) rows.push_back({(*data)[i].id, cv->scores[i]});
    std::FILE* f = std::fopen(scores_out.c_str(), "wb");
    if (f == nullptr) {
      std::fprintf(stderr, "router_cv: %s: cannot write file\n", scores_out.c_str());
      return 1;
    }
    const std::string text = switchyard::routing::RenderScoresCsv(rows);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  std::vector<RouterMetrics> router_folds, random_folds, oracle_folds;
  for (const auto& f : cv->per_fold) {
    router_folds.push_back(f.router);
    random_folds.push_back(f.random);
    oracle_folds.push_back(f.oracle);
  }
  std::printf("\n### %s — %zu rows, weak %.3f, strong %.3f, %d folds (train %.1f s total)\n\n",
              title.c_str(), cv->pooled.rows, cv->pooled.weak_accuracy, cv->pooled.strong_accuracy,
              options.folds, cv->train_seconds);
  std::printf("| router | APGR | CPT(20%%) | CPT(50%%) | CPT(80%%) |\n");
  std::printf("|---|---|---|---|---|\n");
  Row("Switchyard, pooled out-of-fold", cv->pooled);
  const auto mean = switchyard::routing::MeanOverFolds(router_folds);
  std::printf("| Switchyard, mean of folds | %s | %s | %s | %s |\n", Num(mean.apgr).c_str(),
              mean.reached20 ? Pct(mean.cpt20).c_str() : "not reached",
              mean.reached50 ? Pct(mean.cpt50).c_str() : "not reached",
              mean.reached80 ? Pct(mean.cpt80).c_str() : "not reached");
  Row("random (mean of draws)", cv->random);
  Row("oracle", cv->oracle);
  if (!cv->chosen.empty()) {
    std::printf("\nChosen per outer fold by the inner cross-validation (target, C):");
    for (size_t k = 0; k < cv->chosen.size(); ++k) {
      const auto& t = options.candidates[cv->chosen[k]];
      std::printf("%s %s %.2g", k == 0 ? "" : ";",
                  std::string(switchyard::routing::TargetName(t.target)).c_str(), t.c);
      const auto& f = t.features;
      if (f.option_words_weight != 0) std::printf(" option-words %.2g", f.option_words_weight);
      if (f.answer_tail_words_weight != 0) {
        std::printf(" tail-words %.2g", f.answer_tail_words_weight);
      }
    }
    std::printf("\n");
  }
  // Serving cost: a model trained on every row, scoring each row once.
  auto full = switchyard::routing::RouterModel::Train(*data, options.train);
  if (full.ok()) {
    const auto start = std::chrono::steady_clock::now();
    auto all = full->ScoreAll(*data);
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    if (all.ok()) {
      std::printf(
          "\nScoring (features + dot product), model trained on all rows: %.1f us per "
          "query on average; model file %.1f MB.\n",
          us / static_cast<double>(data->size()),
          static_cast<double>(full->Serialize().size()) / 1e6);
    }
  }
  if (curve) {
    std::printf("\n| threshold | strong calls | accuracy | PGR |\n|---|---|---|---|\n");
    for (const auto& p : cv->pooled.curve) {
      std::printf("| %.4f | %.1f%% | %.4f | %.3f |\n", p.threshold, p.strong_fraction * 100,
                  p.accuracy, p.pgr);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"5-fold cross-validation of Switchyard routers on the RouteLLM data"};
  std::string data_dir = "../shared/data";
  std::string only;
  std::string target;
  std::optional<double> c;
  bool curve = false;
  std::string scores_dir;
  CvOptions base;
  std::optional<int> answer_ngrams;
  std::optional<int> word_ngrams, char_min, char_max, hash_bits;
  std::optional<double> word_w, char_w, subject_w, structure_w, subject_structure_w, answer_w,
      answer_words_w, cascade_prompt_w, option_w, option_words_w, answer_extra_w, answer_tail_w;
  app.add_option("--data-dir", data_dir, "Folder holding routing/*.csv")->capture_default_str();
  app.add_option("--only", only, "Run one benchmark: mmlu or gsm8k");
  app.add_option("--seed", base.seed, "Fold assignment seed")->capture_default_str();
  app.add_option("--folds", base.folds, "Number of folds")->capture_default_str();
  app.add_option("--c", c, "liblinear C (overrides the default)");
  app.add_option("--target", target, "benefit, difference, weak_wrong, discordant or rank");
  app.add_option("--word-ngrams", word_ngrams, "Prompt word n-grams");
  app.add_option("--answer-ngrams", answer_ngrams, "Weak-answer word n-grams");
  app.add_option("--char-min", char_min, "Prompt char n-gram minimum (0 = none)");
  app.add_option("--char-max", char_max, "Prompt char n-gram maximum");
  app.add_option("--hash-bits", hash_bits, "Hashed feature space bits");
  app.add_option("--word-weight", word_w, "Feature group weight");
  app.add_option("--char-weight", char_w, "Feature group weight");
  app.add_option("--subject-weight", subject_w, "Feature group weight");
  app.add_option("--structure-weight", structure_w, "Feature group weight");
  app.add_option("--subject-structure-weight", subject_structure_w, "Feature group weight");
  app.add_option("--answer-weight", answer_w, "Feature group weight");
  app.add_option("--answer-words-weight", answer_words_w, "Feature group weight");
  app.add_option("--cascade-prompt-weight", cascade_prompt_w, "Feature group weight");
  app.add_option("--option-weight", option_w, "Feature group weight (answer options)");
  app.add_option("--option-words-weight", option_words_w,
                 "Feature group weight (option-line words apart from the stem's)");
  app.add_option("--answer-extra-weight", answer_extra_w,
                 "Feature group weight (further weak-answer checks)");
  app.add_option("--answer-tail-words-weight", answer_tail_w,
                 "Feature group weight (words of the weak answer's last two lines)");
  std::optional<double> nb_alpha;
  app.add_option("--nb-alpha", nb_alpha,
                 "Log-count-ratio (NBSVM) scaling of the features of logistic heads, smoothing "
                 "alpha (0 = off, the default)");
  app.add_flag("--curve", curve, "Print the pooled curve too");
  std::string labels = "graded";
  app.add_option("--labels", labels,
                 "Training labels: graded (the file's) or shadow (agreement with the strong "
                 "answer; GSM8K)")
      ->check(CLI::IsMember({"graded", "shadow"}))
      ->capture_default_str();
  app.add_option("--inner-folds", base.inner_folds,
                 "Folds of the inner (selection) cross-validation")
      ->capture_default_str();
  bool fixed = false;
  bool grid_extra = false;
  bool grid_rank = false;
  app.add_flag("--grid-rank", grid_rank,
               "Nested choice also over the pairwise ranking target (same C grid)");
  app.add_flag("--grid-extra", grid_extra,
               "Nested choice also over the option-words (MMLU) / answer-tail-words (GSM8K) "
               "group, off or weight 1");
  app.add_flag("--fixed", fixed,
               "Train the shipped defaults (with --c/--target) instead of the nested choice");
  app.add_option("--scores-dir", scores_dir,
                 "Write the out-of-fold scores as <dir>/<benchmark>_oof_scores.csv (for "
                 "`switchyard router eval --plot`)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  struct Bench {
    const char* key;
    const char* title;
    const char* file;
    RouterKind kind;
  };
  const Bench benches[] = {
      {"mmlu", "MMLU — prompt router", "routing/mmlu_dev.csv", RouterKind::kPrompt},
      {"gsm8k", "GSM8K — cascade on the weak answer", "routing/gsm8k_dev.csv",
       RouterKind::kCascade},
  };
  int rc = 0;
  for (const auto& b : benches) {
    if (!only.empty() && only != b.key) continue;
    const std::string path = (std::filesystem::path(data_dir) / b.file).string();
    if (!std::filesystem::exists(path)) {
      std::fprintf(stderr, "router_cv: %s not found (pass --data-dir); skipping %s\n", path.c_str(),
                   b.key);
      rc = 1;
      continue;
    }
    CvOptions o = base;
    o.train = switchyard::routing::DefaultTrainOptions(b.kind);
    if (c) o.train.c = *c;
    if (nb_alpha) o.train.nb_alpha = *nb_alpha;
    if (!target.empty()) {
      auto t = switchyard::routing::ParseTarget(target);
      if (!t.ok()) {
        std::fprintf(stderr, "router_cv: %s\n", t.status().message().c_str());
        return 2;
      }
      o.train.target = *t;
    }
    auto& f = o.train.features;
    if (word_ngrams) f.word_ngrams = *word_ngrams;
    if (answer_ngrams) f.answer_word_ngrams = *answer_ngrams;
    if (char_min) f.char_ngram_min = *char_min;
    if (char_max) f.char_ngram_max = *char_max;
    if (hash_bits) f.hash_bits = *hash_bits;
    if (word_w) f.word_weight = *word_w;
    if (char_w) f.char_weight = *char_w;
    if (subject_w) f.subject_weight = *subject_w;
    if (structure_w) f.structure_weight = *structure_w;
    if (subject_structure_w) f.subject_structure_weight = *subject_structure_w;
    if (answer_w) f.answer_weight = *answer_w;
    if (answer_words_w) f.answer_words_weight = *answer_words_w;
    if (cascade_prompt_w) f.cascade_prompt_weight = *cascade_prompt_w;
    if (option_w) f.option_weight = *option_w;
    if (option_words_w) f.option_words_weight = *option_words_w;
    if (answer_extra_w) f.answer_extra_weight = *answer_extra_w;
    if (answer_tail_w) f.answer_tail_words_weight = *answer_tail_w;
    if (!fixed && !c && target.empty()) {
      // Grids fixed here (docs/BENCHMARKS.md says how they came about); the
      // choice is made inside each outer fold from its training rows only.
      using switchyard::routing::Target;
      const std::vector<Target> targets =
          b.kind == RouterKind::kPrompt
              ? std::vector<Target>{Target::kDifference, Target::kDiscordant}
              : std::vector<Target>{Target::kBenefit, Target::kDifference};
      const std::vector<double> cs = b.kind == RouterKind::kPrompt
                                         ? std::vector<double>{1, 3}
                                         : std::vector<double>{0.1, 0.3, 1};
      // APGR itself on MMLU's thousands of rows; on GSM8K's few hundred it is
      // too noisy and the smooth squared error of the benefit estimate decides.
      o.selection = b.kind == RouterKind::kPrompt
                        ? switchyard::routing::Selection::kApgr
                        : switchyard::routing::Selection::kBenefitSquaredError;
      // --grid-extra: each candidate also without and with the group tried in
      // session 4 (MMLU option-line words apart, weight 1; GSM8K the answer's
      // last two lines' words, weight 1), so the inner CV decides on it too.
      std::vector<Target> grid_targets = targets;
      if (grid_rank) grid_targets.push_back(Target::kRank);
      std::vector<double> extra = {-1};
      if (grid_extra) extra = {0, 1};
      for (Target t : grid_targets) {
        for (double cv_c : cs) {
          for (double x : extra) {
            auto cand = o.train;
            cand.target = t;
            cand.c = cv_c;
            if (x >= 0) {
              (b.kind == RouterKind::kPrompt ? cand.features.option_words_weight
                                             : cand.features.answer_tail_words_weight) = x;
            }
            o.candidates.push_back(cand);
          }
        }
      }
    }
    const std::string scores_out =
        scores_dir.empty()
            ? std::string()
            : (std::filesystem::path(scores_dir) / (std::string(b.key) + "_oof_scores.csv"))
                  .string();
    if (labels == "shadow" && b.kind != RouterKind::kCascade) {
      std::fprintf(stderr, "router_cv: --labels shadow needs strong answers; %s has none\n", b.key);
      rc = 2;
      continue;
    }
    if (int r = Run(b.title, path, o, curve, scores_out, labels == "shadow"); r != 0) rc = r;
  }
  return rc;
}
