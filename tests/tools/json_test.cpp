// tools/common/json: the strict reader (RFC 8259) and the compact writer.
#include "tools/common/json.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using tools::json::Value;

Value ok(std::string_view text) {
    auto v = tools::json::parse(text);
    EXPECT_TRUE(v) << text << ": " << (v ? "" : v.error());
    return v ? *v : Value();
}

bool refused(std::string_view text) { return !tools::json::parse(text); }

TEST(Json, ParsesIperf3Parameters) {
    const Value v =
        ok(R"({"tcp":true,"omit":0,"time":3,"num":0,"blockcount":0,"parallel":4,"reverse":true,)"
           R"("len":131072,"pacing_timer":1000,"client_version":"3.12"})");
    ASSERT_TRUE(v.is_object());
    EXPECT_EQ(v.members().size(), 10u);
    EXPECT_TRUE(v.find("tcp")->as_bool());
    EXPECT_EQ(v.find("parallel")->as_int(), 4);
    EXPECT_EQ(v.find("client_version")->as_string(), "3.12");
    EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(Json, NumbersKeepExactIntegersAndDoubles) {
    EXPECT_EQ(ok("9007199254740993").as_int(), 9007199254740993LL);  // 2^53 + 1, exact
    EXPECT_EQ(ok("-9223372036854775808").as_int(), INT64_MIN);
    // iperf3's "unknown" (an unsigned -1): a number, but no int64.
    const Value big = ok("18446744073709551615");
    EXPECT_TRUE(big.is_number());
    EXPECT_FALSE(big.as_int().has_value());
    EXPECT_DOUBLE_EQ(ok("1.8446744073709552e+19").as_double(), 1.8446744073709552e19);
    EXPECT_DOUBLE_EQ(ok("-0.5e-3").as_double(), -0.0005);
    EXPECT_EQ(ok("3.0").as_int(), 3);
    EXPECT_FALSE(ok("3.5").as_int().has_value());
}

TEST(Json, StringsDecodeEscapesAndUtf8) {
    EXPECT_EQ(ok(R"("a\"b\\c\/d\n\t\u0041\u00e9")").as_string(), "a\"b\\c/d\n\tA\xc3\xa9");
    EXPECT_EQ(ok(R"("\ud83d\ude00")").as_string(), "\xf0\x9f\x98\x80");  // surrogate pair
    EXPECT_EQ(ok("\"\xc3\xa9\"").as_string(), "\xc3\xa9");
}

TEST(Json, RefusesWhatRfc8259Does) {
    for (const char* bad : {"",
                            " ",
                            "{",
                            "[1,]",
                            "{\"a\":1,}",
                            "{'a':1}",
                            "01",
                            "1.",
                            ".5",
                            "1e",
                            "+1",
                            "NaN",
                            "Infinity",
                            "tru",
                            "nul",
                            "[1 2]",
                            "{\"a\" 1}",
                            "{1:2}",
                            "\"abc",
                            "\"\\x\"",
                            "\"\\u12\"",
                            "\"\\ud800\"",
                            "\"\\udc00\"",
                            "\"\\ud800\\u0041\"",
                            "\"a\nb\"",
                            "\"\xff\"",
                            "\"\xc0\xaf\"",
                            "\"\xed\xa0\x80\"",
                            "\"\xf4\x90\x80\x80\"",
                            "1 2",
                            "{} x",
                            "1e400",
                            "//c\n1",
                            "[1]/*c*/"}) {
        EXPECT_TRUE(refused(bad)) << "accepted: " << bad;
    }
}

TEST(Json, RefusesDuplicateMemberNames) { EXPECT_TRUE(refused(R"({"time":1,"time":100000})")); }

TEST(Json, BoundsDepthAndSize) {
    std::string deep(33, '[');
    deep += std::string(33, ']');
    EXPECT_TRUE(refused(deep));
    std::string ok32(32, '[');
    ok32 += std::string(32, ']');
    EXPECT_TRUE(tools::json::parse(ok32));
    // A hostile nesting far beyond the limit fails fast, without recursing into it.
    EXPECT_TRUE(refused(std::string(100000, '[')));
    tools::json::Limits small;
    small.max_bytes = 8;
    EXPECT_FALSE(tools::json::parse("[1,2,3,4,5]", small));
    auto e = tools::json::parse("[1,2,x]");
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().find("offset 5"), std::string::npos) << e.error();
}

TEST(Json, SerializesCompactlyInOrderAndRoundTrips) {
    Value v = Value::object();
    v.set("b", Value::integer(-1));
    v.set("a", Value::string("q\"\n\x01"));
    Value arr = Value::array();
    arr.push(Value::number(0.1));
    arr.push(Value::boolean(false));
    arr.push(Value());
    arr.push(Value::integer(9007199254740993LL));
    v.set("list", std::move(arr));
    v.set("b", Value::integer(2));  // replaces, keeps the position
    const std::string text = tools::json::serialize(v);
    EXPECT_EQ(text, R"({"b":2,"a":"q\"\n\u0001","list":[0.1,false,null,9007199254740993]})");
    const Value back = ok(text);
    EXPECT_EQ(tools::json::serialize(back), text);
    EXPECT_EQ(tools::json::serialize(Value::number(1.0 / 0.0)), "null");
}

}  // namespace
