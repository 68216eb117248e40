// Token ids checked against the npm package gpt-tokenizer, the reference issue 3 names.
//
// kFixedCases was produced, with the package the build installs, by
//   node tests/tokenize/reference_tokens.mjs fixed build/npm/node_modules/gpt-tokenizer
// (gpt-tokenizer 4.0.0, Node.js 20) and pasted here unchanged.
//
// LiveComparison runs the same script in `random` mode (seeded, 200 strings per encoding
// built from code, CJK, emoji, whitespace, numbers, contractions...) and compares every id;
// it is skipped when Node.js or the package is absent.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tokenize/bpe.h"

namespace switchyard::tokenize {
namespace {

struct FixedCase {
  const char* name;
  Encoding encoding;
  std::string_view text;
  std::vector<uint32_t> ids;
};

const std::vector<FixedCase>& FixedCases() {
  static const std::vector<FixedCase> kFixedCases = {
      {"python",
       Encoding::kO200kBase,
       "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
       {1314, 18795, 2406,  1883, 271, 538, 297, 464, 220, 17,    734,  309, 622, 297, 198,
        271,  622,   18795, 2406, 533, 220, 16,  8,   659, 18795, 2406, 533, 220, 17,  446}},
      {"python",
       Encoding::kCl100kBase,
       "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
       {755, 16178, 1471,  997,  262, 422, 308, 366, 220, 17,    512,  286, 471, 308, 198,
        262, 471,   16178, 1471, 482, 220, 16,  8,   489, 16178, 1471, 482, 220, 17,  340}},
      {"cpp",
       Encoding::kO200kBase,
       "for (int i = 0; i < 10; ++i) {\n\tstd::cout << i << '\\n';\n}",
       {1938, 350, 491, 575,   314, 220,   15,   26,  575,  464,   220, 702,  26, 7600,
        72,   8,   405, 15788, 742, 13620, 2256, 575, 2256, 10855, 77,  1745, 92}},
      {"cpp",
       Encoding::kCl100kBase,
       "for (int i = 0; i < 10; ++i) {\n\tstd::cout << i << '\\n';\n}",
       {2000, 320, 396, 602,  284, 220,  15,   26,  602,  366,  220, 605,  26, 3526,
        72,   8,   341, 6878, 487, 6232, 1134, 602, 1134, 5307, 77,  1025, 92}},
      {"json_url",
       Encoding::kO200kBase,
       "{\"url\": \"https://example.com/a/b?c=d&e=f\", \"n\": [1, 2, 3]}",
       {10848, 1804, 1243, 392, 4172, 1684, 18582, 1136, 23839, 7611, 30, 66,  56413, 63734,
        40464, 672,  392,  77,  1243, 723,  16,    11,   220,   17,   11, 220, 18,    28000}},
      {"json_url",
       Encoding::kCl100kBase,
       "{\"url\": \"https://example.com/a/b?c=d&e=f\", \"n\": [1, 2, 3]}",
       {5018,  1103, 794, 330, 2485, 1129, 8858, 916, 14520, 3554, 30, 66,  26477, 69170,
        18603, 498,  330, 77,  794,  510,  16,   11,  220,   17,   11, 220, 18,    14316}},
      {"cjk",
       Encoding::kO200kBase,
       "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c\xef\xbc\x81\xe4\xbb\x8a\xe5"
       "\xa4\xa9\xe5\xa4\xa9\xe6\xb0\x94\xe5\xbe\x88\xe5\xa5\xbd\xe3\x80\x82\xe6\x97\xa5\xe6\x9c"
       "\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88\xe3\x82\x82"
       "\xe5\xb0\x91\xe3\x81\x97\xe3\x80\x82\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 "
       "\xeb\xac\xb8\xec\x9e\xa5\xeb\x8f\x84 \xec\x9e\x88\xec\x8a\xb5\xeb\x8b\x88\xeb\x8b\xa4.",
       {177519, 979,   28428, 3393,  10941, 1487, 25896,  148483, 788,   9048, 40909, 3385,  16056,
        18368,  38236, 8446,  11389, 3829,  788,  114854, 5959,   26387, 7681, 5827,  25824, 13}},
      {"cjk",
       Encoding::kCl100kBase,
       "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c\xef\xbc\x81\xe4\xbb\x8a\xe5"
       "\xa4\xa9\xe5\xa4\xa9\xe6\xb0\x94\xe5\xbe\x88\xe5\xa5\xbd\xe3\x80\x82\xe6\x97\xa5\xe6\x9c"
       "\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88\xe3\x82\x82"
       "\xe5\xb0\x91\xe3\x81\x97\xe3\x80\x82\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 "
       "\xeb\xac\xb8\xec\x9e\xa5\xeb\x8f\x84 \xec\x9e\x88\xec\x8a\xb5\xeb\x8b\x88\xeb\x8b\xa4.",
       {57668, 53901, 3922,  3574,  244,   98220, 6447,  37271, 36827, 36827, 30320, 242,   17599,
        230,   53901, 1811,  9080,  22656, 45918, 252,   16144, 57933, 62903, 71634, 32977, 83747,
        15024, 1811,  24486, 89059, 255,   32179, 54535, 41953, 49085, 36439, 39331, 13}},
      {"emoji",
       Encoding::kO200kBase,
       "I love \xf0\x9f\xa6\x80 and "
       "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0"
       "\x9f\x91\xa6 families! \xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89 "
       "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
       {40,   3047,  9552, 99,    222, 326,    61138, 102,   2524, 28823, 102, 2524,   28823, 100,
        2524, 28823, 99,   11512, 0,   139786, 231,   71344, 231,  71344, 231, 160433, 52622, 121}},
      {"emoji",
       Encoding::kCl100kBase,
       "I love \xf0\x9f\xa6\x80 and "
       "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0"
       "\x9f\x91\xa6 families! \xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89 "
       "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
       {40,  3021, 11410, 99,  222, 323,  62904, 102,  378,   235, 9468, 239, 102,
        378, 235,  9468,  239, 100, 378,  235,   9468, 239,   99,  8689, 0,   11410,
        236, 231,  9468,  236, 231, 9468, 236,   231,  62904, 235, 9468, 237, 121}},
      {"whitespace",
       Encoding::kO200kBase,
       "a  b   c\t\t d\n\n\n  e    \n \r\n   x\xc2\xa0\xc2\xa0y\xe3\x80\x80z   ",
       {64,   220,  287, 256,  274,  335,  272, 2499, 220, 319,
        1944, 4568, 256, 1215, 5310, 5310, 88,  1397, 89,  271}},
      {"whitespace",
       Encoding::kCl100kBase,
       "a  b   c\t\t d\n\n\n  e    \n \r\n   x\xc2\xa0\xc2\xa0y\xe3\x80\x80z   ",
       {64,   220,  293, 256, 272,  298,  294, 1432,  220, 384,
        1084, 2591, 256, 865, 4194, 4194, 88,  23249, 89,  262}},
      {"numbers",
       Encoding::kO200kBase,
       "1234567890 3.14159 -42 1,000,000 2024-06-01 0x1F 1e10 \xd9\xa3\xd9\xa4\xd9\xa5",
       {7633, 19354, 29338, 15,   220, 18,   13,  16926, 4621,  533,   4689, 220, 16,
        11,   1302,  11,    1302, 220, 1323, 19,  12,    3218,  12,    2290, 220, 15,
        87,   16,    37,    220,  16,  68,   702, 220,   81473, 98713, 97336}},
      {"numbers",
       Encoding::kCl100kBase,
       "1234567890 3.14159 -42 1,000,000 2024-06-01 0x1F 1e10 \xd9\xa3\xd9\xa4\xd9\xa5",
       {4513, 10961, 16474, 15,  220,  18,  13,  9335, 2946, 482,  2983, 220, 16, 11,
        931,  11,    931,   220, 2366, 19,  12,  2705, 12,   1721, 220,  15,  87, 16,
        37,   220,   16,    68,  605,  220, 149, 96,   149,  97,   149,  98}},
      {"contractions",
       Encoding::kO200kBase,
       "I'm sure you'll see they've done it; don't WON'T She'S it'd we're Y'ALL",
       {15390, 3239, 12764, 1921, 51676, 4167, 480, 26, 4128, 147667, 51532, 3627, 31233, 189495,
        15929, 865, 6, 7011}},
      {"contractions",
       Encoding::kCl100kBase,
       "I'm sure you'll see they've done it; don't WON'T She'S it'd we're Y'ALL",
       {40,  2846,  2771,  499,  3358,  1518, 814,  3077, 2884, 433, 26, 1541,
        956, 98467, 17773, 3005, 13575, 433,  4265, 584,  2351, 816, 6,  4006}},
      {"scripts",
       Encoding::kO200kBase,
       "Hello, world! \xc3\x9cn\xc3\xaf"
       "c\xc3\xb6"
       "d\xc3\xa9 fa\xc3\xa7"
       "ade \xe2\x80\x94 na\xc3\xafve caf\xc3\xa9; "
       "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80; "
       "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 "
       "\xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85; \xce\xb3\xce\xb5\xce\xb9\xce\xac "
       "\xcf\x83\xce\xbf\xcf\x85; "
       "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87",
       {13225, 11,    2375, 0,     120241, 191375, 43369,  377,   114665, 2733,   153475,
        737,   30469, 26,   14917, 131903, 37934,  26,     60397, 26537,  101462, 12773,
        26,    8558,  4969, 2132,  79060,  26,     100793, 14681, 628}},
      {"scripts",
       Encoding::kCl100kBase,
       "Hello, world! \xc3\x9cn\xc3\xaf"
       "c\xc3\xb6"
       "d\xc3\xa9 fa\xc3\xa7"
       "ade \xe2\x80\x94 na\xc3\xafve caf\xc3\xa9; "
       "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80; "
       "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 "
       "\xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85; \xce\xb3\xce\xb5\xce\xb9\xce\xac "
       "\xcf\x83\xce\xbf\xcf\x85; "
       "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87",
       {9906,  11,    1917, 0,     31612, 77,    38672, 66,    3029,  67,    978,   95972, 1037,
        2001,  95980, 588,  53050, 26,    80584, 28089, 8341,  11562, 78746, 26,    24252, 11318,
        30925, 22071, 5821, 28946, 32482, 24102, 32482, 10386, 26,    63127, 31243, 30862, 75234,
        48823, 73986, 26,   15272, 101,   88344, 79468, 31584, 97,    35470}},
      {"camel",
       Encoding::kO200kBase,
       "HTTPServerError parseJSONResponse XMLHttpRequest iPhone McDonald's",
       {17893, 6444, 2255, 8420, 8259, 3186, 100497, 2303, 575, 7081, 7935, 155802}},
      {"camel",
       Encoding::kCl100kBase,
       "HTTPServerError parseJSONResponse XMLHttpRequest iPhone McDonald's",
       {9412, 39609, 4820, 5483, 2647, 46938, 12443, 32014, 596}},
      {"special_text",
       Encoding::kO200kBase,
       "<|endoftext|> is plain text here <|im_start|>user",
       {27, 91, 419, 1440, 919, 91, 29, 382, 21402, 2201, 2105, 464, 91, 321, 10949, 91, 29, 1428}},
      {"special_text",
       Encoding::kCl100kBase,
       "<|endoftext|> is plain text here <|im_start|>user",
       {27, 91, 8862, 728, 428, 91, 29, 374, 14733, 1495, 1618, 83739, 318, 5011, 91, 29, 882}},
      {"combining",
       Encoding::kO200kBase,
       "e\xcc\x81le\xcc\x80ve Z\xcd\x91\xcd\xa2"
       "a\xcd\x95l\xcc\x98g\xcc\xa0o",
       {68, 13430, 282, 23168, 737, 1489, 137, 239, 137, 95,
        64, 137,   243, 75,    136, 246,  70,  136, 254, 78}},
      {"combining",
       Encoding::kCl100kBase,
       "e\xcc\x81le\xcc\x80ve Z\xcd\x91\xcd\xa2"
       "a\xcd\x95l\xcc\x98g\xcc\xa0o",
       {68, 54939, 273, 97649, 588, 1901, 137, 239, 137, 95,
        64, 137,   243, 75,    136, 246,  70,  136, 254, 78}},
  };
  return kFixedCases;
}

std::shared_ptr<const Tokenizer> Get(Encoding e) {
  auto tokenizer = Tokenizer::Load(e);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  return *tokenizer;
}

TEST(ReferenceTest, FixedCasesMatchGptTokenizer) {
  ASSERT_EQ(FixedCases().size(), 24u);
  for (const FixedCase& c : FixedCases()) {
    SCOPED_TRACE(std::string(c.name) + " / " + std::string(EncodingName(c.encoding)));
    const auto tokenizer = Get(c.encoding);
    EXPECT_EQ(tokenizer->Encode(c.text), c.ids);
    EXPECT_EQ(tokenizer->Count(c.text), c.ids.size());
    auto decoded = tokenizer->Decode(c.ids);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, c.text);
  }
}

std::vector<uint32_t> ParseIds(const std::string& text) {
  std::vector<uint32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) ids.push_back(static_cast<uint32_t>(std::stoul(item)));
  return ids;
}

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

TEST(ReferenceTest, LiveComparisonWithGptTokenizer) {
  const std::filesystem::path node = SY_TOKENIZE_NODE;
  const std::filesystem::path package = SY_TOKENIZE_PACKAGE_DIR;
  if (node.empty() || !std::filesystem::exists(node) ||
      !std::filesystem::exists(package / "package.json")) {
    GTEST_SKIP() << "Node.js or gpt-tokenizer not available";
  }
  const std::string command = "'" + node.string() +
                              "' '" SWITCHYARD_SOURCE_DIR
                              "/tests/tokenize/reference_tokens.mjs' random '" +
                              package.string() + "' 20240601 200";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[65536];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe.get())) > 0;) output.append(buffer, n);
  ASSERT_EQ(pclose(pipe.release()), 0) << command;

  std::stringstream lines(output);
  std::string line;
  int compared = 0;
  while (std::getline(lines, line)) {
    std::stringstream fields(line);
    std::string encoding_name, hex, ids;
    std::getline(fields, encoding_name, '\t');
    std::getline(fields, hex, '\t');
    std::getline(fields, ids, '\t');
    const Encoding e = encoding_name == "o200k_base" ? Encoding::kO200kBase : Encoding::kCl100kBase;
    const std::string text = FromHex(hex);
    EXPECT_EQ(Get(e)->Encode(text), ParseIds(ids)) << encoding_name << " text hex " << hex;
    ++compared;
  }
  EXPECT_EQ(compared, 400);
}

}  // namespace
}  // namespace switchyard::tokenize
