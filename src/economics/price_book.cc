#include "economics/price_book.h"

#include <algorithm>
#include <array>
#include <utility>

#include <simdjson.h>

#include "core/joined_key.h"
#include "economics/embedded_prices.h"

namespace switchyard::economics {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr std::string_view kPrefix = "price book: ";

// Concatenates by appending (GCC 12 warns falsely, -Wrestrict, on some
// `"literal" + std::string` chains at -O3).
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

template <typename... Parts>
core::Status Bad(std::string_view where, const Parts&... parts) {
  return core::InvalidArgument(Cat(kPrefix, where, ": ", parts...));
}

bool IsNumber(const element& e) {
  auto t = e.type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

// Reads an optional price: missing or null -> `absent`; else a number >= 0.
core::Status ReadPrice(const object& obj, std::string_view key, std::string_view where,
                       double absent, double& out) {
  element e;
  if (obj[key].get(e) != simdjson::SUCCESS || e.is_null()) {
    out = absent;
    return core::Status::Ok();
  }
  double v = 0;
  if (!IsNumber(e) || e.get_double().get(v) != simdjson::SUCCESS || !(v >= 0)) {
    return Bad(where, "\"", key, "\" must be a non-negative number or null");
  }
  out = v;
  return core::Status::Ok();
}

core::Status ReadString(const object& obj, std::string_view key, std::string_view where,
                        bool required, std::string& out) {
  element e;
  if (obj[key].get(e) != simdjson::SUCCESS) {
    if (!required) return core::Status::Ok();
    return Bad(where, "missing \"", key, "\"");
  }
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS || (required && s.empty())) {
    return Bad(where, "\"", key, "\" must be a ", required ? "non-empty string" : "string");
  }
  out = std::string(s);
  return core::Status::Ok();
}

core::Status ParseRule(const element& e, std::string_view where, bool allow_and,
                       internal::MatchAlternative& alt) {
  object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS || obj.size() != 1) {
    return Bad(where, "a match rule must be an object with one key");
  }
  auto field = *obj.begin();
  if (field.key == "and") {
    simdjson::dom::array parts;
    if (!allow_and || field.value.get_array().get(parts) != simdjson::SUCCESS ||
        parts.size() == 0) {
      return Bad(where, "\"and\" must be a non-empty array of simple rules");
    }
    for (element part : parts) {
      if (auto s = ParseRule(part, where, false, alt); !s.ok()) return s;
    }
    return core::Status::Ok();
  }
  auto kind = internal::MatchKindFromName(field.key);
  if (!kind) return Bad(where, "unknown match rule \"", field.key, "\"");
  std::string_view pattern;
  if (field.value.get_string().get(pattern) != simdjson::SUCCESS) {
    return Bad(where, "match rule \"", field.key, "\" needs a string");
  }
  auto rule = internal::MakeMatchRule(*kind, pattern);
  if (!rule.ok()) return Bad(where, rule.status().message());
  alt.all.push_back(std::move(rule).value());
  return core::Status::Ok();
}

// `key` absent -> empty list (when !required).
core::Status ReadMatchList(const object& obj, std::string_view key, std::string_view where,
                           bool required, internal::MatchList& out) {
  element e;
  if (obj[key].get(e) != simdjson::SUCCESS) {
    if (!required) return core::Status::Ok();
    return Bad(where, "missing \"", key, "\"");
  }
  simdjson::dom::array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS || (required && arr.size() == 0)) {
    return Bad(where, "\"", key, "\" must be a", required ? " non-empty" : "n",
               " array of match rules");
  }
  for (element item : arr) {
    internal::MatchAlternative alt;
    if (auto s = ParseRule(item, where, true, alt); !s.ok()) return s;
    out.push_back(std::move(alt));
  }
  return core::Status::Ok();
}

core::Status ReadTiers(const object& obj, std::string_view where, std::vector<PriceTier>& out) {
  element e;
  if (obj["tiers"].get(e) != simdjson::SUCCESS || e.is_null()) return core::Status::Ok();
  simdjson::dom::array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) {
    return Bad(where, "\"tiers\" must be an array");
  }
  for (element item : arr) {
    object t;
    if (item.get_object().get(t) != simdjson::SUCCESS) {
      return Bad(where, "each tier must be an object");
    }
    PriceTier tier;
    element above;
    int64_t above_v = 0;
    if (t["above_input_tokens"].get(above) != simdjson::SUCCESS ||
        above.get_int64().get(above_v) != simdjson::SUCCESS || above_v < 0) {
      return Bad(where, "tier \"above_input_tokens\" must be a non-negative integer");
    }
    tier.above_input_tokens = above_v;
    if (auto s = ReadPrice(t, "input", where, 0, tier.input); !s.ok()) return s;
    if (auto s = ReadPrice(t, "cached_input", where, -1, tier.cached_input); !s.ok()) return s;
    if (auto s = ReadPrice(t, "cache_write", where, -1, tier.cache_write); !s.ok()) return s;
    if (auto s = ReadPrice(t, "output", where, 0, tier.output); !s.ok()) return s;
    out.push_back(tier);
  }
  std::sort(out.begin(), out.end(), [](const PriceTier& a, const PriceTier& b) {
    return a.above_input_tokens < b.above_input_tokens;
  });
  return core::Status::Ok();
}

double OrInput(double v, double input) {
  return v < 0 ? input : v;
}

}  // namespace

core::Result<PriceBook> PriceBook::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  element doc;
  if (auto err = parser.parse(padded).get(doc); err != simdjson::SUCCESS) {
    return core::InvalidArgument(Cat(kPrefix, "invalid JSON: ", simdjson::error_message(err)));
  }
  object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) {
    return core::InvalidArgument(Cat(kPrefix, "the document must be a JSON object"));
  }
  PriceBook book;
  for (auto [key, out] : {std::pair{"source", &book.info_.source},
                          std::pair{"source_version", &book.info_.source_version},
                          std::pair{"generated_at", &book.info_.generated_at},
                          std::pair{"prices_as_of", &book.info_.prices_as_of}}) {
    if (auto s = ReadString(root, key, "header", false, *out); !s.ok()) return s;
  }

  // Providers (optional): match rules and fallbacks.
  std::vector<std::pair<Provider*, std::string>> fallback_checks;
  element providers_el;
  if (root["providers"].get(providers_el) == simdjson::SUCCESS) {
    simdjson::dom::array arr;
    if (providers_el.get_array().get(arr) != simdjson::SUCCESS) {
      return core::InvalidArgument(Cat(kPrefix, "\"providers\" must be an array"));
    }
    size_t i = 0;
    for (element pe : arr) {
      std::string where = Cat("providers[", std::to_string(i++), "]");
      object po;
      if (pe.get_object().get(po) != simdjson::SUCCESS) return Bad(where, "must be an object");
      std::string id;
      if (auto s = ReadString(po, "id", where, true, id); !s.ok()) return s;
      id = internal::NormalizeModelName(id);
      where = Cat(where, " (", id, ")");
      if (book.ProviderById(id) != nullptr) return Bad(where, "duplicate provider id");
      Provider& p = book.GetOrAddProvider(id);
      if (auto s = ReadMatchList(po, "provider_match", where, false, p.provider_match); !s.ok()) {
        return s;
      }
      if (auto s = ReadMatchList(po, "model_match", where, false, p.model_match); !s.ok()) {
        return s;
      }
      element fb;
      if (po["fallback"].get(fb) == simdjson::SUCCESS) {
        simdjson::dom::array fba;
        if (fb.get_array().get(fba) != simdjson::SUCCESS) {
          return Bad(where, "\"fallback\" must be an array of provider ids");
        }
        for (element f : fba) {
          std::string_view fid;
          if (f.get_string().get(fid) != simdjson::SUCCESS) {
            return Bad(where, "\"fallback\" must be an array of provider ids");
          }
          p.fallback.push_back(internal::NormalizeModelName(fid));
          fallback_checks.emplace_back(&p, where);
        }
      }
    }
  }

  // Models.
  element models_el;
  simdjson::dom::array models;
  if (root["models"].get(models_el) != simdjson::SUCCESS ||
      models_el.get_array().get(models) != simdjson::SUCCESS) {
    return core::InvalidArgument(Cat(kPrefix, "\"models\" must be an array"));
  }
  size_t i = 0;
  for (element me : models) {
    std::string where = Cat("models[", std::to_string(i++), "]");
    object mo;
    if (me.get_object().get(mo) != simdjson::SUCCESS) return Bad(where, "must be an object");
    Entry entry;
    ModelPrice& mp = entry.price;
    if (auto s = ReadString(mo, "provider", where, true, mp.provider); !s.ok()) return s;
    if (auto s = ReadString(mo, "id", where, true, mp.id); !s.ok()) return s;
    mp.provider = internal::NormalizeModelName(mp.provider);
    where = Cat(where, " (", mp.provider, "/", mp.id, ")");
    if (auto s = ReadMatchList(mo, "match", where, true, entry.match); !s.ok()) return s;
    double input = -1, output = -1;
    if (auto s = ReadPrice(mo, "input", where, -1, input); !s.ok()) return s;
    if (auto s = ReadPrice(mo, "output", where, -1, output); !s.ok()) return s;
    if (auto s = ReadPrice(mo, "cached_input", where, -1, mp.cached_input); !s.ok()) return s;
    if (auto s = ReadPrice(mo, "cache_write", where, -1, mp.cache_write); !s.ok()) return s;
    if (auto s = ReadTiers(mo, where, mp.tiers); !s.ok()) return s;
    entry.priced = input >= 0 || output >= 0;
    mp.input = std::max(input, 0.0);
    mp.output = std::max(output, 0.0);
    book.entries_.push_back(std::move(entry));
    book.GetOrAddProvider(book.entries_.back().price.provider)
        .models.push_back(&book.entries_.back());
  }
  for (const auto& [p, where] : fallback_checks) {
    for (const std::string& f : p->fallback) {
      if (book.ProviderById(f) == nullptr) {
        return Bad(where, "unknown fallback provider \"", f, "\"");
      }
    }
  }
  for (auto& p : book.providers_) Reindex(*p);
  book.info_.model_count = book.entries_.size();
  return book;
}

core::Result<PriceBook> PriceBook::Embedded() {
  return FromJson(EmbeddedPriceData());
}

PriceBook::Provider& PriceBook::GetOrAddProvider(std::string_view id) {
  if (auto it = provider_index_.find(id); it != provider_index_.end()) {
    return *providers_[it->second];
  }
  auto p = std::make_unique<Provider>();
  p->id = std::string(id);
  provider_index_.emplace(p->id, providers_.size());
  providers_.push_back(std::move(p));
  return *providers_.back();
}

void PriceBook::Reindex(Provider& p) {
  p.first_exact.clear();
  p.rule_positions.clear();
  for (size_t pos = 0; pos < p.models.size(); ++pos) {
    bool has_rule = false;
    for (const internal::MatchAlternative& alt : p.models[pos]->match) {
      if (auto exact = alt.ExactName()) {
        p.first_exact.emplace(std::string(*exact), pos);  // keeps the first position
      } else {
        has_rule = true;
      }
    }
    if (has_rule) p.rule_positions.push_back(pos);
  }
}

const PriceBook::Entry* PriceBook::FindEntryMemo(std::string_view provider,
                                                 std::string_view model) const {
  const core::JoinedKey joined({provider, model}, '\n');  // on the stack: a hit allocates nothing
  const std::string_view key = joined.view();
  {
    std::shared_lock lock(memo_->mu);
    auto it = memo_->entries.find(key);
    if (it != memo_->entries.end()) return it->second;
  }
  const Entry* e = FindEntry(provider, model);
  std::unique_lock lock(memo_->mu);
  if (memo_->entries.size() > 4096) memo_->entries.clear();  // bound it under junk names
  memo_->entries.emplace(std::string(key), e);
  return e;
}

void PriceBook::Override(ModelPrice price) {
  {
    std::unique_lock lock(memo_->mu);
    memo_->entries.clear();
  }
  price.provider = internal::NormalizeModelName(price.provider);
  std::string name = internal::NormalizeModelName(price.id);
  std::sort(price.tiers.begin(), price.tiers.end(), [](const PriceTier& a, const PriceTier& b) {
    return a.above_input_tokens < b.above_input_tokens;
  });
  auto exact_rule = [&name] {
    internal::MatchAlternative alt;
    alt.all.push_back(internal::MakeMatchRule(internal::MatchRule::Kind::kEquals, name).value());
    return internal::MatchList{alt};
  };
  if (price.provider.empty()) {
    if (auto it = any_provider_overrides_.find(name); it != any_provider_overrides_.end()) {
      entries_[it->second].price = std::move(price);
      return;
    }
    entries_.push_back(Entry{std::move(price), exact_rule(), true});
    any_provider_overrides_.emplace(name, entries_.size() - 1);
    info_.model_count = entries_.size();
    return;
  }
  Provider& p = GetOrAddProvider(price.provider);
  for (Entry* e : p.models) {
    if (internal::NormalizeModelName(e->price.id) == name) {
      e->price = std::move(price);
      e->priced = true;
      return;
    }
  }
  if (name.empty()) return;  // nothing could ever match it
  entries_.push_back(Entry{std::move(price), exact_rule(), true});
  p.models.insert(p.models.begin(), &entries_.back());
  Reindex(p);
  info_.model_count = entries_.size();
}

const PriceBook::Provider* PriceBook::ProviderById(std::string_view id) const {
  auto it = provider_index_.find(id);
  return it == provider_index_.end() ? nullptr : providers_[it->second].get();
}

const PriceBook::Provider* PriceBook::ResolveProvider(std::string_view name) const {
  if (name.empty()) return nullptr;
  if (const Provider* p = ProviderById(name)) return p;
  for (const auto& p : providers_) {
    if (internal::MatchesAny(p->provider_match, name)) return p.get();
  }
  return nullptr;
}

const PriceBook::Provider* PriceBook::ProviderForModel(std::string_view name) const {
  for (const auto& p : providers_) {
    if (internal::MatchesAny(p->model_match, name)) return p.get();
  }
  return nullptr;
}

const PriceBook::Entry* PriceBook::FindInProvider(const Provider& p, std::string_view name) const {
  size_t limit = p.models.size();
  if (auto it = p.first_exact.find(name); it != p.first_exact.end()) limit = it->second;
  // A model before the exact match may still claim the name with another rule.
  for (size_t pos : p.rule_positions) {
    if (pos >= limit) break;
    if (internal::MatchesAny(p.models[pos]->match, name)) return p.models[pos];
  }
  return limit < p.models.size() ? p.models[limit] : nullptr;
}

const PriceBook::Entry* PriceBook::FindWithFallback(const Provider& p,
                                                    std::string_view name) const {
  if (const Entry* e = FindInProvider(p, name)) return e;
  for (const std::string& f : p.fallback) {
    if (const Provider* fp = ProviderById(f)) {
      if (const Entry* e = FindInProvider(*fp, name)) return e;
    }
  }
  return nullptr;
}

const PriceBook::Entry* PriceBook::FindWithDates(const Provider& p, std::string_view name) const {
  if (const Entry* e = FindWithFallback(p, name)) return e;
  if (auto expanded = internal::ExpandCompactDates(name)) return FindWithFallback(p, *expanded);
  return nullptr;
}

const PriceBook::Entry* PriceBook::FindEntry(std::string_view provider,
                                             std::string_view model) const {
  std::string name = internal::NormalizeModelName(model);
  if (name.empty()) return nullptr;
  if (auto it = any_provider_overrides_.find(name); it != any_provider_overrides_.end()) {
    return &entries_[it->second];
  }
  std::string provider_name = internal::NormalizeModelName(provider);
  const Provider* given = ResolveProvider(provider_name);
  if (given != nullptr) {
    if (const Entry* e = FindWithDates(*given, name)) return e;
  }
  if (const Provider* p = ProviderForModel(name); p != nullptr && p != given) {
    if (const Entry* e = FindWithDates(*p, name)) return e;
  }
  if (size_t slash = name.find('/'); slash != std::string::npos && slash > 0) {
    std::string_view prefix = std::string_view(name).substr(0, slash);
    std::string_view rest = std::string_view(name).substr(slash + 1);
    if (const Provider* p = ResolveProvider(prefix); p != nullptr && !rest.empty()) {
      return FindEntry(p->id, rest);
    }
  }
  return nullptr;
}

const ModelPrice* PriceBook::Find(std::string_view provider, std::string_view model) const {
  const Entry* e = FindEntryMemo(provider, model);
  return e != nullptr && e->priced ? &e->price : nullptr;
}

CostBreakdown PriceBook::Cost(std::string_view provider, std::string_view model,
                              const core::Usage& usage) const {
  const Entry* e = FindEntryMemo(provider, model);
  CostBreakdown out = FiguresFor(e, usage);
  if (e != nullptr) {
    out.matched_model =
        e->price.provider.empty() ? e->price.id : Cat(e->price.provider, "/", e->price.id);
  }
  return out;
}

CostBreakdown PriceBook::CostFigures(std::string_view provider, std::string_view model,
                                     const core::Usage& usage) const {
  return FiguresFor(FindEntryMemo(provider, model), usage);
}

CostBreakdown PriceBook::FiguresFor(const Entry* e, const core::Usage& usage) {
  CostBreakdown out;
  if (e == nullptr || !e->priced) return out;
  const ModelPrice& mp = e->price;
  double input = mp.input, cached = mp.cached_input, write = mp.cache_write, output = mp.output;
  for (const PriceTier& t : mp.tiers) {
    if (usage.prompt_tokens > t.above_input_tokens) {
      input = t.input;
      cached = t.cached_input;
      write = t.cache_write;
      output = t.output;
    }
  }
  auto tokens = [](int64_t n) { return static_cast<double>(std::max<int64_t>(n, 0)); };
  int64_t uncached = usage.prompt_tokens - std::max<int64_t>(usage.cached_prompt_tokens, 0) -
                     std::max<int64_t>(usage.cache_write_tokens, 0);
  constexpr double kPerMillion = 1e6;
  out.input_usd = tokens(uncached) * input / kPerMillion;
  out.cached_input_usd = tokens(usage.cached_prompt_tokens) * OrInput(cached, input) / kPerMillion;
  out.cache_write_usd = tokens(usage.cache_write_tokens) * OrInput(write, input) / kPerMillion;
  out.output_usd = tokens(usage.completion_tokens) * output / kPerMillion;
  out.total_usd = out.input_usd + out.cached_input_usd + out.cache_write_usd + out.output_usd;
  out.priced = true;
  return out;
}

}  // namespace switchyard::economics
