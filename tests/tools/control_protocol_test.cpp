// The control protocol between tunstackd and `tunstack stats|conns`
// (tools/common/control_protocol.hpp): reply framing (ok ... end / error), truncation detection,
// connection records and their ss-like listing.
#include "tools/common/control_protocol.hpp"

#include <gtest/gtest.h>

namespace tools::control {
namespace {

TEST(ControlProtocol, OkReplyRoundTrips) {
    std::string err;
    auto p = parse_reply(ok_reply("stat a 1\nstat b 2\n"), err);
    ASSERT_TRUE(p.has_value()) << err;
    EXPECT_EQ(*p, "stat a 1\nstat b 2\n");
    p = parse_reply(ok_reply(""), err);
    ASSERT_TRUE(p.has_value()) << err;
    EXPECT_EQ(*p, "");
    p = parse_reply(ok_reply("no newline"), err);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, "no newline\n");
}

TEST(ControlProtocol, ErrorsAndTruncationAreReported) {
    std::string err;
    EXPECT_FALSE(parse_reply(error_reply("unknown command 'x'\nsecond"), err).has_value());
    EXPECT_EQ(err, "unknown command 'x' second");
    EXPECT_FALSE(parse_reply("", err).has_value());
    EXPECT_NE(err.find("empty"), std::string::npos);
    EXPECT_FALSE(parse_reply("ok\nstat a 1\n", err).has_value());
    EXPECT_NE(err.find("truncated"), std::string::npos);
    EXPECT_FALSE(parse_reply("ok\nstat a 1end\n", err).has_value());
    EXPECT_FALSE(parse_reply("HTTP/1.1 200 OK\r\n", err).has_value());
    EXPECT_NE(err.find("malformed"), std::string::npos);
}

stack::tcp::ConnectionInfo sample() {
    stack::tcp::ConnectionInfo i;
    i.local = {stack::wire::Ipv4Address(198, 18, 0, 2), 80};
    i.remote = {stack::wire::Ipv4Address(198, 18, 0, 1), 40000};
    i.state = stack::tcp::TcpState::Established;
    i.send_queue = 1000;
    i.recv_queue = 7;
    i.cwnd = 14480;
    i.ssthresh = 7240;
    i.snd_wnd = 65535;
    i.rcv_wnd = 524288;
    i.smss = 1448;
    i.srtt = stack::Duration::micros(1500);
    i.rttvar = stack::Duration::micros(750);
    i.rto = stack::Duration::millis(200);
    i.retransmits = 3;
    i.sack = true;
    i.timestamps = true;
    i.window_scaling = true;
    i.snd_wscale = 7;
    i.rcv_wscale = 4;
    return i;
}

TEST(ControlProtocol, ConnectionRecordsRoundTrip) {
    const std::string line = encode_conn(sample());
    EXPECT_EQ(line,
              "conn local=198.18.0.2:80 remote=198.18.0.1:40000 state=ESTABLISHED sendq=1000 "
              "recvq=7 cwnd=14480 ssthresh=7240 snd_wnd=65535 rcv_wnd=524288 mss=1448 "
              "srtt_us=1500 rttvar_us=750 rto_us=200000 retrans=3 sack=1 ts=1 ws=1 "
              "snd_wscale=7 rcv_wscale=4\n");
    auto recs = parse_conns(line + "garbage\n" + line);
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].get("remote"), "198.18.0.1:40000");
    EXPECT_EQ(recs[0].num("cwnd"), 14480u);
    EXPECT_EQ(recs[0].num("missing"), 0u);
}

TEST(ControlProtocol, ConnsListingLooksLikeSs) {
    auto recs = parse_conns(encode_conn(sample()));
    const std::string out = format_conns(recs);
    EXPECT_EQ(out,
              "State        Recv-Q   Send-Q  Local Address:Port    Peer Address:Port   \n"
              "ESTAB             7     1000  198.18.0.2:80         198.18.0.1:40000\n"
              "\tsack ts wscale:7,4 rto:200 rtt:1.5/0.75 mss:1448 cwnd:10 (14480 B) "
              "ssthresh:5 (7240 B) snd_wnd:65535 rcv_wnd:524288 retrans:3\n");
    EXPECT_EQ(ss_state("SYN-RECEIVED"), "SYN-RECV");
    EXPECT_EQ(ss_state("TIME-WAIT"), "TIME-WAIT");
}

// Issue 11: `tunstack conns` shows the listeners (as `ss -tl`), filters by state and port like `ss
// state S sport/dport`, and has a JSON form.
TEST(ControlProtocol, ListenersFiltersAndJson) {
    const std::string payload =
        encode_listener(stack::wire::Ipv4Address(198, 18, 0, 2), 80, "http") +
        encode_listener(stack::wire::Ipv4Address(198, 18, 0, 2), 7, "echo") +
        "conn local=198.18.0.2:80 remote=198.18.0.1:40000 state=ESTABLISHED sendq=5 recvq=0 "
        "mss=1448 cwnd=14480\n"
        "conn local=198.18.0.2:7 remote=198.18.0.1:40001 state=TIME-WAIT sendq=0 recvq=0\n";
    const auto all = parse_conns(payload);
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0].get("state"), "LISTEN");
    EXPECT_EQ(all[0].get("local"), "198.18.0.2:80");
    EXPECT_EQ(all[0].get("service"), "http");
    EXPECT_EQ(all[0].get("remote"), "0.0.0.0:*");

    const std::string table = format_conns(all);
    EXPECT_NE(table.find("LISTEN            0        0  198.18.0.2:80         0.0.0.0:*\n"),
              std::string::npos)
        << table;
    // No detail line for a listener: the line after it is the next socket.
    EXPECT_NE(table.find("0.0.0.0:*\nLISTEN"), std::string::npos) << table;

    auto only = [&](ConnFilter f) {
        std::string got;
        for (const auto& c : filter_conns(all, f))
            got += c.get("state") + "@" + c.get("local") + " ";
        return got;
    };
    EXPECT_EQ(only({"listen", 0}), "LISTEN@198.18.0.2:80 LISTEN@198.18.0.2:7 ");
    EXPECT_EQ(only({"listening", 0}), "LISTEN@198.18.0.2:80 LISTEN@198.18.0.2:7 ");
    EXPECT_EQ(only({"estab", 0}), "ESTABLISHED@198.18.0.2:80 ");
    EXPECT_EQ(only({"ESTABLISHED", 0}), "ESTABLISHED@198.18.0.2:80 ");
    EXPECT_EQ(only({"connected", 0}), "ESTABLISHED@198.18.0.2:80 ");
    EXPECT_EQ(only({"time-wait", 0}), "TIME-WAIT@198.18.0.2:7 ");
    EXPECT_EQ(only({"", 7}), "LISTEN@198.18.0.2:7 TIME-WAIT@198.18.0.2:7 ");
    EXPECT_EQ(only({"", 40000}), "ESTABLISHED@198.18.0.2:80 ");  // the peer's port
    EXPECT_EQ(only({"listen", 7}), "LISTEN@198.18.0.2:7 ");
    EXPECT_EQ(only({"", 9}), "");
    std::string why;
    EXPECT_TRUE(valid_state_filter("syn-recv", why));
    EXPECT_TRUE(valid_state_filter("SYN-RECEIVED", why));
    EXPECT_FALSE(valid_state_filter("open", why));
    EXPECT_NE(why.find("unknown state 'open'"), std::string::npos) << why;

    const std::string json = format_conns_json(filter_conns(all, {"estab", 0}));
    EXPECT_EQ(json,
              "[\n  {\"cwnd\": 14480, \"local\": \"198.18.0.2:80\", \"mss\": 1448, \"recvq\": 0, "
              "\"remote\": \"198.18.0.1:40000\", \"sendq\": 5, \"state\": \"ESTABLISHED\"}\n]\n");
    EXPECT_EQ(format_conns_json({}), "[]\n");
}

}  // namespace
}  // namespace tools::control
