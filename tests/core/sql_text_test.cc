#include "core/sql_text.h"

#include <gtest/gtest.h>

namespace switchyard::core {
namespace {

TEST(AppendValuesRowsTest, NumbersParametersRowAfterRow) {
  std::string sql = "VALUES ";
  AppendValuesRows(sql, 2, 3);
  EXPECT_EQ(sql, "VALUES (?1, ?2, ?3), (?4, ?5, ?6)");
}

TEST(AppendValuesRowsTest, OneRowAndNoRows) {
  std::string one;
  AppendValuesRows(one, 1, 2);
  EXPECT_EQ(one, "(?1, ?2)");
  std::string none = "x";
  AppendValuesRows(none, 0, 5);
  EXPECT_EQ(none, "x");
}

}  // namespace
}  // namespace switchyard::core
