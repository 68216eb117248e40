#include "learn/student.h"

#include <fasttext/fasttext.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <istream>
#include <random>
#include <streambuf>

#include "learn/text.h"

namespace switchyard::learn {

namespace {

constexpr std::string_view kLabelPrefix = "__label__";

// A read-only stream buffer over a character range, so fastText's
// Dictionary::getLine can read a line without copying it into a stringstream.
class ViewStreamBuf : public std::streambuf {
 public:
  ViewStreamBuf(const char* data, size_t size) {
    char* p = const_cast<char*>(data);  // never written: no put area, no putback of new chars
    setg(p, p, p + size);
  }

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override {
    char* target = dir == std::ios_base::beg   ? eback() + off
                   : dir == std::ios_base::cur ? gptr() + off
                                               : egptr() + off;
    if (target < eback() || target > egptr()) return pos_type(off_type(-1));
    setg(eback(), target, egptr());
    return pos_type(target - eback());
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    return seekoff(off_type(pos), std::ios_base::beg, which);
  }
};

// A fresh directory under the system temp dir, removed with its content.
class TempDir {
 public:
  static core::Result<TempDir> Make() {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string tmpl = (base / "sy_student_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      return core::Internal("cannot create a temporary directory in " + base.string());
    }
    return TempDir(tmpl);
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

bool ValidLabel(std::string_view label) {
  if (label.empty()) return false;
  return std::none_of(label.begin(), label.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

}  // namespace

// The loaded or trained fastText model and what Decide needs from it.
struct Student::Model {
  fasttext::FastText fasttext;
  std::shared_ptr<const fasttext::Dictionary> dict;
  std::shared_ptr<const fasttext::DenseMatrix> input;
  std::shared_ptr<const fasttext::DenseMatrix> output;
  std::vector<std::string> labels;
  ScoreKind kind = ScoreKind::kSoftmax;
  int64_t dim = 0;

  // Fills the derived fields after fastText loaded or trained. Errors as text.
  std::string Prepare() {
    const fasttext::Args args = fasttext.getArgs();
    if (args.model != fasttext::model_name::sup) return "not a supervised (classifier) model";
    if (args.loss == fasttext::loss_name::softmax) {
      kind = ScoreKind::kSoftmax;
    } else if (args.loss == fasttext::loss_name::ova) {
      kind = ScoreKind::kSigmoid;
    } else {
      return "loss '" + args.lossToString(args.loss) + "' is not supported (softmax or ova)";
    }
    if (fasttext.isQuant()) return "quantized models are not supported";
    dict = fasttext.getDictionary();
    input = fasttext.getInputMatrix();
    output = fasttext.getOutputMatrix();
    dim = input->cols();
    if (dict->nlabels() <= 0 || output->rows() != dict->nlabels() || output->cols() != dim) {
      return "the model has no labels";
    }
    labels.clear();
    for (int32_t i = 0; i < dict->nlabels(); ++i) {
      std::string l = dict->getLabel(i);
      if (l.compare(0, kLabelPrefix.size(), kLabelPrefix) == 0) l.erase(0, kLabelPrefix.size());
      labels.push_back(std::move(l));
    }
    return "";
  }
};

core::Status ValidateModelOptions(const ModelOptions& o) {
  const auto bad = [](const std::string& what) {
    return core::InvalidArgument("student options: " + what);
  };
  if (o.dim < 1 || o.dim > 1000) return bad("dim must be in [1, 1000]");
  if (o.epoch < 0 || o.epoch > 1000) return bad("epoch must be in [0, 1000] (0 = auto)");
  if (!(o.lr > 0 && o.lr <= 10)) return bad("lr must be in (0, 10]");
  if (o.word_ngrams < 1 || o.word_ngrams > 5) return bad("word_ngrams must be in [1, 5]");
  if (o.minn < 0 || o.maxn < 0 || o.maxn > 10 || (o.maxn > 0 && (o.minn < 1 || o.minn > o.maxn))) {
    return bad("character n-grams need 1 <= minn <= maxn <= 10 (or minn = maxn = 0 for none)");
  }
  if (o.bucket < 0 || o.bucket > 10'000'000) return bad("bucket must be in [0, 10000000]");
  if ((o.word_ngrams > 1 || o.maxn > 0) && o.bucket == 0) {
    return bad("bucket must be positive with word or character n-grams");
  }
  if (o.min_count < 1) return bad("min_count must be at least 1");
  return core::Status::Ok();
}

int EffectiveEpochs(const ModelOptions& options, size_t examples) {
  if (options.epoch > 0) return options.epoch;
  const size_t n = std::max<size_t>(examples, 1);
  return static_cast<int>(std::clamp<size_t>(25000 / n, 5, 25));
}

core::Result<Student> Student::Train(const std::vector<Example>& examples,
                                     const ModelOptions& options, const std::atomic<bool>* cancel) {
  if (auto s = ValidateModelOptions(options); !s.ok()) return s;
  if (examples.empty()) return core::InvalidArgument("no training examples");
  for (const auto& e : examples) {
    if (!ValidLabel(e.label)) {
      return core::InvalidArgument("label '" + e.label + "' is empty or contains whitespace");
    }
  }
  auto dir = TempDir::Make();
  if (!dir.ok()) return dir.take_status();
  const std::string input_path = dir->path() + "/train.txt";
  {
    std::ofstream out(input_path, std::ios::binary);
    std::string norm;
    for (const auto& e : examples) {
      NormalizeTextInto(e.text, &norm);
      out << kLabelPrefix << e.label << ' ' << norm << '\n';
    }
    out.flush();
    if (!out) return core::Internal("cannot write training file " + input_path);
  }

  fasttext::Args args;
  args.input = input_path;
  args.output = dir->path() + "/model";
  args.model = fasttext::model_name::sup;
  args.loss =
      options.loss == LossKind::kSoftmax ? fasttext::loss_name::softmax : fasttext::loss_name::ova;
  args.dim = options.dim;
  args.epoch = EffectiveEpochs(options, examples.size());
  args.lr = options.lr;
  args.wordNgrams = options.word_ngrams;
  args.minn = options.minn;
  args.maxn = options.maxn;
  args.bucket = options.word_ngrams > 1 || options.maxn > 0 ? options.bucket : 0;
  args.minCount = options.min_count;
  args.minCountLabel = 0;
  args.thread = 1;
  args.verbose = 0;
  args.seed = options.seed;
  args.saveOutput = false;
  args.label = std::string(kLabelPrefix);

  auto model = std::make_shared<Model>();
  try {
    fasttext::FastText::TrainCallback callback;
    if (cancel != nullptr) {
      callback = [&model, cancel](float, float, double, double, int64_t) {
        if (cancel->load(std::memory_order_relaxed)) model->fasttext.abort();
      };
    }
    model->fasttext.train(args, callback);
  } catch (const fasttext::FastText::AbortError&) {
    return core::Cancelled("training cancelled");
  } catch (const std::exception& e) {
    return core::Internal(std::string("fastText: ") + e.what());
  }
  if (cancel != nullptr && cancel->load()) return core::Cancelled("training cancelled");
  // A freshly trained fastText model keeps its training dictionary's 120 MB
  // hash table (30M slots); saving and loading it back keeps only what the
  // vocabulary needs (a headlines model: 11 MB instead of 130 MB).
  auto compact = std::make_shared<Model>();
  try {
    const std::string model_path = dir->path() + "/model.bin";
    model->fasttext.saveModel(model_path);
    model.reset();
    compact->fasttext.loadModel(model_path);
    if (std::string err = compact->Prepare(); !err.empty()) {
      return core::Internal("fastText: " + err);
    }
  } catch (const std::exception& e) {
    return core::Internal(std::string("fastText: ") + e.what());
  }
  return Student(std::move(compact));
}

core::Result<Student> Student::Load(const std::string& path) {
  auto model = std::make_shared<Model>();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return core::FailedPrecondition("student model " + path + ": no such file");
  }
  try {
    model->fasttext.loadModel(path);
    if (std::string err = model->Prepare(); !err.empty()) {
      return core::FailedPrecondition("student model " + path + ": " + err);
    }
  } catch (const std::exception& e) {
    return core::FailedPrecondition("student model " + path + ": " + e.what());
  }
  return Student(std::move(model));
}

core::Status Student::Save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  try {
    // saveModel is logically const but not declared so; the model is not
    // modified by it.
    const_cast<fasttext::FastText&>(model_->fasttext).saveModel(tmp);
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    return core::Internal("cannot save student model " + path + ": " + e.what());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return core::Internal("cannot save student model " + path + ": " + ec.message());
  }
  return core::Status::Ok();
}

const std::vector<std::string>& Student::labels() const {
  return model_->labels;
}

int Student::LabelIndex(std::string_view label) const {
  const auto& labels = model_->labels;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == label) return static_cast<int>(i);
  }
  return -1;
}

ScoreKind Student::score_kind() const {
  return model_->kind;
}

ModelOptions Student::trained_options() const {
  const fasttext::Args args = model_->fasttext.getArgs();
  ModelOptions o;
  o.dim = args.dim;
  o.epoch = args.epoch;
  o.word_ngrams = args.wordNgrams;
  o.minn = args.minn;
  o.maxn = args.maxn;
  o.bucket = args.bucket;
  o.min_count = args.minCount;
  o.loss = args.loss == fasttext::loss_name::ova ? LossKind::kOneVsAll : LossKind::kSoftmax;
  return o;
}

std::string Student::ModelName() const {
  return "student/" + task_ + "@v" + std::to_string(version_);
}

bool Student::Scores(std::string_view text, std::vector<double>* scores) const {
  struct Scratch {
    std::string line;
    std::vector<int32_t> words;
    std::vector<int32_t> labels;
    std::vector<float> hidden;
  };
  thread_local Scratch scratch;

  const Model& m = *model_;
  const size_t nlabels = m.labels.size();
  scores->assign(nlabels, 0.0);

  NormalizeTextInto(text, &scratch.line);
  if (scratch.line.empty()) return false;
  // fastText reads a training line up to and including its end-of-sentence
  // token; the newline makes prediction see the same features.
  scratch.line.push_back('\n');
  ViewStreamBuf buf(scratch.line.data(), scratch.line.size());
  std::istream in(&buf);
  m.dict->getLine(in, scratch.words, scratch.labels);
  if (scratch.words.empty()) return false;

  const int64_t dim = m.dim;
  scratch.hidden.assign(static_cast<size_t>(dim), 0.0f);
  const float* input = m.input->data();
  float* hidden = scratch.hidden.data();
  for (int32_t id : scratch.words) {
    const float* row = input + static_cast<int64_t>(id) * dim;
    for (int64_t j = 0; j < dim; ++j) hidden[j] += row[j];
  }
  const float inv = 1.0f / static_cast<float>(scratch.words.size());
  for (int64_t j = 0; j < dim; ++j) hidden[j] *= inv;
  const float* output = m.output->data();
  for (size_t i = 0; i < nlabels; ++i) {
    const float* row = output + static_cast<int64_t>(i) * dim;
    float dot = 0;
    for (int64_t j = 0; j < dim; ++j) dot += row[j] * hidden[j];
    (*scores)[i] = dot;
  }
  return true;
}

Prediction Student::Predict(std::string_view text) const {
  thread_local std::vector<double> scores;
  Prediction p;
  if (!Scores(text, &scores)) return p;
  p.label_index = ArgMax(scores);
  p.label = model_->labels[p.label_index];
  p.raw_confidence = Calibration::RawConfidence(scores, p.label_index, model_->kind);
  p.confidence = calibration_.Confidence(scores, p.label_index, model_->kind);
  return p;
}

Decision Student::Decide(std::string_view text) const {
  const Prediction p = Predict(text);
  Decision d;
  d.label = p.label;
  d.confidence = p.confidence;
  d.accept = serving_ && threshold_.has_value() && !p.label.empty() && p.confidence >= *threshold_;
  return d;
}

}  // namespace switchyard::learn
