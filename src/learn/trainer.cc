#include "learn/trainer.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_map>

#include "core/json_writer.h"
#include "core/thread_name.h"
#include "learn/text.h"

namespace switchyard::learn {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a of the text, mixed with the seed: stable across runs and platforms.
uint64_t SeededHash(std::string_view text, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return SplitMix64(h ^ SplitMix64(seed));
}

std::string_view FinalModelName(FinalModel m) {
  switch (m) {
    case FinalModel::kHoldoutModel:
      return "holdout";
    case FinalModel::kRetrainOnAll:
      return "retrain_all";
    case FinalModel::kCrossFit:
      return "cross_fit";
  }
  return "holdout";
}

}  // namespace

core::Status ValidateTrainOptions(const TrainOptions& o) {
  if (auto s = ValidateModelOptions(o.model); !s.ok()) return s;
  if (!(o.holdout_fraction > 0 && o.holdout_fraction <= 0.9)) {
    return core::InvalidArgument("train options: holdout_fraction must be in (0, 0.9]");
  }
  if (!(o.target_agreement > 0 && o.target_agreement < 1)) {
    return core::InvalidArgument("train options: target_agreement must be in (0, 1)");
  }
  if (o.min_examples < 2) {
    return core::InvalidArgument("train options: min_examples must be at least 2");
  }
  if (o.final_model == FinalModel::kCrossFit && (o.folds < 2 || o.folds > 20)) {
    return core::InvalidArgument("train options: folds must be in [2, 20]");
  }
  return core::Status::Ok();
}

DedupResult Deduplicate(const std::vector<Example>& examples,
                        const std::vector<std::string>& labels) {
  DedupResult result;
  struct Group {
    size_t slot = 0;  // index in result.examples
    std::unordered_map<std::string, size_t> votes;
    std::unordered_map<std::string, size_t> last_seen;  // label -> position
  };
  std::unordered_map<std::string, Group> groups;
  std::string norm;
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& e = examples[i];
    if (!labels.empty() && std::find(labels.begin(), labels.end(), e.label) == labels.end()) {
      ++result.unknown_labels;
      continue;
    }
    NormalizeTextInto(e.text, &norm);
    if (norm.empty()) {
      ++result.empty_inputs;
      continue;
    }
    auto [it, inserted] = groups.try_emplace(norm);
    Group& g = it->second;
    if (inserted) {
      g.slot = result.examples.size();
      result.examples.push_back(e);
    } else {
      ++result.duplicates;
      result.examples[g.slot].text = e.text;
    }
    ++g.votes[e.label];
    g.last_seen[e.label] = i;
  }
  for (auto& [norm_text, g] : groups) {
    std::string best;
    size_t best_votes = 0;
    size_t best_seen = 0;
    for (const auto& [label, votes] : g.votes) {
      const size_t seen = g.last_seen[label];
      if (votes > best_votes || (votes == best_votes && seen > best_seen)) {
        best = label;
        best_votes = votes;
        best_seen = seen;
      }
    }
    result.examples[g.slot].label = best;
  }
  return result;
}

std::string HoldoutMetrics::ToJson() const {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject()
      .Field("examples", static_cast<int64_t>(examples))
      .Field("distinct", static_cast<int64_t>(distinct))
      .Field("duplicates", static_cast<int64_t>(duplicates))
      .Field("unknown_labels", static_cast<int64_t>(unknown_labels))
      .Field("empty_inputs", static_cast<int64_t>(empty_inputs))
      .Field("train_examples", static_cast<int64_t>(train_examples))
      .Field("holdout_examples", static_cast<int64_t>(holdout_examples))
      .Field("agreement", agreement)
      .Field("coverage", coverage)
      .Field("accepted_agreement", accepted_agreement)
      .Field("lower_bound", lower_bound)
      .Field("best_lower_bound", best_lower_bound)
      .Field("ece_raw", ece_raw)
      .Field("ece", ece)
      .Field("train_seconds", train_seconds)
      .Field("final_model", FinalModelName(final_model))
      .Key("confusion");
  confusion.WriteJson(w);
  w.EndObject();
  return out;
}

core::Result<TrainedStudent> TrainStudent(const std::string& task,
                                          const std::vector<std::string>& labels,
                                          const std::vector<Example>& examples,
                                          const TrainOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (auto s = ValidateTrainOptions(options); !s.ok()) return s;

  DedupResult dedup = Deduplicate(examples, labels);
  const size_t n = dedup.examples.size();
  if (n < options.min_examples) {
    return core::FailedPrecondition("task '" + task + "': " + std::to_string(n) +
                                    " usable labelled examples, need at least " +
                                    std::to_string(options.min_examples));
  }

  // Order by a seeded hash of the normalised text: the hold-out is a prefix
  // (kHoldoutModel, kRetrainOnAll), folds are taken round-robin (kCrossFit).
  std::vector<std::pair<uint64_t, size_t>> by_hash;
  by_hash.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    by_hash.emplace_back(SeededHash(NormalizeText(dedup.examples[i].text), options.seed), i);
  }
  std::sort(by_hash.begin(), by_hash.end());
  // Training order: by another hash, so it is deterministic but not grouped.
  const auto shuffled = [&](std::vector<Example> v) {
    std::vector<std::pair<uint64_t, size_t>> keys;
    keys.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      keys.emplace_back(SeededHash(v[i].text, options.seed + 0x5eed), i);
    }
    std::sort(keys.begin(), keys.end());
    std::vector<Example> out;
    out.reserve(v.size());
    for (const auto& [h, i] : keys) out.push_back(std::move(v[i]));
    return out;
  };

  // Each split: train on its complement, score its examples.
  const bool cross_fit = options.final_model == FinalModel::kCrossFit;
  const size_t splits = cross_fit ? std::min<size_t>(options.folds, n) : 1;
  const auto holdout_n = std::clamp<size_t>(
      static_cast<size_t>(std::llround(options.holdout_fraction * static_cast<double>(n))), 1,
      n - 1);
  std::vector<Example> held;  // every scored example, in scoring order
  std::vector<ScoredExample> scored;
  std::vector<std::string> predicted;  // top label of each scored example
  std::optional<Student> student;
  size_t train_examples = 0;
  for (size_t f = 0; f < splits; ++f) {
    std::vector<Example> train;
    std::vector<Example> test;
    for (size_t k = 0; k < n; ++k) {
      const bool in_test = cross_fit ? k % splits == f : k < holdout_n;
      (in_test ? test : train).push_back(dedup.examples[by_hash[k].second]);
    }
    train_examples = train.size();
    auto model = Student::Train(shuffled(std::move(train)), options.model, options.cancel);
    if (!model.ok()) return model.take_status();
    for (auto& e : test) {
      ScoredExample s;
      model->Scores(e.text, &s.scores);
      s.label = model->LabelIndex(e.label);
      scored.push_back(std::move(s));
      held.push_back(std::move(e));
    }
    for (size_t i = predicted.size(); i < scored.size(); ++i) {
      predicted.push_back(model->labels()[ArgMax(scored[i].scores)]);
    }
    student = std::move(*model);  // the hold-out model (kHoldoutModel)
  }
  const ScoreKind kind = student->score_kind();
  auto calibration = FitCalibration(options.calibration, scored, kind);
  if (!calibration.ok()) return calibration.take_status();

  HoldoutMetrics m;
  m.examples = examples.size();
  m.distinct = n;
  m.duplicates = dedup.duplicates;
  m.unknown_labels = dedup.unknown_labels;
  m.empty_inputs = dedup.empty_inputs;
  m.train_examples = train_examples;
  m.holdout_examples = held.size();
  m.final_model = options.final_model;
  m.confusion = ConfusionMatrix(labels);
  std::vector<double> raw(scored.size());
  std::vector<double> conf(scored.size());
  std::vector<bool> agree(scored.size());
  size_t agreed = 0;
  for (size_t i = 0; i < scored.size(); ++i) {
    const size_t top = ArgMax(scored[i].scores);
    raw[i] = Calibration::RawConfidence(scored[i].scores, top, kind);
    conf[i] = calibration->Confidence(scored[i].scores, top, kind);
    agree[i] = static_cast<int>(top) == scored[i].label;
    agreed += agree[i] ? 1 : 0;
    m.confusion.Add(held[i].label, predicted[i]);
  }
  m.agreement = static_cast<double>(agreed) / static_cast<double>(scored.size());
  m.ece_raw = ExpectedCalibrationError(raw, agree);
  m.ece = ExpectedCalibrationError(conf, agree);
  ThresholdOptions topts;
  topts.target_agreement = options.target_agreement;
  topts.bound = options.bound;
  const ThresholdChoice choice = ChooseThreshold(conf, agree, topts);
  m.coverage = choice.coverage;
  m.accepted_agreement = choice.agreement;
  m.lower_bound = choice.lower_bound;
  m.best_lower_bound = choice.best_lower_bound;

  if (options.final_model != FinalModel::kHoldoutModel) {
    std::vector<Example> all;
    all.reserve(n);
    for (const auto& [h, i] : by_hash) all.push_back(dedup.examples[i]);
    auto full = Student::Train(shuffled(std::move(all)), options.model, options.cancel);
    if (!full.ok()) return full.take_status();
    student = std::move(*full);
  }
  student->set_calibration(*calibration);
  student->set_threshold(choice.threshold);
  student->set_identity(task, 0);
  student->set_serving(false);
  m.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  TrainOptions kept = options;
  kept.cancel = nullptr;  // the flag belongs to the caller
  return TrainedStudent{task, labels, std::move(*student), choice, std::move(m), kept};
}

// --- Trainer ---------------------------------------------------------------

Trainer::Trainer(Callback on_done) : on_done_(std::move(on_done)) {
  thread_ = std::thread([this] {
    core::NameThisThread("sy-trainer");
    Run();
  });
}

Trainer::~Trainer() {
  Shutdown();
}

bool Trainer::Submit(TrainJob job) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  ++stats_.submitted;
  auto it = waiting_.find(job.task);
  if (it != waiting_.end()) {
    it->second = std::move(job);
    ++stats_.coalesced;
  } else {
    order_.push_back(job.task);
    std::string task = job.task;
    waiting_.emplace(std::move(task), std::move(job));
  }
  wake_.notify_one();
  return true;
}

void Trainer::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      waiting_.clear();
      order_.clear();
      cancel_.store(true);
    }
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  idle_.notify_all();
}

bool Trainer::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [this] { return order_.empty() && !running_job_; });
}

Trainer::Stats Trainer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Trainer::Run() {
  while (true) {
    TrainJob job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !order_.empty(); });
      if (stopping_) break;
      const std::string task = order_.front();
      order_.pop_front();
      auto it = waiting_.find(task);
      job = std::move(it->second);
      waiting_.erase(it);
      running_job_ = true;
    }
    core::Result<TrainedStudent> result = core::Internal("training did not run");
    try {
      std::vector<Example> loaded;
      core::Status load_status;
      if (job.load_examples) {
        auto r = job.load_examples();
        if (r.ok()) {
          loaded = std::move(*r);
        } else {
          load_status = r.take_status();
        }
      }
      if (!load_status.ok()) {
        result = std::move(load_status);
      } else {
        TrainOptions options = job.options;
        options.cancel = &cancel_;
        result =
            TrainStudent(job.task, job.labels, job.load_examples ? loaded : job.examples, options);
      }
    } catch (const std::exception& e) {
      result = core::Internal(std::string("training failed: ") + e.what());
    }
    {
      std::lock_guard lock(mu_);
      if (result.ok()) {
        ++stats_.completed;
      } else {
        ++stats_.failed;
      }
    }
    try {
      if (on_done_) on_done_(job.task, std::move(result));
    } catch (...) {  // NOLINT(bugprone-empty-catch): a throwing callback must not kill the thread
    }
    {
      std::lock_guard lock(mu_);
      running_job_ = false;
    }
    idle_.notify_all();
  }
  std::lock_guard lock(mu_);
  running_job_ = false;
}

}  // namespace switchyard::learn
