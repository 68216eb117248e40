#include "routing/model.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "core/csv.h"
#include "routing/internal/linear.h"

namespace switchyard::routing {
namespace {

// Version 1 files (every model with the default option/extra-check weights
// of 0, which is still written as version 1) have no "extra_weights" line;
// version 2 adds it after "weights".
constexpr int kFormatVersion = 2;
constexpr int kOldestFormatVersion = 1;
constexpr std::string_view kMagic = "switchyard-router";

double Sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return false;
  if constexpr (std::is_floating_point_v<T>) return std::isfinite(*out);
  return true;
}

// Line reader over the model text with error helpers.
class Reader {
 public:
  Reader(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  bool Next(std::string_view* line) {
    while (pos_ < text_.size()) {
      size_t nl = text_.find('\n', pos_);
      if (nl == std::string_view::npos) nl = text_.size();
      *line = text_.substr(pos_, nl - pos_);
      if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
      pos_ = nl + 1;
      ++line_no_;
      if (!line->empty()) return true;
    }
    return false;
  }
  size_t line_no() const { return line_no_; }
  core::Status Error(const std::string& msg) const {
    return core::InvalidArgument(std::string(name_) + ":" + std::to_string(line_no_) + ": " + msg);
  }
  core::Status Truncated() const {
    return core::InvalidArgument(std::string(name_) + ": truncated (missing 'end')");
  }

  // Reads "key v1 v2 ..." with exactly `values` values.
  core::Result<std::vector<std::string_view>> Keyed(std::string_view key, size_t values) {
    std::string_view line;
    if (!Next(&line)) return Truncated();
    auto parts = SplitSpaces(line);
    if (parts.empty() || parts[0] != key || parts.size() != values + 1) {
      std::string shown(line.substr(0, 40));
      return Error("expected '" + std::string(key) + " ...', found '" + shown + "'");
    }
    parts.erase(parts.begin());
    return parts;
  }
  core::Status BadValue(std::string_view value, std::string_view key) const {
    return Error("bad value '" + std::string(value) + "' for '" + std::string(key) + "'");
  }

 private:
  std::string_view text_;
  std::string_view name_;
  size_t pos_ = 0;
  size_t line_no_ = 0;
};

}  // namespace

std::string_view RouterKindName(RouterKind kind) {
  return kind == RouterKind::kCascade ? "cascade" : "prompt";
}

std::string_view TargetName(Target target) {
  switch (target) {
    case Target::kBenefit:
      return "benefit";
    case Target::kDifference:
      return "difference";
    case Target::kWeakWrong:
      return "weak_wrong";
    case Target::kDiscordant:
      return "discordant";
    case Target::kRank:
      return "rank";
  }
  return "benefit";
}

core::Result<RouterKind> ParseRouterKind(std::string_view name) {
  if (name == "prompt") return RouterKind::kPrompt;
  if (name == "cascade") return RouterKind::kCascade;
  return core::InvalidArgument("unknown router kind '" + std::string(name) +
                               "' (expected prompt or cascade)");
}

core::Result<Target> ParseTarget(std::string_view name) {
  if (name == "benefit") return Target::kBenefit;
  if (name == "difference") return Target::kDifference;
  if (name == "weak_wrong") return Target::kWeakWrong;
  if (name == "discordant") return Target::kDiscordant;
  if (name == "rank") return Target::kRank;
  return core::InvalidArgument("unknown target '" + std::string(name) +
                               "' (expected benefit, difference, weak_wrong, discordant or rank)");
}

TrainOptions DefaultTrainOptions(RouterKind kind) {
  // Chosen by 5-fold cross-validation with a tuning seed (7) different from
  // the seed the reported benchmark uses; see docs/BENCHMARKS.md.
  TrainOptions o;
  o.kind = kind;
  if (kind == RouterKind::kPrompt) {
    o.target = Target::kDifference;
    o.c = 1.0;
    o.features.structure_weight = 0.3;
  } else {
    o.target = Target::kBenefit;
    o.c = 0.2;
    o.features.answer_words_weight = 1.0;
  }
  return o;
}

RouterInput InputOf(const RoutingExample& example) {
  RouterInput in;
  in.prompt = example.prompt;
  if (example.subject) in.subject = *example.subject;
  if (example.weak_response) in.weak_response = *example.weak_response;
  in.weak_logprobs = example.weak_logprobs;
  return in;
}

core::Result<RouterModel> RouterModel::Train(const std::vector<RoutingExample>& examples,
                                             const TrainOptions& options) {
  if (examples.empty()) return core::InvalidArgument("no training rows");
  if (options.features.hash_bits < 10 || options.features.hash_bits > 24) {
    return core::InvalidArgument("hash_bits must be between 10 and 24");
  }
  std::vector<SparseVector> xs;
  xs.reserve(examples.size());
  for (const auto& ex : examples) {
    if (options.kind == RouterKind::kCascade && !ex.weak_response) {
      return core::InvalidArgument("row '" + ex.id +
                                   "' has no weak_response (a cascade model needs it)");
    }
    xs.push_back(ExtractFeatures(options.kind, options.features, InputOf(ex)));
  }
  std::vector<const SparseVector*> ptrs;
  ptrs.reserve(xs.size());
  for (const auto& x : xs) ptrs.push_back(&x);
  const uint32_t dims = 1U << options.features.hash_bits;

  RouterModel model;
  model.options_ = options;
  auto add_head = [&](internal::Loss loss, const std::vector<double>& y,
                      double sign) -> core::Status {
    const bool nb = options.nb_alpha > 0 && loss == internal::Loss::kLogistic;
    std::vector<float> ratio;
    std::vector<SparseVector> scaled;
    std::vector<const SparseVector*> scaled_ptrs;
    if (nb) {
      // Log-count ratios of |x| summed over the positive and the negative rows.
      std::vector<double> pos(dims, options.nb_alpha);
      std::vector<double> neg(dims, options.nb_alpha);
      for (size_t i = 0; i < xs.size(); ++i) {
        auto& sums = y[i] > 0.5 ? pos : neg;
        for (const auto& [index, value] : xs[i]) sums[index] += std::abs(value);
      }
      double pos_total = 0;
      double neg_total = 0;
      for (uint32_t f = 0; f < dims; ++f) {
        pos_total += pos[f];
        neg_total += neg[f];
      }
      ratio.resize(dims);
      for (uint32_t f = 0; f < dims; ++f) {
        ratio[f] = static_cast<float>(std::log(pos[f] / pos_total) - std::log(neg[f] / neg_total));
      }
      scaled.reserve(xs.size());
      scaled_ptrs.reserve(xs.size());
      for (const auto& x : xs) {
        SparseVector sx = x;
        for (auto& [index, value] : sx) value *= ratio[index];
        scaled.push_back(std::move(sx));
      }
      for (const auto& x : scaled) scaled_ptrs.push_back(&x);
    }
    auto fit = internal::TrainLinear(nb ? scaled_ptrs : ptrs, y, dims, loss, options.c);
    if (!fit.ok()) return fit.take_status();
    if (nb) {
      for (uint32_t f = 0; f < dims; ++f) fit->weights[f] *= ratio[f];
    }
    Head h;
    h.logistic = loss == internal::Loss::kLogistic;
    h.sign = sign;
    h.bias = fit->bias;
    h.weights = std::move(fit->weights);
    model.heads_.push_back(std::move(h));
    return {};
  };
  std::vector<double> y(examples.size());
  switch (options.target) {
    case Target::kBenefit:
      for (size_t i = 0; i < examples.size(); ++i) {
        y[i] = examples[i].strong_correct - examples[i].weak_correct;
      }
      if (auto s = add_head(internal::Loss::kSquared, y, 1); !s.ok()) return s;
      break;
    case Target::kDifference:
      for (size_t i = 0; i < examples.size(); ++i) y[i] = examples[i].strong_correct;
      if (auto s = add_head(internal::Loss::kLogistic, y, 1); !s.ok()) return s;
      for (size_t i = 0; i < examples.size(); ++i) y[i] = examples[i].weak_correct;
      if (auto s = add_head(internal::Loss::kLogistic, y, -1); !s.ok()) return s;
      break;
    case Target::kWeakWrong:
      for (size_t i = 0; i < examples.size(); ++i) y[i] = 1 - examples[i].weak_correct;
      if (auto s = add_head(internal::Loss::kLogistic, y, 1); !s.ok()) return s;
      break;
    case Target::kDiscordant:
      for (size_t i = 0; i < examples.size(); ++i) {
        y[i] = examples[i].strong_correct > examples[i].weak_correct ? 1 : 0;
      }
      if (auto s = add_head(internal::Loss::kLogistic, y, 1); !s.ok()) return s;
      for (size_t i = 0; i < examples.size(); ++i) {
        y[i] = examples[i].weak_correct > examples[i].strong_correct ? 1 : 0;
      }
      if (auto s = add_head(internal::Loss::kLogistic, y, -1); !s.ok()) return s;
      break;
    case Target::kRank: {
      // Pairwise ranking: each row meets kPartners rows drawn by a fixed-seed
      // generator; a pair whose benefits differ becomes the row x_a - x_b,
      // labelled 1 when a gains more from the strong model than b (the order
      // inside a pair is a coin flip, so both labels occur). The score is the
      // linear function itself.
      constexpr int kPartners = 4;
      std::mt19937_64 rng(0x5eedf00dULL);
      std::vector<SparseVector> diffs;
      std::vector<double> labels;
      auto benefit = [&](size_t i) {
        return examples[i].strong_correct - examples[i].weak_correct;
      };
      for (size_t i = 0; i < examples.size(); ++i) {
        for (int k = 0; k < kPartners; ++k) {
          size_t a = i;
          size_t b = static_cast<size_t>(rng() % examples.size());
          if (benefit(a) == benefit(b)) continue;
          if (rng() & 1) std::swap(a, b);
          SparseVector d;
          const SparseVector& xa = xs[a];
          const SparseVector& xb = xs[b];
          size_t p = 0, q = 0;
          while (p < xa.size() || q < xb.size()) {
            if (q == xb.size() || (p < xa.size() && xa[p].first < xb[q].first)) {
              d.push_back(xa[p++]);
            } else if (p == xa.size() || xb[q].first < xa[p].first) {
              d.emplace_back(xb[q].first, -xb[q].second);
              ++q;
            } else {
              const float v = xa[p].second - xb[q].second;
              if (v != 0) d.emplace_back(xa[p].first, v);
              ++p;
              ++q;
            }
          }
          diffs.push_back(std::move(d));
          labels.push_back(benefit(a) > benefit(b) ? 1 : 0);
        }
      }
      if (diffs.empty()) return core::InvalidArgument("no pair of rows with different outcomes");
      std::vector<const SparseVector*> pair_ptrs;
      pair_ptrs.reserve(diffs.size());
      for (const auto& d : diffs) pair_ptrs.push_back(&d);
      auto fit =
          internal::TrainLinear(pair_ptrs, labels, dims, internal::Loss::kLogistic, options.c);
      if (!fit.ok()) return fit.take_status();
      Head h;
      h.logistic = false;
      h.sign = 1;
      h.bias = 0;  // a constant does not change the ranking
      h.weights = std::move(fit->weights);
      model.heads_.push_back(std::move(h));
      break;
    }
  }
  return model;
}

double RouterModel::ScoreFeatures(const SparseVector& x) const {
  double score = 0;
  for (const Head& h : heads_) {
    double z = h.bias;
    for (const auto& [index, value] : x) z += static_cast<double>(h.weights[index]) * value;
    score += h.sign * (h.logistic ? Sigmoid(z) : z);
  }
  return score;
}

core::Result<double> RouterModel::Score(const RouterInput& input) const {
  if (options_.kind == RouterKind::kCascade && !input.weak_response) {
    return core::InvalidArgument("a cascade model needs the weak model's response");
  }
  return ScoreFeatures(ExtractFeatures(options_.kind, options_.features, input));
}

core::Result<std::vector<double>> RouterModel::ScoreAll(
    const std::vector<RoutingExample>& examples) const {
  std::vector<double> out;
  out.reserve(examples.size());
  for (const auto& ex : examples) {
    auto s = Score(InputOf(ex));
    if (!s.ok()) {
      return core::InvalidArgument("row '" + ex.id + "': " + s.status().message());
    }
    out.push_back(*s);
  }
  return out;
}

std::string RouterModel::Serialize() const {
  const FeatureOptions& f = options_.features;
  std::string out;
  char buf[256];
  const bool extra = f.option_weight != 0 || f.answer_extra_weight != 0 ||
                     f.option_words_weight != 0 || f.answer_tail_words_weight != 0;
  out += std::string(kMagic) + " " + std::to_string(extra ? kFormatVersion : 1) + "\n";
  out += "kind " + std::string(RouterKindName(options_.kind)) + "\n";
  out += "target " + std::string(TargetName(options_.target)) + "\n";
  out += "hash_bits " + std::to_string(f.hash_bits) + "\n";
  out += "word_ngrams " + std::to_string(f.word_ngrams) + " " +
         std::to_string(f.answer_word_ngrams) + "\n";
  out += "char_ngrams " + std::to_string(f.char_ngram_min) + " " +
         std::to_string(f.char_ngram_max) + "\n";
  std::snprintf(buf, sizeof buf, "weights %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g\n",
                f.word_weight, f.char_weight, f.subject_weight, f.structure_weight,
                f.subject_structure_weight, f.answer_weight, f.answer_words_weight,
                f.cascade_prompt_weight);
  out += buf;
  if (extra) {
    std::snprintf(buf, sizeof buf, "extra_weights %.17g %.17g %.17g %.17g\n", f.option_weight,
                  f.option_words_weight, f.answer_extra_weight, f.answer_tail_words_weight);
    out += buf;
  }
  out += "heads " + std::to_string(heads_.size()) + "\n";
  for (const Head& h : heads_) {
    size_t nnz = 0;
    for (float w : h.weights) nnz += w != 0 ? 1 : 0;
    std::snprintf(buf, sizeof buf, "head %s %s %.17g %zu\n", h.logistic ? "logistic" : "identity",
                  h.sign < 0 ? "-1" : "+1", h.bias, nnz);
    out += buf;
    for (size_t i = 0; i < h.weights.size(); ++i) {
      if (h.weights[i] == 0) continue;
      std::snprintf(buf, sizeof buf, "%zu %.9g\n", i, static_cast<double>(h.weights[i]));
      out += buf;
    }
  }
  out += "end\n";
  return out;
}

core::Status RouterModel::Save(const std::string& path) const {
  const std::string text = Serialize();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return core::InvalidArgument(path + ": cannot write file");
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return core::InvalidArgument(path + ": cannot write file");
  return {};
}

core::Result<RouterModel> RouterModel::Load(const std::string& path) {
  auto text = core::ReadTextFile(path);
  if (!text.ok()) return text.take_status();
  return Parse(*text, path);
}

core::Result<RouterModel> RouterModel::Parse(std::string_view text, std::string_view name) {
  const std::string prefix(name);
  Reader r(text, name);
  int version = 0;
  std::string_view line;
  if (!r.Next(&line)) return core::InvalidArgument(prefix + ": empty file");
  {
    auto parts = SplitSpaces(line);
    if (parts.size() != 2 || parts[0] != kMagic) {
      return core::InvalidArgument(prefix + ": not a switchyard router model (first line '" +
                                   std::string(line.substr(0, 40)) + "')");
    }
    if (!ParseNumber(parts[1], &version) || version < kOldestFormatVersion ||
        version > kFormatVersion) {
      return core::InvalidArgument(prefix + ": unsupported model version " + std::string(parts[1]) +
                                   " (this build reads versions " +
                                   std::to_string(kOldestFormatVersion) + " to " +
                                   std::to_string(kFormatVersion) + ")");
    }
  }
  RouterModel model;
  TrainOptions& o = model.options_;
  FeatureOptions& f = o.features;

  auto kind = r.Keyed("kind", 1);
  if (!kind.ok()) return kind.take_status();
  auto parsed_kind = ParseRouterKind((*kind)[0]);
  if (!parsed_kind.ok()) return r.BadValue((*kind)[0], "kind");
  o.kind = *parsed_kind;

  auto target = r.Keyed("target", 1);
  if (!target.ok()) return target.take_status();
  auto parsed_target = ParseTarget((*target)[0]);
  if (!parsed_target.ok()) return r.BadValue((*target)[0], "target");
  o.target = *parsed_target;

  auto bits = r.Keyed("hash_bits", 1);
  if (!bits.ok()) return bits.take_status();
  if (!ParseNumber((*bits)[0], &f.hash_bits) || f.hash_bits < 10 || f.hash_bits > 24) {
    return r.BadValue((*bits)[0], "hash_bits");
  }
  auto words = r.Keyed("word_ngrams", 2);
  if (!words.ok()) return words.take_status();
  if (!ParseNumber((*words)[0], &f.word_ngrams) || f.word_ngrams < 0 || f.word_ngrams > 5) {
    return r.BadValue((*words)[0], "word_ngrams");
  }
  if (!ParseNumber((*words)[1], &f.answer_word_ngrams) || f.answer_word_ngrams < 0 ||
      f.answer_word_ngrams > 5) {
    return r.BadValue((*words)[1], "word_ngrams");
  }
  auto chars = r.Keyed("char_ngrams", 2);
  if (!chars.ok()) return chars.take_status();
  if (!ParseNumber((*chars)[0], &f.char_ngram_min) || f.char_ngram_min < 0 ||
      f.char_ngram_min > 10) {
    return r.BadValue((*chars)[0], "char_ngrams");
  }
  if (!ParseNumber((*chars)[1], &f.char_ngram_max) || f.char_ngram_max < 0 ||
      f.char_ngram_max > 10) {
    return r.BadValue((*chars)[1], "char_ngrams");
  }
  auto weights = r.Keyed("weights", 8);
  if (!weights.ok()) return weights.take_status();
  double* dest[8] = {&f.word_weight,
                     &f.char_weight,
                     &f.subject_weight,
                     &f.structure_weight,
                     &f.subject_structure_weight,
                     &f.answer_weight,
                     &f.answer_words_weight,
                     &f.cascade_prompt_weight};
  for (int i = 0; i < 8; ++i) {
    if (!ParseNumber((*weights)[i], dest[i])) return r.BadValue((*weights)[i], "weights");
  }
  if (version >= 2) {
    auto extra = r.Keyed("extra_weights", 4);
    if (!extra.ok()) return extra.take_status();
    double* extra_dest[4] = {&f.option_weight, &f.option_words_weight, &f.answer_extra_weight,
                             &f.answer_tail_words_weight};
    for (int i = 0; i < 4; ++i) {
      if (!ParseNumber((*extra)[i], extra_dest[i])) {
        return r.BadValue((*extra)[i], "extra_weights");
      }
    }
  }
  auto heads = r.Keyed("heads", 1);
  if (!heads.ok()) return heads.take_status();
  int head_count = 0;
  if (!ParseNumber((*heads)[0], &head_count) || head_count < 1 || head_count > 4) {
    return r.BadValue((*heads)[0], "heads");
  }
  const size_t dims = size_t{1} << f.hash_bits;
  for (int h = 0; h < head_count; ++h) {
    auto head = r.Keyed("head", 4);
    if (!head.ok()) return head.take_status();
    Head hd;
    const auto& p = *head;
    if (p[0] != "identity" && p[0] != "logistic") return r.BadValue(p[0], "head");
    hd.logistic = p[0] == "logistic";
    if (p[1] != "+1" && p[1] != "-1") return r.BadValue(p[1], "head");
    hd.sign = p[1] == "-1" ? -1 : 1;
    if (!ParseNumber(p[2], &hd.bias)) return r.BadValue(p[2], "head");
    size_t nnz = 0;
    if (!ParseNumber(p[3], &nnz) || nnz > dims) return r.BadValue(p[3], "head");
    hd.weights.assign(dims, 0.0f);
    for (size_t k = 0; k < nnz; ++k) {
      if (!r.Next(&line)) return r.Truncated();
      const auto parts = SplitSpaces(line);
      size_t index = 0;
      float w = 0;
      if (parts.size() != 2 || !ParseNumber(parts[0], &index) || !ParseNumber(parts[1], &w)) {
        return r.Error("bad weight line '" + std::string(line.substr(0, 40)) + "'");
      }
      if (index >= dims) {
        return r.Error("weight index " + std::to_string(index) + " out of range (hash_bits " +
                       std::to_string(f.hash_bits) + ")");
      }
      hd.weights[index] = w;
    }
    model.heads_.push_back(std::move(hd));
  }
  if (!r.Next(&line)) return r.Truncated();
  if (line != "end") {
    return r.Error("expected 'end', found '" + std::string(line.substr(0, 40)) + "'");
  }
  return model;
}

}  // namespace switchyard::routing
