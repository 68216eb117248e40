#include "core/csv.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace switchyard::core {
namespace {

TEST(CsvTest, ParsesHeaderAndRowsWithQuotes) {
  auto t = ParseCsv(
      "id,text,label\n"
      "1,plain,up\n"
      "2,\"comma, inside\",down\n"
      "3,\"doubled \"\"quote\"\"\",none\n",
      "x.csv");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->header, (std::vector<std::string>{"id", "text", "label"}));
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(t->rows[0], (std::vector<std::string>{"1", "plain", "up"}));
  EXPECT_EQ(t->rows[1][1], "comma, inside");
  EXPECT_EQ(t->rows[2][1], "doubled \"quote\"");
  EXPECT_EQ(t->row_lines, (std::vector<size_t>{2, 3, 4}));
}

TEST(CsvTest, EmbeddedNewlinesCountLinesAndCrlfWorks) {
  auto t = ParseCsv("\xEF\xBB\xBFid,text\r\n1,\"two\nlines\"\r\n\r\n2,last", "x.csv");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->header[0], "id");  // BOM stripped
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][1], "two\nlines");
  EXPECT_EQ(t->rows[1][1], "last");  // no final newline
  EXPECT_EQ(t->row_lines, (std::vector<size_t>{2, 5}));
  EXPECT_EQ(t->Where(1), "x.csv:5");
}

TEST(CsvTest, EmptyFieldsAndTrailingComma) {
  auto t = ParseCsv("a,b,c\n,,\n\"\",x,\n", "x.csv");
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0], (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(t->rows[1], (std::vector<std::string>{"", "x", ""}));
}

TEST(CsvTest, ASingleQuotedEmptyFieldIsARowNotABlankLine) {
  auto t = ParseCsv("a\n\"\"\n\n", "x.csv");
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(t->rows[0][0], "");
}

TEST(CsvTest, NamedColumns) {
  auto t = ParseCsv("id,text,label\n", "data.csv");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ColumnIndex("label"), 2u);
  EXPECT_EQ(t->ColumnIndex("nope"), std::nullopt);
  auto ok = t->RequireColumn("text");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 1u);
  auto missing = t->RequireColumn("prompt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(), "data.csv: missing column 'prompt'");
}

struct BadCase {
  const char* text;
  const char* message;
};

TEST(CsvTest, ErrorsNameTheFileAndLine) {
  const BadCase cases[] = {
      {"", "d.csv: empty file"},
      {"\n\n", "d.csv: empty file"},
      {"a,b\n1,\"open\n\nmore", "d.csv:2: unterminated quoted field"},
      {"a,b\n1,2\n\"ab\"c,3\n", "d.csv:3: unexpected character after closing quote"},
      {"a,b\n1,ab\"c\n", "d.csv:2: quote inside an unquoted field"},
      {"a,b\n1,2\n\n3\n", "d.csv:4: row has 1 fields, the header has 2"},
      {"a,b\n1,\"x\ny\",3\n", "d.csv:2: row has 3 fields, the header has 2"},
      {"a,b,a\n", "d.csv: duplicate column 'a' in the header"},
  };
  for (const auto& c : cases) {
    auto t = ParseCsv(c.text, "d.csv");
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(t.status().message(), c.message) << c.text;
  }
}

TEST(CsvTest, WriterQuotesOnlyWhenNeededAndRoundTrips) {
  std::string out;
  AppendCsvRow(out, {"id", "text"});
  AppendCsvRow(out, {"1", "plain"});
  AppendCsvRow(out, {"2", "a,b \"c\"\nd"});
  AppendCsvRow(out, {"3", " padded "});
  EXPECT_EQ(out, "id,text\n1,plain\n2,\"a,b \"\"c\"\"\nd\"\n3,\" padded \"\n");
  auto t = ParseCsv(out, "rt");
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(t->rows[1][1], "a,b \"c\"\nd");
  EXPECT_EQ(t->rows[2][1], " padded ");
}

TEST(CsvTest, ReadsFilesAndReportsMissingOnes) {
  char tmpl[] = "/tmp/sy_csv_test_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/x.csv";
  {
    std::ofstream f(path);
    f << "id,text\n7,hello\n";
  }
  auto t = ReadCsvFile(path);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->name, path);
  EXPECT_EQ(t->rows[0][1], "hello");

  auto missing = ReadCsvFile(dir + "/nope.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            dir + "/nope.csv: cannot read file (No such file or directory)");
  auto is_dir = ReadTextFile(dir);
  ASSERT_FALSE(is_dir.ok());
  EXPECT_EQ(is_dir.status().message(), dir + ": cannot read file (Is a directory)");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace switchyard::core
