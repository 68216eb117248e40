// CancelToken: order, unregistering (inline and spilled callbacks alike),
// registration after the cancel, callbacks that register or unregister.
#include "http/cancel.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::http {
namespace {

TEST(CancelTokenTest, FiresEveryRegisteredCallbackOnceInOrder) {
  CancelToken token;
  std::string fired;
  for (char c : std::string("abcde")) token.Register([&fired, c] { fired += c; });
  EXPECT_FALSE(token.cancelled());
  token.Cancel();
  EXPECT_TRUE(token.cancelled());
  EXPECT_EQ(fired, "abcde");
  token.Cancel();  // once only
  EXPECT_EQ(fired, "abcde");
}

TEST(CancelTokenTest, UnregisteredCallbacksDoNotFire) {
  CancelToken token;
  std::string fired;
  std::vector<size_t> handles;
  for (char c : std::string("abcde"))
    handles.push_back(token.Register([&fired, c] { fired += c; }));
  EXPECT_EQ(handles, (std::vector<size_t>{0, 1, 2, 3, 4}));
  token.Unregister(handles[1]);  // kept inline
  token.Unregister(handles[3]);  // past the inline ones
  token.Unregister(CancelToken::kNone);
  token.Unregister(99);
  token.Cancel();
  EXPECT_EQ(fired, "ace");
}

TEST(CancelTokenTest, ARegistrationAfterTheCancelFiresAtOnce) {
  CancelToken token;
  token.Cancel();
  int fired = 0;
  EXPECT_EQ(token.Register([&fired] { ++fired; }), CancelToken::kNone);
  EXPECT_EQ(fired, 1);
  token.Unregister(CancelToken::kNone);  // harmless
}

TEST(CancelTokenTest, ACallbackMayRegisterAndUnregister) {
  CancelToken token;
  std::string fired;
  size_t second = CancelToken::kNone;
  token.Register([&] {
    fired += 'a';
    token.Unregister(second);  // too late to stop it: the cancel took every callback
    token.Register([&fired] { fired += 'x'; });  // fires at once
  });
  second = token.Register([&fired] { fired += 'b'; });
  token.Cancel();
  EXPECT_EQ(fired, "axb");
}

}  // namespace
}  // namespace switchyard::http
