// Student: a small in-process text classifier (fastText supervised) that
// imitates the teacher's labels, plus the calibration and acceptance threshold
// that decide when it may answer on its own.
//
// Inputs are normalised with learn/text.h before training and prediction.
// Features: word unigrams and bigrams (wordNgrams 2) and, when minn/maxn > 0,
// character n-grams of each word, hashed into `bucket` rows.
// Training is deterministic for the same examples and options (one thread,
// fixed seed). fastText 0.9.2 trains from a file: Train() writes the examples
// to a file in a fresh temporary directory and removes it afterwards.
//
// Decide() computes the logits itself from fastText's dictionary and matrices
// (the average of the input rows of the line's features times the output
// matrix), which gives the true logits that temperature scaling needs (fastText's
// own predict returns log(p + 1e-5), which saturates) and reuses per-thread
// scratch buffers, so a decision costs a few microseconds for a headline
// (bench/learn_bench.cc on the 2,507 dev headlines: p50 1.8 us, p99 5 us).
//
// Ownership and sharing: a Student is a small value; copies share the immutable
// fastText model (shared_ptr). Configure calibration, threshold, identity and
// serving on a copy you own, then publish it as std::shared_ptr<const Student>
// (see learn/registry.h StudentSet). The label string_view in a Decision points
// into that shared model and stays valid while any copy of the Student lives.
// Thread-safety: all const methods may be called concurrently from any thread.
// Errors: Train returns InvalidArgument for bad options or examples (messages
// below), Cancelled when `cancel` was set, Internal for a fastText failure;
// Load returns FailedPrecondition "student model <path>: <cause>"; Save returns
// Internal "cannot save student model <path>: <cause>". fastText exceptions
// never escape.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "learn/calibration.h"

namespace switchyard::learn {

// One labelled input: the text the student reads and the teacher's label.
struct Example {
  std::string text;
  std::string label;
};

enum class LossKind { kSoftmax, kOneVsAll };

// fastText hyper-parameters. Defaults tuned on the headlines task (5,000
// labelled gold-market headlines, scored on the 2,507 of dev.csv; see
// bench/learn_bench.cc):
//  - word bigrams matter (unigrams alone: 0.86 agreement, bigrams 0.89);
//  - character n-grams (minn 2..maxn 5) cost about a point of agreement there
//    (short English headlines with a closed vocabulary) and triple the
//    training time, so they are off by default; enable them (e.g. minn 2,
//    maxn 5) for inputs with typos, rich morphology or unseen word forms;
//  - dim 16..50, lr 0.5..1 and bucket 1e5..1e6 made no measurable difference;
//  - epochs: few examples need many passes (300 labels: 25 epochs 0.73
//    agreement, 5 epochs 0.41) while 5,000 labels do as well with 5 as with
//    25 at a fifth of the cost, hence the automatic default.
struct ModelOptions {
  int dim = 25;         // embedding size
  int epoch = 0;        // passes over the examples; 0 = auto: clamp(25000 / n, 5, 25)
  double lr = 0.5;      // initial learning rate (decays linearly to 0)
  int word_ngrams = 2;  // 1 = unigrams, 2 = + bigrams
  int minn = 0;         // shortest character n-gram (0 = none)
  int maxn = 0;         // longest character n-gram (0 = none)
  int bucket = 100000;  // hash buckets for word and character n-grams
  int min_count = 1;    // words seen fewer times are dropped
  LossKind loss = LossKind::kSoftmax;
  int seed = 1;  // fastText's random seed
};

// The epochs Train uses for `examples` examples (resolves epoch = 0).
int EffectiveEpochs(const ModelOptions& options, size_t examples);

// InvalidArgument "student options: <field> must be ..." when out of range.
core::Status ValidateModelOptions(const ModelOptions& options);

// Top label and its confidences.
struct Prediction {
  size_t label_index = 0;
  std::string_view label;     // "" when the normalised input is empty
  double raw_confidence = 0;  // the model's own probability
  double confidence = 0;      // calibrated
};

// What the gateway needs to answer or escalate.
struct Decision {
  std::string_view label;
  double confidence = 0;  // calibrated confidence of `label`
  bool accept = false;    // serving, a threshold exists and confidence >= threshold
};

class Student {
 public:
  // Trains on `examples` (each text normalised; labels must be non-empty and
  // free of whitespace). Errors: InvalidArgument "no training examples",
  // "label '<l>' is empty or contains whitespace", options errors;
  // Cancelled "training cancelled"; Internal "fastText: <what>".
  // `cancel` (optional) is polled while training.
  static core::Result<Student> Train(const std::vector<Example>& examples,
                                     const ModelOptions& options,
                                     const std::atomic<bool>* cancel = nullptr);
  // Loads a model written by Save (or by the fastText tool).
  static core::Result<Student> Load(const std::string& path);
  // Writes the fastText model to `path` (via a temporary file and rename).
  // Calibration, threshold and identity are not in the file: the registry
  // stores them.
  core::Status Save(const std::string& path) const;

  // The labels the model knows, in its own order (most frequent first).
  const std::vector<std::string>& labels() const;
  // Index of `label` in labels(), or -1.
  int LabelIndex(std::string_view label) const;
  ScoreKind score_kind() const;
  // The fastText settings the model was trained with, as read from the model:
  // dim, epoch (the passes actually run), word_ngrams, minn, maxn, bucket,
  // min_count and loss. The model file keeps no lr or seed: those fields hold
  // the ModelOptions defaults.
  ModelOptions trained_options() const;

  // Raw scores (logits), one per label, for `text` (normalised here).
  // Returns false, leaving *scores zero-filled, when the normalised text is
  // empty (such an input gets no label and is never accepted).
  bool Scores(std::string_view text, std::vector<double>* scores) const;
  Prediction Predict(std::string_view text) const;
  Decision Decide(std::string_view text) const;

  // Configuration (set before publishing).
  const Calibration& calibration() const { return calibration_; }
  void set_calibration(Calibration c) { calibration_ = std::move(c); }
  const std::optional<double>& threshold() const { return threshold_; }
  void set_threshold(std::optional<double> t) { threshold_ = t; }
  // Whether Decide may accept (the promoted version serves; shadow and
  // demoted ones only predict).
  bool serving() const { return serving_; }
  void set_serving(bool s) { serving_ = s; }
  const std::string& task() const { return task_; }
  int64_t version() const { return version_; }
  void set_identity(std::string task, int64_t version) {
    task_ = std::move(task);
    version_ = version;
  }
  // "student/<task>@v<version>" (the `model` of a student answer).
  std::string ModelName() const;

  struct Model;  // fastText state; defined in student.cc

 private:
  explicit Student(std::shared_ptr<const Model> model) : model_(std::move(model)) {}

  std::shared_ptr<const Model> model_;
  Calibration calibration_;
  std::optional<double> threshold_;
  bool serving_ = false;
  std::string task_;
  int64_t version_ = 0;
};

}  // namespace switchyard::learn
