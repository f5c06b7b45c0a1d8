// tunstack get's URL parsing and HTTP/1.1 response parser (tools/tunstack/http_client.hpp): bodies by
// Content-Length, chunked (split at every byte) and close-delimited; errors for truncation.
#include "tools/tunstack/http_client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace tunstack {
namespace {

TEST(TunstackUrl, AcceptsIpv4LiteralHttpAndHttps) {
    std::string err;
    auto u = parse_url("http://198.18.0.1:8000/a/b?c=d#frag", err);
    ASSERT_TRUE(u) << err;
    EXPECT_EQ(u->host.to_string(), "198.18.0.1");
    EXPECT_EQ(u->port, 8000);
    EXPECT_EQ(u->path, "/a/b?c=d");
    EXPECT_EQ(u->host_header, "198.18.0.1:8000");
    auto d = parse_url("HTTP://198.18.0.1", err);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->port, 80);
    EXPECT_EQ(d->path, "/");
    EXPECT_EQ(d->host_header, "198.18.0.1");
    EXPECT_FALSE(d->https);
    auto h = parse_url("https://198.18.0.1/x", err);
    ASSERT_TRUE(h) << err;
    EXPECT_TRUE(h->https);
    EXPECT_EQ(h->port, 443);
    EXPECT_EQ(h->host_header, "198.18.0.1");
    EXPECT_TRUE(h->host_name.empty());
    auto h2 = parse_url("HTTPS://198.18.0.1:4433", err);
    ASSERT_TRUE(h2) << err;
    EXPECT_EQ(h2->host_header, "198.18.0.1:4433");
    // A query right after the authority gets the root path in front of it.
    auto q = parse_url("http://198.18.0.1:81?x=1#f", err);
    ASSERT_TRUE(q) << err;
    EXPECT_EQ(q->path, "/?x=1");
    EXPECT_EQ(q->host_header, "198.18.0.1:81");
    for (const char* bad : {"ftp://198.18.0.1/", "http://example.com/", "http://198.18.0.1:0/",
                            "http://198.18.0.1:70000/", "http://u@198.18.0.1/", "198.18.0.1",
                            "http://198.18.0.1/a b", "http://[::1]/"}) {
        err.clear();
        EXPECT_FALSE(parse_url(bad, err)) << bad;
        EXPECT_NE(err.find("bad URL"), std::string::npos) << bad;
    }
}

// Each rejection names its own problem: an IPv6 literal is not a bad port (its colons are not a
// port separator), a bad port is not a bad host.
TEST(TunstackUrl, ErrorsNameTheProblem) {
    const struct {
        const char* url;
        const char* says;
    } cases[] = {
        {"http://[::1]/", "IPv6 address literals are not supported"},
        {"https://[2001:db8::1]:8443/x", "IPv6 address literals are not supported"},
        {"http://[::1", "IPv6 address literals are not supported"},
        {"http://198.18.0.1:0/", "port must be 1..65535"},
        {"http://198.18.0.1:x/", "port must be 1..65535"},
        {"http://example.com/", "IPv4 address literal"},
        {"ftp://198.18.0.1/", "only http:// and https://"},
    };
    for (const auto& c : cases) {
        std::string err;
        EXPECT_FALSE(parse_url(c.url, err)) << c.url;
        EXPECT_NE(err.find(c.says), std::string::npos) << c.url << " -> " << err;
        if (std::string_view(c.says).find("port") == std::string_view::npos) {
            EXPECT_EQ(err.find("port must"), std::string::npos) << c.url << " -> " << err;
        }
    }
}

TEST(TunstackUrl, NamesOnlyThroughResolve) {
    std::string err;
    auto r = parse_resolve("Tunstack.Test:198.18.0.1", err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->name, "tunstack.test");
    auto u = parse_url("https://TUNSTACK.test:8443/p", err, r);
    ASSERT_TRUE(u) << err;
    EXPECT_EQ(u->host.to_string(), "198.18.0.1");
    EXPECT_EQ(u->host_name, "tunstack.test");
    EXPECT_EQ(u->host_header, "tunstack.test:8443");
    EXPECT_FALSE(parse_url("https://other.test/", err, r));
    EXPECT_NE(err.find("--resolve"), std::string::npos);
    for (const char* bad : {"tunstack.test", "tunstack.test:", ":198.18.0.1", "a..b:198.18.0.1",
                            "198.18.0.2:198.18.0.1", "x_y:198.18.0.1", "name:300.1.1.1"}) {
        err.clear();
        EXPECT_FALSE(parse_resolve(bad, err)) << bad;
        EXPECT_NE(err.find("--resolve"), std::string::npos) << bad;
    }
}

TEST(TunstackUrl, RequestIsHttp11WithHostAndClose) {
    std::string err;
    auto u = parse_url("http://198.18.0.1:8000/x", err);
    const std::string req = build_get(*u);
    EXPECT_EQ(req.rfind("GET /x HTTP/1.1\r\nHost: 198.18.0.1:8000\r\n", 0), 0u);
    EXPECT_NE(req.find("Connection: close\r\n"), std::string::npos);
    EXPECT_EQ(req.substr(req.size() - 4), "\r\n\r\n");
}

// Feeds `resp` one byte at a time (the hardest split) and returns the body; `st` gets the end state.
std::string run_bytewise(const std::string& resp, ResponseParser::Status& st, bool close_at_end,
                         std::string* error = nullptr) {
    std::string body;
    ResponseParser p([&](std::string_view b) { body.append(b); });
    st = ResponseParser::Status::NeedMore;
    for (char c : resp) {
        st = p.feed(std::string_view(&c, 1));
        if (st != ResponseParser::Status::NeedMore) break;
    }
    if (close_at_end && st == ResponseParser::Status::NeedMore) st = p.finish();
    if (error) *error = p.error();
    return body;
}

TEST(TunstackResponse, ContentLengthBodyStopsAtLength) {
    ResponseParser::Status st;
    auto body = run_bytewise("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", st, false);
    EXPECT_EQ(st, ResponseParser::Status::Done);
    EXPECT_EQ(body, "hello");
    // All at once, too.
    std::string whole;
    ResponseParser p([&](std::string_view b) { whole.append(b); });
    EXPECT_EQ(p.feed("HTTP/1.0 200 OK\nContent-Length: 3\n\nabc"), ResponseParser::Status::Done);
    EXPECT_EQ(whole, "abc");
    EXPECT_EQ(p.status_code(), 200);
}

TEST(TunstackResponse, ChunkedBodyWithExtensionsAndTrailers) {
    ResponseParser::Status st;
    auto body = run_bytewise(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n"
        "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: y\r\n\r\n",
        st, false);
    EXPECT_EQ(st, ResponseParser::Status::Done);
    EXPECT_EQ(body, "helloabcdefghijklmnopqrstuvwxyz");
}

TEST(TunstackResponse, CloseDelimitedAndTruncation) {
    ResponseParser::Status st;
    EXPECT_EQ(run_bytewise("HTTP/1.1 200 OK\r\n\r\nuntil close", st, true), "until close");
    EXPECT_EQ(st, ResponseParser::Status::Done);
    std::string err;
    run_bytewise("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", st, true, &err);
    EXPECT_EQ(st, ResponseParser::Status::Error);
    EXPECT_NE(err.find("5 of 10"), std::string::npos) << err;
    run_bytewise("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", st, true, &err);
    EXPECT_EQ(st, ResponseParser::Status::Error);
    run_bytewise("HTTP/1.1 200 OK\r\nContent-Le", st, true, &err);
    EXPECT_EQ(st, ResponseParser::Status::Error);
}

TEST(TunstackResponse, MalformedResponses) {
    for (const char* bad : {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
        ResponseParser::Status st;
        run_bytewise(bad, st, true);
        EXPECT_EQ(st, ResponseParser::Status::Error) << bad;
    }
}

TEST(TunstackResponse, ErrorStatusIsVisibleAfterHead) {
    ResponseParser p([](std::string_view) {});
    EXPECT_EQ(p.feed("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n"),
              ResponseParser::Status::NeedMore);
    EXPECT_TRUE(p.have_head());
    EXPECT_EQ(p.status_code(), 404);
    EXPECT_EQ(p.reason(), "Not Found");
}

}  // namespace
}  // namespace tunstack
