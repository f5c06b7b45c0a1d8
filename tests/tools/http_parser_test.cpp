// tunstackd's HTTP/1.1 request parser (tools/tunstackd/services/http_parser.hpp): RFC 9112 request
// lines and header fields, keep-alive rules, limits, and the request-target → path mapping that keeps
// requests inside the document root.
#include "tools/tunstackd/services/http_parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tunstackd::http {
namespace {

ParseResult parse(const std::string& s) { return parse_request(s); }

TEST(HttpParser, SimpleGetIsCompleteWithExactLength) {
    const std::string req = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    auto r = parse(req + "GET /next");
    ASSERT_EQ(r.status, ParseStatus::Complete);
    EXPECT_EQ(r.request.method, "GET");
    EXPECT_EQ(r.request.target, "/index.html");
    EXPECT_EQ(r.request.version_minor, 1);
    EXPECT_TRUE(r.request.keep_alive);
    EXPECT_EQ(r.request.head_bytes, req.size());
    EXPECT_EQ(r.request.content_length, 0u);
}

TEST(HttpParser, EveryPrefixIsIncomplete) {
    const std::string req = "HEAD /a HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n";
    for (std::size_t n = 0; n < req.size(); ++n) {
        EXPECT_EQ(parse(req.substr(0, n)).status, ParseStatus::Incomplete) << n;
    }
    EXPECT_EQ(parse(req).status, ParseStatus::Complete);
}

TEST(HttpParser, BareLfAndLeadingEmptyLinesAccepted) {
    auto r = parse("\r\n\nGET / HTTP/1.1\nHost: x\n\n");
    ASSERT_EQ(r.status, ParseStatus::Complete);
    EXPECT_EQ(r.request.target, "/");
}

TEST(HttpParser, ConnectionCloseAndHttp10Defaults) {
    auto close11 = parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, CLOSE\r\n\r\n");
    ASSERT_EQ(close11.status, ParseStatus::Complete);
    EXPECT_FALSE(close11.request.keep_alive);
    auto plain10 = parse("GET / HTTP/1.0\r\n\r\n");  // no Host needed in 1.0
    ASSERT_EQ(plain10.status, ParseStatus::Complete);
    EXPECT_FALSE(plain10.request.keep_alive);
    EXPECT_EQ(plain10.request.version_minor, 0);
    auto keep10 = parse("GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n");
    ASSERT_EQ(keep10.status, ParseStatus::Complete);
    EXPECT_TRUE(keep10.request.keep_alive);
}

TEST(HttpParser, ContentLengthIsReportedForSkipping) {
    auto r = parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    ASSERT_EQ(r.status, ParseStatus::Complete);
    EXPECT_EQ(r.request.content_length, 5u);
    EXPECT_EQ(r.request.total_bytes(), r.request.head_bytes + 5);
}

void expect_bad(const std::string& req, int code) {
    auto r = parse(req);
    EXPECT_EQ(r.status, ParseStatus::Bad) << req;
    EXPECT_EQ(r.error_code, code) << req << " -> " << r.error;
    EXPECT_FALSE(r.error.empty());
}

TEST(HttpParser, MalformedRequestsAre400) {
    expect_bad("GET\r\n\r\n", 400);                                   // no target
    expect_bad("GET /\r\nHost: x\r\n\r\n", 400);                      // no version
    expect_bad("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400);            // double space
    expect_bad("GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400);       // four parts
    expect_bad("G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400);             // not a token
    expect_bad("GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400);             // not HTTP
    expect_bad("GET / HTTP/1.11\r\nHost: x\r\n\r\n", 400);            // bad version syntax
    expect_bad("GET / HTTP/1.1\r\n\r\n", 400);                        // 1.1 without Host
    expect_bad("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);  // two Hosts
    expect_bad("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);            // space before colon
    expect_bad("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400);
    expect_bad("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n", 400);  // obs-fold
    expect_bad("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400);
    expect_bad("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
    expect_bad(std::string("GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
}

TEST(HttpParser, UnsupportedVersionAndCodingAndSize) {
    expect_bad("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
    expect_bad("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501);
    const std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(kMaxHeadBytes, 'a');
    expect_bad(big, 431);               // no end yet, already too long
    expect_bad(big + "\r\n\r\n", 431);  // complete but too long
}

TEST(HttpParser, OtherMethodsParseForA405) {
    auto r = parse("DELETE /x HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(r.status, ParseStatus::Complete);
    EXPECT_EQ(r.request.method, "DELETE");
}

TEST(HttpTarget, MapsToRelativePaths) {
    EXPECT_EQ(target_to_path("/"), "");
    EXPECT_EQ(target_to_path("/index.html"), "index.html");
    EXPECT_EQ(target_to_path("/a//b/./c.txt?x=1#f"), "a/b/c.txt");
    EXPECT_EQ(target_to_path("/with%20space"), "with space");
    EXPECT_EQ(target_to_path("http://198.18.0.2/a/b"), "a/b");
    EXPECT_EQ(target_to_path("http://198.18.0.2"), "");
    EXPECT_EQ(target_to_path("/a..b/..c"), "a..b/..c");  // only whole ".." segments are special
}

TEST(HttpTarget, RejectsEscapesAndOddForms) {
    EXPECT_FALSE(target_to_path("/.."));
    EXPECT_FALSE(target_to_path("/../etc/passwd"));
    EXPECT_FALSE(target_to_path("/a/../../b"));
    EXPECT_FALSE(target_to_path("/a/b/.."));
    EXPECT_FALSE(target_to_path("/%2e%2e/etc/passwd"));  // decoded before the check
    EXPECT_FALSE(target_to_path("/a%2f..%2fb"));         // an encoded '/' is refused
    EXPECT_FALSE(target_to_path("/a%00b"));
    EXPECT_FALSE(target_to_path("/a\\b"));
    EXPECT_FALSE(target_to_path("/bad%zz"));
    EXPECT_FALSE(target_to_path("/trunc%4"));
    EXPECT_FALSE(target_to_path("*"));
    EXPECT_FALSE(target_to_path("relative/path"));
}

TEST(HttpTarget, ContentTypesAndReasons) {
    EXPECT_EQ(content_type_for("a/index.HTML"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("x.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(content_type_for("x.png"), "image/png");
    EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
    EXPECT_EQ(content_type_for("dir.d/noext"), "application/octet-stream");
    EXPECT_EQ(reason_phrase(404), "Not Found");
    EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
}

}  // namespace
}  // namespace tunstackd::http
