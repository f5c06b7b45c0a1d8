// tools/common/iperf3: the protocol pieces shared by tunstackd's iperf3 service and tunstack
// iperf3 — parameter checks (what the server accepts and refuses, with which iperf3 error),
// results, framing and the incremental control reader. The messages are iperf 3.12's own, as
// captured from the real binary (`iperf3 -c ... --debug`).
#include <gtest/gtest.h>

#include <string>

#include "tools/common/iperf3.hpp"

namespace {

namespace ip3 = tools::iperf3;
using tools::json::Value;

Value json(std::string_view text) {
    auto v = tools::json::parse(text);
    EXPECT_TRUE(v) << text;
    return v ? *v : Value();
}

TEST(Iperf3Protocol, StatesAreIperfsBytes) {
    EXPECT_EQ(ip3::state_byte(ip3::State::ParamExchange), 9);
    EXPECT_EQ(ip3::state_byte(ip3::State::AccessDenied), 0xff);
    EXPECT_EQ(ip3::state_byte(ip3::State::ServerError), 0xfe);
    EXPECT_EQ(ip3::parse_state(16), ip3::State::IperfDone);
    EXPECT_EQ(ip3::parse_state(0), std::nullopt);
    EXPECT_EQ(ip3::parse_state(3), std::nullopt);
    EXPECT_EQ(ip3::parse_state(0x80), std::nullopt);
}

TEST(Iperf3Protocol, CookiesAre36PrintableCharactersAndNul) {
    const std::string real("lu6wbseg6uj2ywsno7ov7vuhnqmld24axrt7\0", 37);
    EXPECT_TRUE(ip3::valid_cookie(real));
    EXPECT_FALSE(ip3::valid_cookie(real.substr(0, 36)));
    std::string no_nul = real;
    no_nul.back() = 'x';
    EXPECT_FALSE(ip3::valid_cookie(no_nul));
    std::string ctl = real;
    ctl[3] = '\x01';
    EXPECT_FALSE(ip3::valid_cookie(ctl));
    std::uint8_t random[36];
    for (int i = 0; i < 36; ++i) random[i] = static_cast<std::uint8_t>(i * 37);
    const std::string c = ip3::make_cookie(random);
    EXPECT_TRUE(ip3::valid_cookie(c));
    EXPECT_EQ(c.find_first_not_of(std::string("abcdefghijklmnopqrstuvwxyz234567\0", 33)),
              std::string::npos);
}

TEST(Iperf3Protocol, StreamIdsSkipTwo) {
    EXPECT_EQ(ip3::stream_id(0), 1);
    EXPECT_EQ(ip3::stream_id(1), 3);
    EXPECT_EQ(ip3::stream_id(3), 5);
}

TEST(Iperf3Protocol, AcceptsIperf312Parameters) {
    auto p = ip3::parse_params(
        json(R"({"tcp":true,"omit":0,"time":3,"num":0,"blockcount":0,"parallel":4,)"
             R"("reverse":true,"len":131072,"pacing_timer":1000,"client_version":"3.12"})"),
        {});
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_TRUE(p->reverse);
    EXPECT_EQ(p->parallel, 4);
    EXPECT_EQ(p->duration_s, 3);
    EXPECT_EQ(p->len, 131072);
    EXPECT_EQ(p->client_version, "3.12");
    // A forward test with a bitrate limit: the client paces, nothing for the server to do.
    auto f =
        ip3::parse_params(json(R"({"tcp":true,"time":1,"bandwidth":1000000,"extra":[1]})"), {});
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->reverse);
    EXPECT_EQ(f->parallel, 1);
}

TEST(Iperf3Protocol, RefusesWithIperfsErrorNumbers) {
    const ip3::ServerLimits limits;
    struct Case {
        const char* params;
        std::int32_t code;
    };
    for (const Case& c : {
             Case{R"([1])", ip3::kErrRecvParams},
             Case{R"({"udp":true,"time":1})", ip3::kErrProtocol},
             Case{R"({"time":1})", ip3::kErrProtocol},
             Case{R"({"tcp":true,"sctp":true})", ip3::kErrProtocol},
             Case{R"({"tcp":true,"bidirectional":true})", ip3::kErrUnimplemented},
             Case{R"({"tcp":true,"time":0,"num":1048576})", ip3::kErrUnimplemented},
             Case{R"({"tcp":true,"blockcount":5})", ip3::kErrUnimplemented},
             Case{R"({"tcp":true,"time":3601})", ip3::kErrDuration},
             Case{R"({"tcp":true,"time":0})", ip3::kErrDuration},
             Case{R"({"tcp":true,"time":"10"})", ip3::kErrDuration},
             Case{R"({"tcp":true,"time":1.5})", ip3::kErrDuration},
             Case{R"({"tcp":true,"parallel":129})", ip3::kErrNumStreams},
             Case{R"({"tcp":true,"parallel":-1})", ip3::kErrNumStreams},
             Case{R"({"tcp":true,"parallel":18446744073709551615})", ip3::kErrNumStreams},
             Case{R"({"tcp":true,"omit":61})", ip3::kErrOmit},
             Case{R"({"tcp":true,"len":0})", ip3::kErrBlockSize},
             Case{R"({"tcp":true,"reverse":true,"bandwidth":1000})", ip3::kErrUnimplemented},
         }) {
        auto p = ip3::parse_params(json(c.params), limits);
        ASSERT_FALSE(p) << c.params;
        EXPECT_EQ(p.error().code, c.code) << c.params << ": " << p.error().message;
    }
    ip3::ServerLimits tight;
    tight.max_streams = 2;
    EXPECT_FALSE(ip3::parse_params(json(R"({"tcp":true,"parallel":3})"), tight));
}

TEST(Iperf3Protocol, ParamsJsonIsWhatIperf312Sends) {
    ip3::TestParams p;
    p.parallel = 2;
    p.duration_s = 1;
    p.client_version = "3.12";
    EXPECT_EQ(tools::json::serialize(ip3::params_json(p)),
              R"({"tcp":true,"omit":0,"time":1,"num":0,"blockcount":0,"parallel":2,)"
              R"("len":131072,"pacing_timer":1000,"client_version":"3.12"})");
    p.reverse = true;
    auto back = ip3::parse_params(ip3::params_json(p), {});
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->reverse);
}

TEST(Iperf3Protocol, ParsesIperf312Results) {
    // A receiver's results as iperf 3.12 writes them (-1 as an unsigned 64-bit number).
    auto r = ip3::parse_results(json(
        R"({"cpu_util_total":22.2,"cpu_util_user":1.1,"cpu_util_system":21.1,)"
        R"("sender_has_retransmits":18446744073709551615,"congestion_used":"bbr","streams":[)"
        R"({"id":1,"bytes":483655680,"retransmits":18446744073709551615,"jitter":0,"errors":0,)"
        R"("packets":0,"start_time":0,"end_time":1.046561},{"id":3,"bytes":467927040,)"
        R"("retransmits":18446744073709551615,"jitter":0,"errors":0,"packets":0,"start_time":0,)"
        R"("end_time":1.046564}]})"));
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->sender_has_retransmits, -1);
    EXPECT_EQ(r->congestion, "bbr");
    ASSERT_EQ(r->streams.size(), 2u);
    EXPECT_EQ(r->streams[1].id, 3);
    EXPECT_EQ(r->streams[1].bytes, 467927040);
    EXPECT_EQ(r->streams[1].retransmits, -1);
    EXPECT_DOUBLE_EQ(r->streams[0].end_time, 1.046561);
    for (const char* bad : {R"([])", R"({"streams":[]})",
                            R"({"cpu_util_total":1,"cpu_util_user":1,"cpu_util_system":1,)"
                            R"("sender_has_retransmits":1})",
                            R"({"cpu_util_total":1,"cpu_util_user":1,"cpu_util_system":1,)"
                            R"("sender_has_retransmits":1,"streams":[{"id":1}]})",
                            R"({"cpu_util_total":1,"cpu_util_user":1,"cpu_util_system":1,)"
                            R"("sender_has_retransmits":1,"streams":[{"id":0,"bytes":1,)"
                            R"("retransmits":0}]})",
                            R"({"cpu_util_total":1,"cpu_util_user":1,"cpu_util_system":1,)"
                            R"("sender_has_retransmits":1,"streams":[{"id":1,"bytes":-5,)"
                            R"("retransmits":0}]})"}) {
        EXPECT_FALSE(ip3::parse_results(json(bad))) << bad;
    }
}

TEST(Iperf3Protocol, ResultsRoundTrip) {
    ip3::Results r;
    r.cpu_total = 12.5;
    r.sender_has_retransmits = 1;
    r.congestion = "cubic";
    r.streams.push_back({1, 1000, 2, 0, 3.0});
    r.streams.push_back({3, 5000000000LL, 0, 0, 3.0});
    auto back = ip3::parse_results(ip3::results_json(r));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->streams[1].bytes, 5000000000LL);
    EXPECT_EQ(back->streams[0].retransmits, 2);
    EXPECT_EQ(back->congestion, "cubic");
}

TEST(Iperf3Protocol, ControlReaderTakesStatesAndMessagesInPieces) {
    const std::string msg = ip3::frame(json(R"({"a":1})"));
    ASSERT_EQ(msg.substr(0, 4), std::string("\0\0\0\x07", 4));
    ip3::ControlReader r;
    const std::string wire = std::string(1, '\x0d') + msg + std::string(1, '\x0e');
    Value v;
    std::string error;
    // Byte by byte: nothing is taken before it is complete.
    r.feed(wire.substr(0, 1));
    EXPECT_EQ(r.take_byte(), 13);
    for (std::size_t i = 1; i < 1 + msg.size(); ++i) {
        EXPECT_EQ(r.take_message(v, error), ip3::ControlReader::Take::NeedMore);
        r.feed(wire.substr(i, 1));
    }
    ASSERT_EQ(r.take_message(v, error), ip3::ControlReader::Take::Ok) << error;
    EXPECT_EQ(v.find("a")->as_int(), 1);
    EXPECT_EQ(r.take_byte(), std::nullopt);
    r.feed(wire.substr(wire.size() - 1));
    EXPECT_EQ(r.take_byte(), 14);
}

TEST(Iperf3Protocol, ControlReaderRefusesBadLengthsAndJson) {
    Value v;
    std::string error;
    for (const std::string& bad : {std::string("\0\0\0\0", 4), std::string("\x7f\xff\xff\xff", 4),
                                   std::string("\0\x01\0\x01", 4)}) {
        ip3::ControlReader r;
        r.feed(bad);
        EXPECT_EQ(r.take_message(v, error), ip3::ControlReader::Take::Error);
    }
    ip3::ControlReader r;
    r.feed(std::string("\0\0\0\x03{x}", 7));
    EXPECT_EQ(r.take_message(v, error), ip3::ControlReader::Take::Error);
    EXPECT_NE(error.find("JSON"), std::string::npos);
}

TEST(Iperf3Protocol, ServerErrorCarriesTwoBigEndianNumbers) {
    const std::string e = ip3::server_error(ip3::kErrNumStreams, 22);
    ASSERT_EQ(e.size(), 9u);
    EXPECT_EQ(static_cast<std::uint8_t>(e[0]), 0xfe);
    ip3::ControlReader r;
    r.feed(e.substr(1));
    std::int32_t code = 0, err = 0;
    ASSERT_TRUE(r.take_error_numbers(code, err));
    EXPECT_EQ(code, 6);
    EXPECT_EQ(err, 22);
}

}  // namespace
