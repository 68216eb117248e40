// JsonWriter: appends compact JSON to a std::string.
//
// simdjson (our parser) does not serialise, and the gateway writes only small,
// fixed-shape objects (responses, chunks, error objects), so a ~100-line writer
// that appends straight into one buffer beats a DOM library on the hot path.
// The caller is responsible for a well-formed sequence (Key before each object
// value); commas are inserted automatically.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::core {

// Appends `s` as a JSON string literal (with quotes) to `out`. Invalid UTF-8 is
// passed through byte for byte; control characters are escaped.
void AppendJsonString(std::string& out, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view k);
  JsonWriter& String(std::string_view v);
  JsonWriter& Int(int64_t v);
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // Inserts already-serialised JSON verbatim (e.g. a passed-through field).
  JsonWriter& Raw(std::string_view json);

  // Shorthands for a key followed by a value.
  JsonWriter& Field(std::string_view k, std::string_view v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const char* v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, int64_t v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, int v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, double v) { return Key(k).Double(v); }
  JsonWriter& Field(std::string_view k, bool v) { return Key(k).Bool(v); }

 private:
  void Separate();
  void Open();
  void Close();

  std::string& out_;
  // One flag per open container, true once it holds an element: bit d of
  // `shallow_` for level d < 64 (no allocation for the shapes the gateway
  // writes, one writer per request), `deep_` for the levels past 64.
  static constexpr size_t kShallow = 64;
  uint64_t shallow_ = 0;
  size_t depth_ = 0;
  std::vector<bool> deep_;
  bool after_key_ = false;
};

}  // namespace switchyard::core
