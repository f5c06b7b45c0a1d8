// The HTTP/1.1 syntax helpers both parsers share (tools/common/http1.hpp): case-insensitive
// compare, tokens, OWS trimming, line and field splitting, lists, Content-Length, chunk sizes,
// status lines.
#include "tools/common/http1.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <string_view>

namespace tools::http1 {
namespace {

TEST(Http1, IequalsIsAsciiCaseInsensitive) {
    EXPECT_TRUE(iequals("Content-Length", "content-length"));
    EXPECT_TRUE(iequals("CHUNKED", "chunked"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("chunked", "chunked "));
    EXPECT_FALSE(iequals("close", "clos"));
    EXPECT_FALSE(iequals("keep-alive", "keep_alive"));
    EXPECT_EQ(to_lower("Example.TEST"), "example.test");
}

TEST(Http1, TokensAreTchars) {
    EXPECT_TRUE(is_token("GET"));
    EXPECT_TRUE(is_token("X-Custom_Field.1~!#$%&'*+^`|"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("Host "));
    EXPECT_FALSE(is_token("a:b"));
    EXPECT_FALSE(is_token("a\"b"));
    EXPECT_FALSE(is_token("a(b)"));
    EXPECT_TRUE(is_tchar('~'));
    EXPECT_FALSE(is_tchar('\t'));
    EXPECT_FALSE(is_tchar(','));
}

TEST(Http1, TrimOwsLeavesCrTrimOwsCrDropsIt) {
    EXPECT_EQ(trim_ows(" \tvalue \t"), "value");
    EXPECT_EQ(trim_ows("a b"), "a b");
    EXPECT_EQ(trim_ows("value\r"), "value\r");
    EXPECT_EQ(trim_ows(" \t "), "");
    EXPECT_EQ(trim_ows_cr(" value \r"), "value");
    EXPECT_EQ(trim_ows_cr("value\r \r"), "value");
    EXPECT_EQ(trim_ows_cr("\rvalue"), "\rvalue");  // a leading CR is not whitespace
}

TEST(Http1, NextLineSplitsAtLfAndDropsOneCr) {
    const std::string_view data = "one\r\ntwo\nthree\r\r\n\npartial";
    std::size_t pos = 0;
    EXPECT_EQ(next_line(data, pos), "one");
    EXPECT_EQ(next_line(data, pos), "two");
    EXPECT_EQ(next_line(data, pos), "three\r");  // only the CR before the LF
    EXPECT_EQ(next_line(data, pos), "");
    const std::size_t before = pos;
    EXPECT_FALSE(next_line(data, pos));  // no LF after "partial"
    EXPECT_EQ(pos, before);
    std::size_t past = data.size() + 1;
    EXPECT_FALSE(next_line(data, past));
}

TEST(Http1, SplitFieldTrimsTheValueNotTheName) {
    auto f = split_field("Content-Type: \ttext/plain \t");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->name, "Content-Type");
    EXPECT_EQ(f->value, "text/plain");
    auto spaced = split_field("Host : x");  // the caller refuses the name (not a token)
    ASSERT_TRUE(spaced);
    EXPECT_EQ(spaced->name, "Host ");
    auto empty = split_field("X-Empty:");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->value, "");
    auto colon = split_field("X: a:b");  // the first colon separates
    ASSERT_TRUE(colon);
    EXPECT_EQ(colon->value, "a:b");
    EXPECT_FALSE(split_field("no colon here"));
}

TEST(Http1, ListHasFindsAnElement) {
    EXPECT_TRUE(list_has("close", "close"));
    EXPECT_TRUE(list_has("Upgrade, Keep-Alive", "keep-alive"));
    EXPECT_TRUE(list_has(" , ,close ,", "close"));
    EXPECT_FALSE(list_has("closed", "close"));
    EXPECT_FALSE(list_has("keep-alive", "close"));
    EXPECT_FALSE(list_has("", "close"));
}

TEST(Http1, ContentLengthIsDigitsOnly) {
    EXPECT_EQ(parse_content_length("0"), 0u);
    EXPECT_EQ(parse_content_length("1234"), 1234u);
    EXPECT_EQ(parse_content_length("18446744073709551615"),
              std::numeric_limits<std::uint64_t>::max());
    EXPECT_FALSE(parse_content_length("18446744073709551616"));  // above 2^64-1
    EXPECT_FALSE(parse_content_length(""));
    EXPECT_FALSE(parse_content_length("+5"));
    EXPECT_FALSE(parse_content_length("-5"));
    EXPECT_FALSE(parse_content_length("5 "));
    EXPECT_FALSE(parse_content_length("0x10"));
    EXPECT_FALSE(parse_content_length("1,2"));
}

TEST(Http1, ChunkSizeIgnoresExtensions) {
    std::string_view text;
    EXPECT_EQ(parse_chunk_size("1a", text), 0x1au);
    EXPECT_EQ(text, "1a");
    EXPECT_EQ(parse_chunk_size("FF;name=value", text), 0xffu);
    EXPECT_EQ(text, "FF");
    EXPECT_EQ(parse_chunk_size("10 \t;ext", text), 0x10u);
    EXPECT_EQ(parse_chunk_size("0", text), 0u);
    EXPECT_EQ(parse_chunk_size("fffffffffffffff", text), 0xfffffffffffffffu);  // 15 digits
    EXPECT_FALSE(parse_chunk_size("1000000000000000", text));                  // 16 digits
    EXPECT_EQ(text, "1000000000000000");
    EXPECT_FALSE(parse_chunk_size("", text));
    EXPECT_FALSE(parse_chunk_size(";ext", text));
    EXPECT_FALSE(parse_chunk_size("xyz", text));
    EXPECT_EQ(text, "xyz");
    EXPECT_FALSE(parse_chunk_size("0x10", text));
    EXPECT_FALSE(parse_chunk_size("1 2", text));
}

TEST(Http1, HexDigits) {
    EXPECT_EQ(hex_digit('0'), 0);
    EXPECT_EQ(hex_digit('9'), 9);
    EXPECT_EQ(hex_digit('a'), 10);
    EXPECT_EQ(hex_digit('F'), 15);
    EXPECT_EQ(hex_digit('g'), -1);
    EXPECT_EQ(hex_digit('%'), -1);
}

TEST(Http1, StatusLine) {
    auto ok = parse_status_line("HTTP/1.1 200 OK");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->code, 200);
    EXPECT_EQ(ok->reason, "OK");
    auto no_reason = parse_status_line("HTTP/1.0 404 ");
    ASSERT_TRUE(no_reason);
    EXPECT_EQ(no_reason->code, 404);
    EXPECT_EQ(no_reason->reason, "");
    auto spaced = parse_status_line("HTTP/1.1 503  Service Unavailable");
    ASSERT_TRUE(spaced);
    EXPECT_EQ(spaced->reason, "Service Unavailable");
    EXPECT_EQ(parse_status_line("HTTP/2 200 OK").error(), StatusLineError::Malformed);
    EXPECT_EQ(parse_status_line("HTTP/1.1 20").error(), StatusLineError::Malformed);  // short
    EXPECT_EQ(parse_status_line("HTTP/1.1-200 OK").error(), StatusLineError::Malformed);
    auto bare = parse_status_line("HTTP/1.1 204");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->code, 204);
    EXPECT_EQ(parse_status_line("HTTP/1.1  200 OK").error(), StatusLineError::BadCode);
    EXPECT_EQ(parse_status_line("HTTP/1.1 2x0 OK").error(), StatusLineError::BadCode);
    EXPECT_EQ(parse_status_line("HTTP/1.1 099 Low").error(), StatusLineError::BadCode);
    EXPECT_EQ(parse_status_line("HTTP/1.1 600 High").error(), StatusLineError::BadCode);
    EXPECT_EQ(status_line(404, "Not Found"), "HTTP/1.1 404 Not Found\r\n");
}

}  // namespace
}  // namespace tools::http1
